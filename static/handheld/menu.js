// The scan menu registers the service worker, so the handheld pages open later without a connection.
// The worker's address carries the build's version (data-sw), so a release is installed at once.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(document.querySelector("script[data-sw]").dataset.sw, { scope: "/h/" }).catch(() => {});
}

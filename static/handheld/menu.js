// The scan menu registers the service worker, so the handheld pages open later without a connection.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/h/sw.js", { scope: "/h/" }).catch(() => {});
}

// Keeps the handheld pages loading without a connection: pages network-first (fresh stock
// data when online, the last copy offline), static files cache-first. The API is never cached.
//
// The server writes the build's version (package version + digest of the static files) into
// VERSION, and the cache is named after it: a release installs a new worker at the next page load,
// which fetches the new files, takes over at once and deletes every older cache, so no handheld keeps
// running the JavaScript of the last release.

const VERSION = "__LOTWISE_BUILD__";
const PREFIX = "lotwise-handheld-";
const CACHE = PREFIX + VERSION;
const SHELL = ["/h/", "/h/lookup", "/h/receive", "/h/produce", "/h/pick"];
const STATIC = ["scan.js", "station.js", "outbox.js", "menu.js", "lookup.js", "receive.js", "produce.js", "pick.js",
                "picklists.js", "handheld.css"].map((f) => `/static/handheld/${f}`);

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then(async (cache) => {
    // Past the browser's HTTP cache: the files of this build, not what an older one left there.
    await cache.addAll(STATIC.map((url) => new Request(url, { cache: "reload" })));
    // Pages the user may not open (role) answer 403; cache those that load.
    await Promise.all(SHELL.map((url) => fetch(url, { credentials: "same-origin", cache: "reload" })
      .then((r) => (r.ok && !r.redirected ? cache.put(url, r) : null)).catch(() => null)));
  }).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("message", (event) => {
  if (event.data === "version" && event.source) event.source.postMessage({ version: VERSION, cache: CACHE });
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/h/")) {
    event.respondWith(fetch(request).then((response) => {
      if (response.ok && !response.redirected) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
      }
      return response;
    }).catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())));
    return;
  }
  if (url.pathname.startsWith("/static/handheld/")) {
    event.respondWith(caches.match(request, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
  }
});

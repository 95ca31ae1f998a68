// Bookings made without a connection wait in IndexedDB and are sent when it returns.
// Each carries the idempotency key it was given when the user confirmed, so a replay of a
// request the server already booked (answer lost on the way back) returns the first result.
// A booking sent with `conflicts: true` that the server refuses on replay (the lot went on hold
// meanwhile, say) is kept in "refused" until the user has dealt with it on the page that shows them
// (the Pick page's conflicts), so no scan made offline disappears without a word.

const DB_NAME = "lotwise-handheld";
const STORE = "outbox";
const REFUSED = "refused";
// Pick lists kept on the device for picking without a connection (picklists.js).
export const PICKLISTS = "picklists";
const KEYS = { [STORE]: "key", [REFUSED]: "key", [PICKLISTS]: "order_id" };
const listeners = new Set();

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 2);
    req.onupgradeneeded = () => {
      for (const [name, keyPath] of Object.entries(KEYS)) {
        if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name, { keyPath });
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function tx(mode, fn, store = STORE) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    const result = fn(t.objectStore(store));
    t.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function pending() {
  const items = (await tx("readonly", (s) => s.getAll())) || [];
  return items.sort((a, b) => a.created - b.created);
}

export function onChange(fn) { listeners.add(fn); }

// Bookings the server refused when they were replayed, oldest first.
export async function refused() {
  const items = (await tx("readonly", (s) => s.getAll(), REFUSED)) || [];
  return items.sort((a, b) => a.created - b.created);
}

export async function dismiss(key) {
  await tx("readwrite", (s) => s.delete(key), REFUSED);
}

async function changed(event) {
  const items = await pending();
  for (const fn of listeners) fn(items, event);
}

function csrf() {
  return document.querySelector("meta[name=csrf-token]").content;
}

async function post(item) {
  const response = await fetch(item.url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": item.key },
    body: JSON.stringify(item.body),
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, data };
}

// Send now if possible; without a connection keep it and answer {queued: true}.
export async function submit({ url, body, label, key, conflicts = false }) {
  const item = { key: key || newKey(), url, body, label, conflicts, created: Date.now() };
  if (navigator.onLine) {
    try {
      return await post(item);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;  // a TypeError is fetch's "no network"
    }
  }
  await tx("readwrite", (s) => s.put(item));
  await changed(null);
  return { queued: true, key: item.key };
}

let flushing = false;

// Send what waits, oldest first; stop at the first network failure and try again later.
export async function flush() {
  if (flushing || !navigator.onLine) return;
  flushing = true;
  try {
    for (const item of await pending()) {
      let result;
      try {
        result = await post(item);
      } catch (err) {
        if (err instanceof TypeError) break;
        throw err;
      }
      // The server is struggling, or the sign-in lapsed: keep it and retry later.
      if (result.status >= 500 || result.status === 401) break;
      if (!result.ok && item.conflicts) {
        const message = result.data.error ? result.data.error.message : `the server answered ${result.status}`;
        await tx("readwrite", (s) => s.put({ ...item, status: result.status, message, refused_at: Date.now() }),
                 REFUSED);
      }
      await tx("readwrite", (s) => s.delete(item.key));
      await changed({ item, result });
    }
  } finally {
    flushing = false;
  }
}

window.addEventListener("online", () => { flush(); });
setInterval(() => { flush(); }, 15000);

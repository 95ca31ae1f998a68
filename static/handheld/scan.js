// What every handheld page shares: the always-focused scan field fed by a wedge scanner, the
// camera or a photo; loud feedback; calls to the JSON API; the offline outbox and its list.

import * as outbox from "./outbox.js";
import { chosenStation } from "./station.js";

export const data = JSON.parse(document.getElementById("hh-data").textContent);
// The station this device works at (chosen once on the menu): its code goes with every scan.
export const station = chosenStation(data.stations || []);
if (station) data.station = station.code;
export const API = "/api/v1";
const GS = "\x1d";

// Text as the pages show it: a GS1 group separator kept in a supplier's lot code appears as ␝.
export const shown = (text) => String(text).split(GS).join("\u241d");

const $ = (id) => document.getElementById(id);
const field = $("hh-scan");
const statusBox = $("hh-status");

export class ApiError extends Error {
  constructor(message, status, field, title) {
    super(message); this.status = status; this.field = field; this.title = title;
  }
}
export class Offline extends Error {}

// JSON API call with the session's CSRF token; errors carry the server's words.
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(API + path, {
      method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content,
                 ...(body instanceof FormData || body === undefined ? {} : { "Content-Type": "application/json" }),
                 ...headers },
      body: body instanceof FormData || body === undefined ? body : JSON.stringify(body),
    });
  } catch (err) {
    throw new Offline("No connection");
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const e = json.error || {};
    throw new ApiError(e.message || `The server answered ${response.status}`, response.status, e.field, e.title);
  }
  return json;
}

// -- feedback: colour, sound and vibration, so a result is noticed without looking ------------

let audio = null;
function tone(freq, start, length, type) {
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.25, audio.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + length);
  osc.connect(gain).connect(audio.destination);
  osc.start(audio.currentTime + start);
  osc.stop(audio.currentTime + start + length);
}

function beep(kind) {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
    if (kind === "ok") {
      tone(1320, 0, 0.12, "sine");
    } else if (kind === "saved") {
      // Two soft rising notes: taken, but not booked yet; unlike both the booking chirp and the buzz.
      tone(660, 0, 0.1, "triangle");
      tone(880, 0.14, 0.14, "triangle");
    } else {
      tone(220, 0, 0.18, "square");
      tone(180, 0.24, 0.3, "square");
    }
  } catch (err) {
    // No audio device: the colour and the words still tell.
  }
}

// kind: "ok", "error", "saved" (accepted offline, sent when the connection returns) or "info" (no sound).
// With a detail, the message is one short line in bold and the detail follows below it.
const VIBRATE = { ok: 60, saved: [60, 80, 60], error: [200, 100, 200] };

export function say(kind, message, detail = "") {
  if (detail) {
    const line = document.createElement("strong");
    line.className = "hh-title";
    line.textContent = message;
    const more = document.createElement("span");
    more.className = "hh-detail";
    more.textContent = detail;
    statusBox.replaceChildren(line, more);
  } else {
    statusBox.textContent = message;
  }
  statusBox.className = `hh-status hh-${kind}`;
  document.body.classList.remove("hh-flash-ok", "hh-flash-error", "hh-flash-saved");
  if (kind in VIBRATE) {
    void document.body.offsetWidth;  // restart the flash animation
    document.body.classList.add(`hh-flash-${kind}`);
    beep(kind);
    if (navigator.vibrate) navigator.vibrate(VIBRATE[kind]);
  }
}

// A refusal from the API (an ApiError, or the error body of a queued request's answer): the
// server's short line in bold, its full message below; `fallback` is the bold line when the
// server gave none.
export function refused(error, fallback = "Refused") {
  const e = error || {};
  say("error", e.title || fallback, e.message || String(e));
}

// A location field starts at the station's location for this work (`which`: "receiving_location",
// "production_location" or "shipping_location") when the device has a station that names one.
export function stationDefault(select, which) {
  const code = station && station[which];
  if (code && [...select.options].some((o) => o.value === code)) select.value = code;
}

// -- the scan field stays focused --------------------------------------------------------------

const EDITABLE = new Set(["INPUT", "SELECT", "TEXTAREA"]);

export function refocus() {
  if (field && !field.closest("[hidden]")) field.focus({ preventScroll: true });
}

function keepFocus() {
  // Back to the scan field whenever focus lands nowhere useful: after a tap on a button,
  // after leaving another field, after a choice in a list.
  document.addEventListener("focusout", () => setTimeout(() => {
    const el = document.activeElement;
    if (!el || el === document.body || !EDITABLE.has(el.tagName) || el.type === "file") refocus();
  }, 0));
  document.addEventListener("change", (e) => {
    if (e.target.tagName === "SELECT") setTimeout(refocus, 0);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target !== field && e.target.tagName === "INPUT" && e.target.type !== "file") {
      e.preventDefault();
      refocus();
    }
  });
  window.addEventListener("focus", refocus);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refocus(); });
}

// -- reading a scan ----------------------------------------------------------------------------

let handler = null;
let busy = Promise.resolve();

// The keyboard, the camera and photos all end here, one scan at a time in arrival order.
function deliver(work) {
  busy = busy.then(work).catch((err) => (err instanceof ApiError ? refused(err, "Not done") : say("error", err.message)))
    .finally(refocus);
  return busy;
}

export async function parse(raw) {
  try {
    return await api("/scans/parse", { method: "POST", body: { raw, station: data.station || null } });
  } catch (err) {
    if (err instanceof Offline) return localParse(raw);
    throw err;
  }
}

function scanned(raw) {
  if (!raw.trim()) return;
  deliver(async () => {
    let result;
    try {
      result = await parse(raw);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) {
        say("error", "Not accepted", err.message);
        if (handler.onBadScan) handler.onBadScan(raw, err);
        return;
      }
      throw err;
    }
    await handler.onScan(result);
  });
}

// `hint`: the server's advice when nothing was read (why, judged from the image, and what to do).
function decoded(reads, message, hint = null) {
  const usable = reads.find((r) => r.scan) || null;
  if (!usable) {
    if (reads.length) say("error", `Not accepted: ${reads[0].error}`);
    else if (hint) say("error", "No barcode read", hint.message);
    else say("error", message);
    return false;
  }
  deliver(() => handler.onScan(usable.scan));
  return true;
}

// Offline, a label is read here well enough to fill in a form; the server checks it all when
// the queued booking arrives. Only the fields the handheld pages use are read.
const FIXED = { "00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6, "20": 2 };
const VARIABLE = ["10", "21", "30", "37", "240", "241", "400"];

export function localParse(raw) {
  let body = raw.trim().replace(/^\][A-Za-z]\d/, "");
  if (data.separator) body = body.split(data.separator).join(GS);
  const fields = {};
  if (/^\(\d{2,4}\)/.test(body)) {
    for (const m of body.matchAll(/\((\d{2,4})\)([^(]*)/g)) fields[m[1]] = m[2];
  } else if (/^\d{2}/.test(body) && (body.startsWith("01") || body.startsWith("240") || body.startsWith("02"))) {
    let i = 0;
    while (i < body.length) {
      if (body[i] === GS) { i += 1; continue; }
      let ai = body.slice(i, i + 2);
      if (VARIABLE.includes(body.slice(i, i + 3))) ai = body.slice(i, i + 3);
      if (/^3\d\d\d$/.test(body.slice(i, i + 4)) && !["30", "37"].includes(ai)) ai = body.slice(i, i + 4);
      i += ai.length;
      const len = FIXED[ai] || (ai.length === 4 ? 6 : null);
      let value;
      if (len) { value = body.slice(i, i + len); i += len; } else {
        const end = body.indexOf(GS, i);
        value = body.slice(i, end < 0 ? body.length : end);
        i = end < 0 ? body.length : end + 1;
      }
      fields[ai] = value;
    }
  }
  // Our plain label of a product without a GTIN: "SKU LOT" in its Code 128 or DataMatrix, the lot finder URL in
  // its QR code. It names the sku and the lot as a GS1 label would.
  let plain = null;
  if (!Object.keys(fields).length) {
    try {
      const url = /^https?:\/\//i.test(body) ? new URL(body) : null;
      if (url && url.pathname.replace(/\/+$/, "").endsWith("/lots/find") && url.searchParams.get("sku")
          && url.searchParams.get("code")) {
        plain = { sku: url.searchParams.get("sku"), lot: url.searchParams.get("code") };
      }
    } catch (err) {
      plain = null;
    }
    const space = body.indexOf(" ");
    if (!plain && space > 0 && data.products && data.products.some((p) => p.sku === body.slice(0, space))) {
      plain = { sku: body.slice(0, space), lot: body.slice(space + 1).trim() };
    }
    if (plain) { fields["240"] = plain.sku; fields["10"] = plain.lot; }
  }
  const date = (v) => v && v.length === 6 ? `20${v.slice(0, 2)}-${v.slice(2, 4)}-${v.slice(4, 6) === "00" ? "28" : v.slice(4, 6)}` : null;
  const gtin = fields["01"] || fields["02"] || null;
  const sku = fields["240"] || null;
  const text = Object.keys(fields).length ? null : body;
  const product = data.products ? data.products.find((p) => (gtin && p.gtin === gtin) || p.sku === (sku || text)) : null;
  return {
    offline: true, raw, kind: text || plain ? "text" : "gs1", gtin, sku, lot: fields["10"] || null,
    expiry: date(fields["17"] || fields["15"]), quantity: fields["30"] || fields["37"] || null, text,
    product: product ? { id: product.id, sku: product.sku, name: product.name, gtin: product.gtin,
                         unit: product.unit } : null,
    found_lot: null, order: null, message: "read offline; checked when the connection returns",
  };
}

// -- camera and photo --------------------------------------------------------------------------

let stream = null;
let timer = null;

function stopCamera() {
  if (timer) clearTimeout(timer);
  timer = null;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $("hh-video").hidden = true;
  refocus();
}

async function sendFrame(blob, frame) {
  const form = new FormData();
  form.append("image", blob, frame ? "frame.jpg" : blob.name || "photo.jpg");
  if (frame) form.append("frame", "true");
  if (data.station) form.append("station", data.station);
  return api("/scans/decode", { method: "POST", body: form });
}

// Sharpness of a frame: the variance of the Laplacian of its grey values on a small canvas.
// A shaken or unfocused frame scores low; the camera path sends the sharper frames.
const PROBE_WIDTH = 160;

export function sharpness(context, width, height) {
  const pixels = context.getImageData(0, 0, width, height).data;
  const grey = new Float32Array(width * height);
  for (let i = 0; i < grey.length; i += 1) {
    grey[i] = 0.299 * pixels[4 * i] + 0.587 * pixels[4 * i + 1] + 0.114 * pixels[4 * i + 2];
  }
  let sum = 0;
  let squares = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y += 1) {
    for (let x = 1; x < width - 1; x += 1) {
      const i = y * width + x;
      const lap = grey[i - 1] + grey[i + 1] + grey[i - width] + grey[i + width] - 4 * grey[i];
      sum += lap;
      squares += lap * lap;
      n += 1;
    }
  }
  return n ? squares / n - (sum / n) ** 2 : 0;
}

// Which frames go to the server: the first at once; then one at least nearly as sharp as the
// last frame sent (which did not read) goes at once, a blurrier one waits, and after `keep`
// waits the sharpest frame kept meanwhile goes.
export class FramePicker {
  constructor(keep = 3) {
    this.keep = keep;
    this.waiting = [];  // frames not sent yet, sharpest first: { sharpness, blob }
    this.lastSent = 0;
    this.waited = 0;
  }

  // Offer a frame; returns the frame to send now, or null to wait for a sharper one.
  offer(frame) {
    this.waiting.push(frame);
    this.waiting.sort((a, b) => b.sharpness - a.sharpness);
    this.waiting.length = Math.min(this.waiting.length, this.keep);
    const best = this.waiting[0];
    if (best.sharpness >= 0.8 * this.lastSent || this.waited >= this.keep) {
      this.waiting = [];
      this.waited = 0;
      this.lastSent = best.sharpness;
      return best;
    }
    this.waited += 1;
    return null;
  }
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("error", "The camera needs HTTPS here; use Photo instead");
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (err) {
    say("error", `No camera: ${err.message}`);
    return;
  }
  const video = $("hh-video-el");
  video.srcObject = stream;
  $("hh-video").hidden = false;
  await video.play();
  say("info", "Point the camera at the barcode");
  const detector = "BarcodeDetector" in window ? new window.BarcodeDetector() : null;
  const canvas = document.createElement("canvas");
  const probe = document.createElement("canvas");
  const picker = new FramePicker();
  let unread = 0;
  const tick = async () => {
    if (!stream) return;
    try {
      if (detector) {
        const found = await detector.detect(video);
        if (found.length) { stopCamera(); scanned(found[0].rawValue); return; }
      } else if (video.videoWidth) {
        probe.width = PROBE_WIDTH;
        probe.height = Math.max(1, Math.round(video.videoHeight * PROBE_WIDTH / video.videoWidth));
        const small = probe.getContext("2d", { willReadFrequently: true });
        small.drawImage(video, 0, 0, probe.width, probe.height);
        const score = sharpness(small, probe.width, probe.height);
        // A reduced frame keeps the upload small on a phone connection; 800 px still reads labels.
        const scale = Math.min(1, 800 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.8));
        const chosen = picker.offer({ sharpness: score, blob });
        if (chosen) {
          const answer = await sendFrame(chosen.blob, true);
          if (answer.reads.length && stream) {
            stopCamera();
            decoded(answer.reads, answer.message, answer.hint);
            return;
          }
          unread += 1;
          // After a few unread frames, the server's advice replaces "point the camera".
          if (answer.hint && unread >= 3 && stream) say("info", answer.hint.message);
        }
      }
    } catch (err) {
      stopCamera();
      say("error", err.message);
      return;
    }
    timer = setTimeout(tick, 400);
  };
  tick();
}

async function photoChosen(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  say("info", "Reading the photo…");
  try {
    const answer = await sendFrame(file, false);
    decoded(answer.reads, answer.message, answer.hint);
  } catch (err) {
    say("error", err instanceof Offline ? "No connection: a photo needs the network; type or scan instead"
                                        : `Photo not read: ${err.message}`);
  }
  refocus();
}

// -- the outbox on screen ----------------------------------------------------------------------

function showOutbox(items) {
  const box = $("hh-outbox");
  const list = $("hh-outbox-list");
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.textContent = `${item.label} — pending`;
    return li;
  }));
  box.hidden = items.length === 0;
  updateNet(items.length);
}

function updateNet(count) {
  const net = $("hh-net");
  const online = navigator.onLine;
  net.textContent = (online ? "online" : "offline") + (count ? ` · ${count} pending` : "");
  net.className = `hh-net ${online ? "" : "hh-offline"}`;
}

// -- start -------------------------------------------------------------------------------------

export function start(pageHandler) {
  handler = pageHandler;
  keepFocus();
  if (field) {
    // A wedge scanner types without the on-screen keyboard (inputmode="none"); "Type" switches the
    // field to text input for a code typed by hand, and back after it is entered.
    const typing = $("hh-type");
    const typed = (on) => {
      field.inputMode = on ? "text" : "none";
      if (typing) typing.setAttribute("aria-pressed", on ? "true" : "false");
    };
    if (typing) {
      typing.addEventListener("click", () => {
        typed(field.inputMode !== "text");
        field.blur();
        field.focus({ preventScroll: true });
      });
    }
    field.addEventListener("keydown", (e) => {
      // Wedge scanners end a read with Enter or Tab.
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        const raw = field.value;
        field.value = "";
        if (e.key === "Enter") typed(false);
        scanned(raw);
      }
    });
    $("hh-scan-form").addEventListener("submit", (e) => e.preventDefault());
    $("hh-camera").addEventListener("click", () => (stream ? stopCamera() : startCamera()));
    $("hh-camera-stop").addEventListener("click", stopCamera);
    $("hh-photo").addEventListener("change", photoChosen);
  }
  outbox.onChange((items, event) => {
    showOutbox(items);
    if (event && handler.onSent) handler.onSent(event.item, event.result);
  });
  outbox.pending().then(showOutbox);
  window.addEventListener("online", () => outbox.pending().then(showOutbox));
  window.addEventListener("offline", () => outbox.pending().then(showOutbox));
  outbox.flush();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(document.body.dataset.sw, { scope: "./" }).catch(() => {});
  }
  refocus();
}

export { outbox };

// Pick: open an order's pick list, go where it says, scan the lot; wrong lots are refused with the reason.
// Without a connection the list stored on the device stands in: a scan that matches it is saved and
// sent when the connection returns (the server checks it all again then); one that does not is refused
// at once. A saved pick the server refuses on its return comes back as a conflict to resolve.
import { api, data, Offline, outbox, refocus, refused, say, start, station } from "./scan.js";
import * as picklists from "./picklists.js";

const $ = (id) => document.getElementById(id);
const PICKS = (orderId) => `/api/v1/orders/${orderId}/picks`;
let order = null;
let rows = [];
let waiting = [];  // picks saved offline, not yet sent

// Saved picks count as picked here, so the list moves on and the same lot is not taken twice.
const queued = (row) => waiting
  .filter((i) => order && i.url === PICKS(order.id) && i.body.lot_id === row.lot_id && i.body.location === row.location)
  .reduce((sum, i) => sum + Number(i.body.quantity), 0);
const left = (row) => Number(row.quantity) - Number(row.picked_quantity) - queued(row);

function shown(id, list, stored) {
  order = { id, number: list.order_number, stored };
  rows = list.rows;
  $("pk-order").value = String(id);
  $("pk-list").hidden = false;
  $("pk-title").textContent = `${list.order_number} · ${list.customer_name || ""}`;
  $("pk-offline").hidden = !stored;
  if (stored) $("pk-offline").textContent = `From this device, saved ${picklists.savedAt(stored)}`;
  show();
}

async function open(id) {
  try {
    const list = await api(`/orders/${id}/pick-list`);
    await picklists.save(id, list);
    shown(id, list, null);
    await markStored();
    return true;
  } catch (err) {
    if (!(err instanceof Offline)) { refused(err, "Pick list not opened"); return false; }
    const stored = await picklists.get(id);
    if (!stored) {
      say("error", "No connection, and this order's pick list is not on this device: open it once online");
      return false;
    }
    shown(id, stored, stored);
    say("info", `No connection: order ${stored.order_number} as saved ${picklists.savedAt(stored)}; `
                + "scans are checked against it and sent when the connection returns");
    return true;
  }
}

function show() {
  if (!order) return;
  const next = rows.find((r) => left(r) > 0);
  const done = rows.filter((r) => left(r) <= 0).length;
  $("pk-progress").textContent = `${done} of ${rows.length} picks done`;
  $("pk-next").hidden = !next;
  $("pk-ship").hidden = Boolean(next) || rows.length === 0 || waiting.some((i) => i.url === PICKS(order.id));
  if (next) {
    $("pk-location").textContent = next.location;
    $("pk-lot").textContent = `${next.sku} lot ${next.lot_code}`;
    $("pk-qty").textContent = `${left(next)} ${next.unit}`;
  } else if (!rows.length) {
    $("pk-progress").textContent = "Nothing allocated to pick on this order";
  }
}

// The order list says which pick lists this device holds, and since when.
async function markStored() {
  const select = $("pk-order");
  const stored = await picklists.all();
  for (const list of stored) {
    let option = select.querySelector(`option[value="${list.order_id}"]`);
    if (!option) {
      option = document.createElement("option");
      option.value = String(list.order_id);
      select.append(option);
    }
    option.textContent = `${list.order_number} · ${list.customer_name || ""} · on device ${picklists.savedAt(list)}`;
  }
  $("pk-stored").textContent = stored.length
    ? `${stored.length} pick list(s) on this device, usable without a connection` : "";
}

async function offlineScan(r) {
  // An order's label opens its stored list, as online.
  const list = r.text && (await picklists.all()).find((l) => l.order_number === r.text);
  if (list) { await open(list.order_id); return; }
  if (!order) { say("error", "No connection: choose an order saved on this device first"); return; }
  const what = r.lot ? `lot ${r.lot}` : `"${r.raw.trim()}"`;
  const matching = picklists.rowsFor(rows, r);
  if (!matching.length) {
    const next = rows.find((x) => left(x) > 0);
    say("error", `Refused: ${what} is not on the pick list of order ${order.number}`
                 + (next ? `; take lot ${next.lot_code} at ${next.location}` : ""));
    return;
  }
  const row = matching.find((x) => left(x) > 0);
  if (!row) { say("error", `Refused: lot ${matching[0].lot_code} is already picked in full for order ${order.number}`); return; }
  const quantity = String(left(row));
  const label = `pick of ${quantity} ${row.unit} ${row.sku} lot ${row.lot_code} from ${row.location} for ${order.number}`;
  const result = await outbox.submit({ url: PICKS(order.id), label,
                                       body: { lot_id: row.lot_id, location: row.location, quantity }, conflicts: true });
  if (result.queued) { say("saved", `Saved, will be sent: ${label}`); return; }
  answered(result);
}

async function answered(result) {
  if (!result.ok) { refused(result.data.error || { message: `The server answered ${result.status}` }); return; }
  say("ok", result.data.message);
  await open(order.id);
}

// -- conflicts: saved picks the server refused when they were sent ---------------------------------

async function showConflicts() {
  const items = (await outbox.refused()).filter((i) => /^\/api\/v1\/orders\/\d+\/picks$/.test(i.url));
  $("pk-conflicts").hidden = items.length === 0;
  $("pk-conflict-list").replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    const what = document.createElement("p");
    what.textContent = `${item.label}: refused — ${item.message}`;
    const todo = document.createElement("p");
    todo.className = "hh-do";
    todo.textContent = `Put the lot back at ${item.body.location}, then pick what the list shows next.`;
    const done = document.createElement("button");
    done.type = "button";
    done.className = "hh-btn hh-quiet";
    done.textContent = "Put back: done";
    done.addEventListener("click", async () => {
      await outbox.dismiss(item.key);
      await showConflicts();
      refocus();
    });
    li.append(what, todo, done);
    return li;
  }));
}

start({
  async onScan(r) {
    if (r.offline) { await offlineScan(r); return; }
    if (r.order) { if (await open(r.order.id)) say("ok", `Order ${r.order.number}`); return; }
    if (!order) { say("error", "Scan or choose the order first"); return; }
    // A code several products share is settled by the order itself when only one of them is on it.
    const listed = (r.candidates || []).filter((c) => rows.some((x) => x.lot_id === c.lot_id && left(x) > 0));
    const lot = r.found_lot || (listed.length === 1
      ? { id: listed[0].lot_id, sku: listed[0].sku, code: listed[0].code, on_hand: listed[0].on_hand } : null);
    if (!lot) {
      say("error", r.candidates && r.candidates.length ? "Several products share this code" : "Lot not known",
          r.candidates && r.candidates.length ? `${r.message}: scan the lot's label instead` : r.message);
      return;
    }
    const row = rows.find((x) => x.lot_id === lot.id && left(x) > 0) || rows.find((x) => left(x) > 0);
    if (!row) { say("error", "Everything is picked", "Ship the order"); return; }
    const quantity = String(Math.min(left(row), Number(lot.on_hand)) || left(row));
    const label = `pick of ${quantity} ${lot.sku} lot ${lot.code} from ${row.location} for ${order.number}`;
    const result = await outbox.submit({ url: PICKS(order.id), label,
                                         body: { lot_id: lot.id, location: row.location, quantity }, conflicts: true });
    if (result.queued) { say("saved", `Saved, will be sent: ${label}`); return; }
    await answered(result);
  },
  async onSent(item, result) {
    if (!result.ok) {
      say("error", `Conflict: ${item.label} refused: ${result.data.error ? result.data.error.message : result.status}`);
      await showConflicts();
    } else {
      say("ok", `Sent: ${result.data.message || item.label}`);
    }
    if (order) await open(order.id);  // the list as the server has it now (re-allocated after a hold, say)
  },
});

outbox.onChange((items) => { waiting = items; show(); });
outbox.pending().then((items) => { waiting = items; show(); });
markStored();
showConflicts();

// A station that picks and ships from one warehouse lists that warehouse's orders first.
function stationFirst() {
  const code = station && station.shipping_location;
  const home = code && (data.locations || []).find((l) => l.code === code);
  if (!home) return;
  const select = $("pk-order");
  const byId = new Map((data.orders || []).map((o) => [String(o.id), o]));
  const options = [...select.options].filter((o) => o.value);
  const group = (label, keep) => {
    const g = document.createElement("optgroup");
    g.label = label;
    g.append(...options.filter((o) => keep(byId.get(o.value))));
    return g;
  };
  const ours = group(`${home.warehouse} · ${station.code}`, (o) => o && o.warehouse === home.warehouse);
  const others = group("Other warehouses", (o) => !o || o.warehouse !== home.warehouse);
  select.append(...[ours, others].filter((g) => g.children.length));
  $("pk-stored").dataset.home = home.warehouse;
}
stationFirst();

$("pk-order").addEventListener("change", () => { if ($("pk-order").value) open(Number($("pk-order").value)); });

$("pk-ship").addEventListener("click", async () => {
  const result = await outbox.submit({ url: `/api/v1/orders/${order.id}/ship-picked`, body: {},
                                       label: `shipment of ${order.number}` });
  if (result.queued) say("info", "No connection: the shipment will be sent when it returns");
  else if (result.ok) {
    say("ok", `Shipped ${order.number}: ${result.data.number}`);
    $("pk-ship").hidden = true;
    await picklists.forget(order.id);
  } else refused(result.data.error || { message: `The server answered ${result.status}` }, "Not shipped");
  refocus();
});

// Pick: open an order's pick list, go where it says, scan the lot; wrong lots are refused with the reason.
import { api, outbox, refocus, refused, say, start } from "./scan.js";

const $ = (id) => document.getElementById(id);
let order = null;
let rows = [];

const left = (row) => Number(row.quantity) - Number(row.picked_quantity);

async function open(id) {
  try {
    const list = await api(`/orders/${id}/pick-list`);
    order = { id, number: list.order_number };
    rows = list.rows;
    $("pk-order").value = String(id);
    $("pk-list").hidden = false;
    $("pk-title").textContent = `${list.order_number} · ${list.customer_name || ""}`;
    show();
  } catch (err) {
    refused(err, "Pick list not opened");
  }
}

function show() {
  const next = rows.find((r) => left(r) > 0);
  const done = rows.filter((r) => left(r) <= 0).length;
  $("pk-progress").textContent = `${done} of ${rows.length} picks done`;
  $("pk-next").hidden = !next;
  $("pk-ship").hidden = Boolean(next) || rows.length === 0;
  if (next) {
    $("pk-location").textContent = next.location;
    $("pk-lot").textContent = `${next.sku} lot ${next.lot_code}`;
    $("pk-qty").textContent = `${left(next)} ${next.unit}`;
  } else if (!rows.length) {
    $("pk-progress").textContent = "Nothing allocated to pick on this order";
  }
}

start({
  async onScan(r) {
    if (r.order) { await open(r.order.id); say("ok", `Order ${r.order.number}`); return; }
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
    const label = `pick of ${quantity} ${lot.sku} lot ${lot.code}`;
    const result = await outbox.submit({ url: `/api/v1/orders/${order.id}/picks`, label,
                                         body: { lot_id: lot.id, location: row.location, quantity } });
    if (result.queued) { say("info", `No connection: the ${label} will be sent when it returns`); return; }
    if (!result.ok) { refused(result.data.error || { message: `The server answered ${result.status}` }); return; }
    say("ok", result.data.message);
    await open(order.id);
  },
  onSent(item, result) {
    if (!result.ok) refused(result.data.error || { message: `${item.label}: the server answered ${result.status}` });
    else if (order) open(order.id);
  },
});

$("pk-order").addEventListener("change", () => { if ($("pk-order").value) open(Number($("pk-order").value)); });

$("pk-ship").addEventListener("click", async () => {
  const result = await outbox.submit({ url: `/api/v1/orders/${order.id}/ship-picked`, body: {},
                                       label: `shipment of ${order.number}` });
  if (result.queued) say("info", "No connection: the shipment will be sent when it returns");
  else if (result.ok) { say("ok", `Shipped ${order.number}: ${result.data.number}`); $("pk-ship").hidden = true; }
  else refused(result.data.error || { message: `The server answered ${result.status}` }, "Not shipped");
  refocus();
});

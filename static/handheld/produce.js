// Produce: choose what to make and how much, scan each input lot (refused if it may not be used), finish.
import { data, outbox, refocus, refused, say, start, stationDefault } from "./scan.js";

const $ = (id) => document.getElementById(id);
let inputs = [];
let key = outbox.newKey();

function product() { return data.products.find((p) => p.sku === $("pr-product").value) || null; }

function render() {
  const list = $("pr-inputs");
  if (!inputs.length) {
    const li = document.createElement("li");
    li.className = "hh-empty";
    li.textContent = "Scan each input lot's label";
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...inputs.map((input, i) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = `${input.sku} lot ${input.code} (${input.on_hand} ${input.unit} on hand)`;
    const qty = document.createElement("input");
    qty.type = "text";
    qty.inputMode = "decimal";
    qty.value = input.quantity;
    qty.setAttribute("aria-label", `Quantity of lot ${input.code}`);
    qty.addEventListener("change", () => { input.quantity = qty.value.trim(); });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", `Remove lot ${input.code}`);
    remove.addEventListener("click", () => { inputs.splice(i, 1); render(); say("info", `Lot ${input.code} removed`); });
    li.append(name, qty, remove);
    return li;
  }));
}

function defaultQuantity(lot) {
  // Everything on hand, but never more than the batch when both count in the same unit.
  const onHand = Number(lot.on_hand);
  const out = product();
  const batch = Number($("pr-qty").value);
  if (out && out.unit === lot.unit && batch > 0 && batch < onHand) return String(batch);
  return lot.on_hand;
}

start({
  async onScan(r) {
    $("pr-done").hidden = true;
    $("pr-form").hidden = false;
    const lot = r.found_lot;
    if (!lot) {
      if (r.offline) say("error", "No connection", "Input lots are checked on the server; try again when online");
      else say("error", r.candidates && r.candidates.length ? "Several products share this code" : "No such lot",
               r.candidates && r.candidates.length ? `${r.message}: scan the lot's label instead` : r.message);
      return;
    }
    if (lot.problem) { say("error", lot.problem_title || "Refused", lot.problem); return; }
    if (Number(lot.on_hand) <= 0) { say("error", "Nothing on hand", `Lot ${lot.code} has nothing on hand`); return; }
    if (inputs.some((x) => x.id === lot.id)) { say("error", `Lot ${lot.code} is already in the list`); return; }
    inputs.push({ id: lot.id, sku: lot.sku, code: lot.code, unit: lot.unit, on_hand: lot.on_hand,
                  quantity: defaultQuantity(lot) });
    render();
    say("ok", `Added ${lot.sku} lot ${lot.code}`);
  },
  onSent(item, result) {
    if (result.ok) done(result.data);
    else refused(result.data.error || { message: `${item.label}: the server answered ${result.status}` }, "Not recorded");
  },
});

$("pr-product").addEventListener("change", () => {
  const p = product();
  $("pr-unit").textContent = p ? `(${p.unit})` : "";
});

function done(run) {
  $("pr-form").hidden = true;
  $("pr-done").hidden = false;
  $("pr-done-lot").textContent = run.output_lot_code;
  $("pr-done-expiry").textContent = run.expiry ? `Use by ${run.expiry}` : "No expiry";
  $("pr-print").href = `/labels/print?lot=${run.output_lot_id}`;
  say("ok", `Made ${run.output_quantity} ${run.sku}: lot ${run.output_lot_code}`);
}

$("pr-again").addEventListener("click", () => {
  $("pr-done").hidden = true;
  $("pr-form").hidden = false;
  refocus();
});

$("pr-finish").addEventListener("click", async () => {
  const p = product();
  const problems = [];
  if (!p) problems.push("choose the product");
  if (!(Number($("pr-qty").value) > 0)) problems.push("enter the batch size");
  if (!inputs.length) problems.push("scan the input lots");
  if (problems.length) { say("error", `First ${problems.join(", ")}`); refocus(); return; }
  const body = { sku: p.sku, quantity: $("pr-qty").value.trim(), location: $("pr-location").value,
                 inputs: inputs.map((x) => ({ lot_id: x.id, quantity: x.quantity })) };
  const label = `batch of ${body.quantity} ${p.sku}`;
  const result = await outbox.submit({ url: "/api/v1/production-runs", key, label, body });
  if (result.queued) {
    say("info", `No connection: the ${label} will be sent when it returns`);
  } else if (result.ok) {
    done(result.data);
  } else {
    refused(result.data.error || { message: `The server answered ${result.status}` }, "Not recorded");
    refocus();
    return;
  }
  inputs = [];
  key = outbox.newKey();
  $("pr-qty").value = "";
  render();
  refocus();
});

stationDefault($("pr-location"), "production_location");

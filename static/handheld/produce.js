// Produce: choose what to make and how much, scan each input lot (refused if it may not be used), finish.
// With a recipe the batch is planned: the page shows each input's planned, scanned and remaining quantity,
// and a scanned lot's quantity starts at what the recipe still needs, capped by what the lot has.
import { api, ApiError, data, outbox, refocus, refused, say, start, stationDefault } from "./scan.js";

const $ = (id) => document.getElementById(id);
let inputs = [];
let plan = null;  // the recipe scaled to the batch size, from the server
let key = outbox.newKey();

function product() { return data.products.find((p) => p.sku === $("pr-product").value) || null; }

// Kitchen quantities to the gram: enough places, no float noise ("0.30000000000000004").
const num = (x) => String(Math.round(x * 1000) / 1000);

function scanned(sku) {
  return inputs.filter((x) => x.sku === sku).reduce((sum, x) => sum + (Number(x.quantity) || 0), 0);
}

function remaining(need) { return Math.max(Number(need.planned) - scanned(need.sku), 0); }

function renderNeeds() {
  $("pr-needs-box").hidden = !plan;
  if (!plan) return;
  $("pr-needs").replaceChildren(...plan.inputs.map((need) => {
    const li = document.createElement("li");
    const left = remaining(need);
    li.className = left > 0 ? "" : "hh-need-done";
    li.dataset.sku = need.sku;
    const head = document.createElement("div");
    head.textContent = `${need.sku} · ${need.name}`;
    const counts = document.createElement("div");
    counts.className = "hh-need-counts";
    counts.textContent = `planned ${num(Number(need.planned))} ${need.unit} · scanned ${num(scanned(need.sku))} ${need.unit}`;
    const still = document.createElement("div");
    still.className = "hh-need-left";
    const over = scanned(need.sku) - Number(need.planned);
    still.textContent = left > 0 ? `still ${num(left)} ${need.unit}` : over > 0 ? `done, ${num(over)} ${need.unit} over` : "done";
    li.append(head, counts, still);
    const taken = new Set(inputs.map((x) => x.id));
    const next = need.lots.filter((lot) => !taken.has(lot.lot_id));
    if (left > 0 && next.length) {
      const hint = document.createElement("div");
      hint.className = "hh-note";
      hint.textContent = "take " + next.map((lot) => `lot ${lot.lot_code} (${lot.location}, use by ${lot.expiry || "—"})`).join(", then ");
      li.append(hint);
    } else if (left > 0 && Number(need.short) > 0) {
      const hint = document.createElement("div");
      hint.className = "hh-note";
      hint.textContent = `no usable stock for ${num(Number(need.short))} ${need.unit}`;
      li.append(hint);
    }
    return li;
  }));
}

function render() {
  renderNeeds();
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
    qty.placeholder = input.unit;
    qty.setAttribute("aria-label", `Quantity of lot ${input.code}`);
    qty.addEventListener("change", () => { input.quantity = qty.value.trim(); renderNeeds(); });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", `Remove lot ${input.code}`);
    remove.addEventListener("click", () => { inputs.splice(i, 1); render(); say("info", `Lot ${input.code} removed`); });
    li.append(name, qty, remove);
    return li;
  }));
}

// What a scanned lot starts at: the recipe's remaining need, never more than the lot has; without a
// recipe (or for an input the recipe does not name) nothing: the operator types what was used.
function startQuantity(lot) {
  const need = plan && plan.inputs.find((n) => n.sku === lot.sku);
  if (!need) return "";
  const left = remaining(need);
  return left > 0 ? num(Math.min(left, Number(lot.on_hand))) : "";
}

async function loadPlan() {
  const p = product();
  const batch = $("pr-qty").value.trim();
  $("pr-made-field").hidden = !(p && p.recipe);
  if (!p || !p.recipe || !(Number(batch) > 0)) { plan = null; render(); return; }
  const query = new URLSearchParams({ quantity: batch, location: $("pr-location").value });
  try {
    plan = await api(`/products/${encodeURIComponent(p.sku)}/recipe/plan?${query}`);
    say("info", `Recipe for ${num(Number(batch))} ${p.unit}: scan ${plan.inputs.map((n) => n.sku).join(", ")}`);
  } catch (err) {
    plan = null;
    say("error", err instanceof ApiError ? `Recipe: ${err.message}` : "No connection: the recipe could not be loaded");
  }
  render();
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
    const quantity = startQuantity(lot);
    inputs.push({ id: lot.id, sku: lot.sku, code: lot.code, unit: lot.unit, on_hand: lot.on_hand, quantity });
    render();
    if (quantity) say("ok", `Added ${lot.sku} lot ${lot.code}: ${quantity} ${lot.unit}`);
    else if (plan && !plan.inputs.some((n) => n.sku === lot.sku)) say("ok", `Added ${lot.sku} lot ${lot.code}: not in the recipe, enter the quantity`);
    else say("ok", `Added ${lot.sku} lot ${lot.code}: enter the quantity used`);
  },
  onSent(item, result) {
    if (result.ok) done(result.data);
    else refused(result.data.error || { message: `${item.label}: the server answered ${result.status}` }, "Not recorded");
  },
});

$("pr-product").addEventListener("change", () => {
  const p = product();
  $("pr-unit").textContent = p ? `(${p.unit})` : "";
  loadPlan();
});
$("pr-qty").addEventListener("change", loadPlan);
$("pr-location").addEventListener("change", loadPlan);

function done(run) {
  $("pr-form").hidden = true;
  $("pr-done").hidden = false;
  $("pr-done-lot").textContent = run.output_lot_code;
  $("pr-done-expiry").textContent = run.expiry ? `Use by ${run.expiry}` : "No expiry";
  $("pr-print").href = `/labels/print?lot=${run.output_lot_id}`;
  const made = `Made ${run.output_quantity} ${run.sku}: lot ${run.output_lot_code}`;
  say("ok", run.yield_pct ? `${made} (yield ${run.yield_pct} %)` : made);
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
  const blank = inputs.filter((x) => !(Number(x.quantity) > 0));
  if (blank.length) problems.push(`enter the quantity of lot ${blank.map((x) => x.code).join(", ")}`);
  if (problems.length) { say("error", `First ${problems.join(", ")}`); refocus(); return; }
  const batch = $("pr-qty").value.trim();
  const body = { sku: p.sku, quantity: batch, location: $("pr-location").value,
                 inputs: inputs.map((x) => ({ lot_id: x.id, quantity: x.quantity })) };
  if (plan) {
    body.planned_quantity = batch;
    body.quantity = $("pr-made").value.trim() || batch;
  }
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
  plan = null;
  key = outbox.newKey();
  $("pr-qty").value = "";
  $("pr-made").value = "";
  render();
  refocus();
});

stationDefault($("pr-location"), "production_location");

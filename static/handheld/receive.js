// Receive: scan the supplier's case label, check what it filled in, choose supplier and place, confirm.
import { api, data, outbox, refocus, refused, say, shown, start, stationDefault } from "./scan.js";

const $ = (id) => document.getElementById(id);
let topUp = null;       // the lot code to top up when the label names a lot we already have
let unknownGtin = null; // a GTIN no product has yet: remembered for the product chosen
let key = outbox.newKey();

// count × content exactly, as decimal strings: "3" × "0.25" = "0.75" (no floating point).
function times(count, content) {
  const scale = (content.split(".")[1] || "").length;
  const digits = (BigInt(count) * BigInt(content.replace(".", ""))).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

// Offline the server cannot convert a case count: the page knows each product's cases and does it.
function offlineCount(r) {
  const pack = (data.packs || []).find((p) => p.gtin === r.gtin);
  if (!pack) return r;
  const p = data.products.find((x) => x.sku === pack.sku);
  const out = { ...r, product: { id: p.id, sku: p.sku, name: p.name, gtin: p.gtin, unit: p.unit } };
  if (r.quantity && /^\d+$/.test(r.quantity)) {
    out.receive_quantity = times(r.quantity, pack.content);
    out.conversion = `${r.quantity} ${pack.level}${r.quantity === "1" ? "" : "s"} × ${pack.content} ${p.unit} = ${out.receive_quantity} ${p.unit}`;
  }
  return out;
}

function note(text, bad) {
  $("rc-conv").textContent = text || "";
  $("rc-conv").hidden = !text;
  $("rc-conv").classList.toggle("hh-bad", Boolean(bad));
}

function product() { return data.products.find((p) => p.sku === $("rc-product").value) || null; }

function setUnit() {
  const p = product();
  $("rc-unit").textContent = p ? `(${p.unit})` : "";
}

function clear() {
  for (const id of ["rc-lot", "rc-expiry", "rc-qty"]) $(id).value = "";
  $("rc-product").value = "";
  $("rc-gtin").hidden = true;
  note(null);
  topUp = null;
  unknownGtin = null;
  key = outbox.newKey();
  stationDefault($("rc-location"), "receiving_location");
setUnit();
}

async function rememberGtin() {
  const p = product();
  if (!unknownGtin || !p) return;
  try {
    await api("/scans/remember-gtin", { method: "POST", body: { product_id: p.id, gtin: unknownGtin } });
    p.gtin = unknownGtin;
    say("ok", `GTIN ${unknownGtin} is now ${p.sku}`);
    unknownGtin = null;
    $("rc-gtin").hidden = true;
  } catch (err) {
    refused(err, "GTIN not remembered");
  }
}

start({
  async onScan(scan) {
    const r = scan.offline ? offlineCount(scan) : scan;
    $("rc-done").hidden = true;
    $("rc-form").hidden = false;
    const labelled = r.kind === "gs1" || r.kind === "digital_link" || r.kind === "gtin";
    if (!labelled && !r.product && product()) {
      // A plain label on a known product: what it says is the supplier's lot code.
      $("rc-lot").value = r.text || r.raw;
      say("ok", `Lot ${shown($("rc-lot").value)}`);
      return;
    }
    if (!labelled && !r.product) { say("error", r.message); return; }
    key = outbox.newKey();
    topUp = null;
    if (r.product) {
      $("rc-product").value = r.product.sku;
      $("rc-gtin").hidden = true;
      unknownGtin = null;
    } else if (r.gtin && !r.gtin.startsWith("0")) {
      // A case or pallet GTIN (indicator digit 1-8) is never taught as a product's own GTIN.
      unknownGtin = null;
      $("rc-product").value = "";
      $("rc-gtin").hidden = true;
    } else if (r.gtin) {
      unknownGtin = r.gtin;
      $("rc-product").value = "";
      $("rc-gtin").textContent = `New GTIN ${r.gtin}: choose its product once, it will be remembered`;
      $("rc-gtin").hidden = false;
    }
    stationDefault($("rc-location"), "receiving_location");
setUnit();
    if (r.lot) $("rc-lot").value = r.lot;
    if (r.expiry || r.best_before) $("rc-expiry").value = r.expiry || r.best_before;
    // Only a quantity in the product's unit goes into the field: a count of cases is converted first.
    // A (30) count on a GTIN about to become the product's own counts the product's units.
    const itemCount = (r.elements || []).some(([ai]) => ai === "30") && unknownGtin;
    const quantity = r.receive_quantity || (itemCount ? r.quantity : null)
      || (r.offline && r.product && !/^[1-8]/.test(r.gtin || "") ? r.quantity : null);
    if (quantity) $("rc-qty").value = quantity;
    if (r.conversion) note(r.conversion, false);
    else if (r.quantity && !quantity) note(`The label counts ${r.quantity}: enter the quantity in ${product() ? product().unit : "the product's unit"}`, true);
    else note(null);
    if (r.found_lot && r.found_lot.supplier_lot_code === r.lot) topUp = r.found_lot;
    if (r.found_lot && r.found_lot.supplier_id) $("rc-supplier").value = String(r.found_lot.supplier_id);
    // A new GTIN of the product itself is taught below; anything else missing is said as the server words it.
    if (r.missing && !unknownGtin) { say("error", r.missing); return; }
    const what = r.product ? r.product.name : "Unknown product";
    say(r.product ? "ok" : "error", `${what}${r.conversion ? `: ${r.conversion}` : ""}${r.lot ? `, lot ${r.lot}` : ""}${topUp ? " (tops up lot " + topUp.code + ")" : ""}${r.offline ? " — read offline" : ""}`);
  },
  onSent(item, result) {
    if (result.ok) done(result.data, item.label);
    else refused(result.data.error || { message: `${item.label}: the server answered ${result.status}` }, "Not received");
  },
});

$("rc-product").addEventListener("change", () => { setUnit(); rememberGtin(); });

function done(receipt, label) {
  const line = receipt.lines[0];
  $("rc-form").hidden = true;
  $("rc-done").hidden = false;
  $("rc-done-lot").textContent = line.lot_code;
  $("rc-done-text").textContent = `${line.quantity} of ${line.sku} into ${line.location} (${receipt.number})`;
  $("rc-print").href = `/labels/print?lot=${line.lot_id}`;
  say("ok", `Received ${label}: lot ${line.lot_code}`);
}

$("rc-clear").addEventListener("click", () => { clear(); say("info", "Cleared"); });

$("rc-confirm").addEventListener("click", async () => {
  const p = product();
  const problems = [];
  if (!p) problems.push("choose the product");
  if (!$("rc-qty").value.trim()) problems.push("enter the quantity");
  if (!$("rc-supplier").value) problems.push("choose the supplier");
  if (problems.length) { say("error", `First ${problems.join(", ")}`); refocus(); return; }
  const line = { sku: p.sku, quantity: $("rc-qty").value.trim(), location: $("rc-location").value,
                 expiry: $("rc-expiry").value || null };
  const lot = $("rc-lot").value.trim();
  if (topUp && topUp.supplier_lot_code === lot) {
    Object.assign(line, { lot_code: topUp.code, top_up: true, supplier_lot_code: lot });
  } else if (lot) {
    line.supplier_lot_code = lot;
  }
  const label = `${line.quantity} ${p.unit} ${p.sku}${lot ? " lot " + shown(lot) : ""}`;
  const result = await outbox.submit({ url: "/api/v1/receipts", key, label,
                                       body: { supplier_id: Number($("rc-supplier").value), lines: [line] } });
  if (result.queued) {
    say("info", `No connection: ${label} will be sent when it returns`);
    clear();
  } else if (result.ok) {
    done(result.data, label);
    clear();
  } else {
    refused(result.data.error || { message: `The server answered ${result.status}` }, "Not received");
  }
  refocus();
});

stationDefault($("rc-location"), "receiving_location");
setUnit();

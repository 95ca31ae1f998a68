// Lookup: scan any label and see the lot — status, expiry, stock, where it came from and went.
import { api, data, refocus, say, shown, start } from "./scan.js";

const $ = (id) => document.getElementById(id);
let current = null;

function show(lot) {
  current = lot;
  $("lookup-result").hidden = false;
  $("lk-product").textContent = `${lot.sku} · ${lot.product_name}`;
  $("lk-code").textContent = `Lot ${lot.code}`;
  const state = lot.expired && lot.status === "released" ? "expired" : lot.status;
  $("lk-status").textContent = state === "hold" ? "on hold" : state;
  $("lk-status").className = `hh-badge ${state}`;
  $("lk-expiry").textContent = lot.expiry || "none";
  $("lk-onhand").textContent = `${lot.on_hand} ${lot.unit}`;
  const from = lot.origin === "receipt"
    ? `${lot.supplier_name || "supplier"}${lot.supplier_lot_code ? ` (lot ${shown(lot.supplier_lot_code)})` : ""}`
    : `made from ${lot.inputs} lot(s)`;
  $("lk-from").textContent = from;
  $("lk-to").textContent = `${lot.outputs} lot(s) made from it, ${lot.shipments} shipment(s)`;
  $("lk-stock").replaceChildren(...lot.stock.map((s) => {
    const li = document.createElement("li");
    li.textContent = `${s.location} (${s.warehouse}): ${s.on_hand} ${lot.unit}`;
    return li;
  }));
  $("lk-link").href = `/lots/${lot.id}`;
  $("lk-hold").hidden = !data.operator || lot.status !== "released";
  $("lk-hold-form").hidden = true;
}

// A code several products share: each lot it may mean, as a big button; a tap looks that one up.
function choose(candidates) {
  $("lookup-result").hidden = true;
  $("lookup-choices").hidden = false;
  $("lk-choices").replaceChildren(...candidates.map((c) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "hh-btn hh-choice";
    const name = document.createElement("strong");
    name.textContent = `${c.sku} · ${c.product_name}`;
    const facts = document.createElement("span");
    facts.textContent = `Lot ${c.code} · expiry ${c.expiry || "none"} · ${c.on_hand} ${c.unit} on hand`;
    button.append(name, facts);
    button.addEventListener("click", async () => {
      try {
        const scan = await api("/scans/parse", { method: "POST", body: { raw: `(240)${c.sku}(10)${c.code}` } });
        $("lookup-choices").hidden = true;
        if (scan.found_lot) { show(scan.found_lot); say("ok", `${scan.found_lot.product_name}, lot ${scan.found_lot.code}`); }
      } catch (err) {
        say("error", "Not looked up", err.message);
      }
      refocus();
    });
    li.append(button);
    return li;
  }));
}

start({
  async onScan(result) {
    $("lookup-choices").hidden = true;
    if (result.candidates && result.candidates.length) {
      choose(result.candidates);
      say("info", "Several products share this code", "Choose the product below");
      return;
    }
    if (result.found_lot) {
      show(result.found_lot);
      const problem = result.found_lot.problem;
      if (problem) say("error", `Do not use: ${result.found_lot.problem_title || "blocked"}`, problem);
      else say("ok", `${result.found_lot.product_name}, lot ${result.found_lot.code}`);
    } else {
      $("lookup-result").hidden = true;
      say("error", result.product ? `${result.product.name}: scan a label with a lot on it` : result.message);
    }
  },
});

$("lk-hold-open").addEventListener("click", () => {
  $("lk-hold-form").hidden = false;
  $("lk-reason").focus();
});
$("lk-hold-confirm").addEventListener("click", async () => {
  const reason = $("lk-reason").value.trim();
  if (!reason) { say("error", "Say why the lot is held"); $("lk-reason").focus(); return; }
  try {
    const lot = await api(`/lots/${current.id}/hold`, { method: "POST", body: { reason } });
    const scan = await api("/scans/parse", { method: "POST", body: { raw: `(240)${lot.sku}(10)${lot.code}` } });
    if (scan.found_lot) show(scan.found_lot);
    $("lk-reason").value = "";
    say("ok", `Lot ${lot.code} is on hold`);
  } catch (err) {
    say("error", "Not held", err.message);
  }
  refocus();
});

// Pick lists kept on the device: every list opened with a connection is stored, so the picker can
// open it again in a cold room or a far aisle and have each scan checked against it there.

import { PICKLISTS, tx } from "./outbox.js";
import { localParse } from "./scan.js";

// Lists of orders still open are worth keeping; the oldest beyond this are dropped.
const KEEP = 30;

export async function all() {
  const lists = (await tx("readonly", (s) => s.getAll(), PICKLISTS)) || [];
  return lists.sort((a, b) => b.saved_at - a.saved_at);
}

export async function get(orderId) {
  return tx("readonly", (s) => s.get(orderId), PICKLISTS);
}

export async function save(orderId, list) {
  const stored = { order_id: orderId, order_number: list.order_number, customer_name: list.customer_name,
                   rows: list.rows, saved_at: Date.now() };
  await tx("readwrite", (s) => s.put(stored), PICKLISTS);
  const old = (await all()).slice(KEEP);
  if (old.length) await tx("readwrite", (s) => old.forEach((l) => s.delete(l.order_id)), PICKLISTS);
  return stored;
}

export async function forget(orderId) {
  await tx("readwrite", (s) => s.delete(orderId), PICKLISTS);
}

export const savedAt = (list) => new Date(list.saved_at).toLocaleString([], {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

// Which rows of a stored list a scan read offline names: the lot by GTIN or sku and lot code (as
// on the lot's GS1 label), or, typed, the lot code alone or the label's text.
export function rowsFor(rows, scan) {
  const raw = scan.raw.trim();
  return rows.filter((row) => {
    if (raw === row.barcode_text) return true;
    if (scan.text) return scan.text === row.lot_code;
    if (scan.lot !== row.lot_code) return false;
    const label = localParse(row.barcode_text);
    return Boolean((scan.gtin && scan.gtin === label.gtin) || (scan.sku && scan.sku === row.sku));
  });
}

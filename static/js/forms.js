// Small progressive enhancements for the pages; every form works without them.
(function () {
  "use strict";

  // "Add line": copy the last row of a table of lines, renumbering its field names (lines.4.sku → lines.5.sku).
  function addRow(table) {
    var body = table.tBodies[0];
    var last = body.rows[body.rows.length - 1];
    var row = last.cloneNode(true);
    var index = body.rows.length;
    var source = last.querySelectorAll("[name]");
    row.querySelectorAll("[name]").forEach(function (el, k) {
      el.name = el.name.replace(/^(\w+)\.\d+\./, "$1." + index + ".");
      if (el.id) { el.id = el.id.replace(/-\d+-/, "-" + index + "-"); }
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
      if (el.type === "checkbox") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = source[k].selectedIndex; }
      else { el.value = ""; }
    });
    row.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    var number = row.querySelector("[data-rowno]");
    if (number) { number.textContent = String(index + 1); }
    body.appendChild(row);
    var first = row.querySelector("input:not([type=hidden]), select");
    if (first) { first.focus(); }
  }

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    var card = button.closest(".card") || document;
    var table = card.querySelector("table[data-rows]");
    if (!table) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { addRow(table); });
  });

  // Forms that undo or cancel something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // A choice that changes what the page shows (the label preview's size) shows it at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // "Print" needs a script, so it appears only where one runs.
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();

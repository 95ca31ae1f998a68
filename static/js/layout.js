// Layout helpers of the office pages, all progressive: without this script the pages still work.
// - A table wider than its card scrolls inside a frame that says so (a shadow at the hidden edge and a
//   line "scroll sideways"), and the frame takes the keyboard focus so arrow keys scroll it.
// - Dates, times, document numbers and codes never break across lines in the middle.
// - The top bar's menus (<details>) close when another opens, on a click elsewhere and on Escape.
(function () {
  "use strict";

  function regionName(table) {
    if (table.getAttribute("aria-label")) return table.getAttribute("aria-label");
    var caption = table.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var card = table.closest("section, .card");
    var heading = card && card.querySelector("h2, h3");
    return (heading ? heading.textContent.trim() : "Table") + " (scrolls sideways)";
  }

  function frame(table) {
    if (table.parentElement && table.parentElement.classList.contains("table-scroll")) return table.parentElement;
    var wrap = document.createElement("div");
    wrap.className = "table-scroll";
    table.parentNode.insertBefore(wrap, table);
    wrap.appendChild(table);
    return wrap;
  }

  function update(wrap) {
    var table = wrap.querySelector("table");
    var wide = wrap.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("scrolls", wide);
    wrap.classList.toggle("at-start", wrap.scrollLeft <= 1);
    wrap.classList.toggle("at-end", wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1);
    if (wide) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", regionName(table));
    } else {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
    }
  }

  function frameTables() {
    var frames = [];
    document.querySelectorAll("main table.table, main table.partners").forEach(function (table) {
      if (table.closest(".tree")) return; // the trace tree's small tables wrap with it
      frames.push(frame(table));
    });
    frames.forEach(function (wrap) {
      update(wrap);
      wrap.addEventListener("scroll", function () { update(wrap); }, { passive: true });
    });
    var pending = false;
    window.addEventListener("resize", function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        frames.forEach(update);
      });
    });
  }

  // A date (2026-12-05), a time stamp (2026-12-05 14:30), a document number (SO-000042, R-000001) or a
  // code with hyphens (JAM-RASP-340, 261123-A, RB-7731): one unit each, kept on one line.
  var TOKEN = /\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?|[A-Za-z0-9]+(?:[-\/][A-Za-z0-9]+)+/g;
  var SKIP = { SCRIPT: 1, STYLE: 1, TEXTAREA: 1, OPTION: 1, SELECT: 1, CODE: 1, PRE: 1 };

  function keepTokensWhole(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var parent = node.parentElement;
        if (!parent || SKIP[parent.tagName] || parent.closest(".nowrap, svg")) return NodeFilter.FILTER_REJECT;
        TOKEN.lastIndex = 0;
        return TOKEN.test(node.nodeValue) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      var text = node.nodeValue;
      var parts = document.createDocumentFragment();
      var last = 0;
      TOKEN.lastIndex = 0;
      var match;
      while ((match = TOKEN.exec(text)) !== null) {
        if (match[0].indexOf("-") < 0 && match[0].indexOf("/") < 0) continue;
        if (match.index > last) parts.appendChild(document.createTextNode(text.slice(last, match.index)));
        var span = document.createElement("span");
        span.className = "nowrap";
        span.textContent = match[0];
        parts.appendChild(span);
        last = match.index + match[0].length;
      }
      if (last === 0) return;
      if (last < text.length) parts.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(parts, node);
    });
  }

  function menus() {
    var all = Array.prototype.slice.call(document.querySelectorAll("details.menu"));
    all.forEach(function (menu) {
      menu.addEventListener("toggle", function () {
        if (!menu.open) return;
        all.forEach(function (other) { if (other !== menu) other.open = false; });
      });
    });
    document.addEventListener("click", function (event) {
      all.forEach(function (menu) { if (menu.open && !menu.contains(event.target)) menu.open = false; });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      all.forEach(function (menu) {
        if (!menu.open) return;
        menu.open = false;
        menu.querySelector("summary").focus();
      });
    });
  }

  var main = document.querySelector("main");
  if (main) keepTokensWhole(main);
  frameTables();
  menus();
})();

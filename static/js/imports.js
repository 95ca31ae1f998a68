// The import page: while the file is being checked or imported, poll its status and move the bar;
// when the run ends, load the page again to show the report.
(function () {
  "use strict";
  const box = document.getElementById("import-state");
  if (!box) return;
  const running = ["uploaded", "checking", "importing"];
  if (!running.includes(box.dataset.status)) return;
  const bar = document.getElementById("import-progress");
  const count = document.getElementById("import-count");

  async function poll() {
    let state;
    try {
      const answer = await fetch(box.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!answer.ok) throw new Error(String(answer.status));
      state = await answer.json();
    } catch (err) {
      setTimeout(poll, 2000);
      return;
    }
    if (!running.includes(state.status)) {
      window.location.reload();
      return;
    }
    if (bar && state.rows_total) {
      bar.max = Math.max(state.rows_total, state.rows_done, 1);
      bar.value = state.rows_done;
    }
    if (count) count.textContent = state.rows_done + " of " + (state.rows_total || "?") + " rows read";
    setTimeout(poll, 700);
  }
  setTimeout(poll, 300);
})();

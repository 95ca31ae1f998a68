// Reloads a page that shows work in progress (notices going out) every few seconds, while it says so.
const marker = document.querySelector("[data-refresh]");
if (marker) {
  const seconds = Math.max(2, Number(marker.dataset.refresh) || 5);
  setTimeout(() => window.location.reload(), seconds * 1000);
}

// The handheld menu: four big buttons, and the station this device works at, chosen once and
// remembered on the device. It also registers the service worker, so the handheld pages open
// later without a connection; the worker's address carries the build's version (data-sw), so a
// release is installed at once.
import { chosenStation, remember } from "./station.js";

const data = JSON.parse(document.getElementById("hh-data").textContent);
const choice = document.getElementById("hh-station-choice");
const note = document.getElementById("hh-station-note");

function describe(station) {
  if (!station) return "No station: Receive starts at a receiving location, Produce at a production location.";
  const parts = [["Receive into", station.receiving_location], ["Produce into", station.production_location],
                 ["Pick from", station.shipping_location]].filter(([, code]) => code);
  return `${station.name}. ${parts.map(([what, code]) => `${what} ${code}`).join(" · ") || "No default locations set."}`;
}

const current = chosenStation(data.stations || []);
choice.value = current ? current.code : "";
note.textContent = describe(current);
choice.addEventListener("change", () => {
  remember(choice.value);
  note.textContent = describe((data.stations || []).find((s) => s.code === choice.value) || null);
});

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(document.querySelector("script[data-sw]").dataset.sw, { scope: "/h/" }).catch(() => {});
}

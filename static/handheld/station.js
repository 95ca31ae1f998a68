// The station a handheld works at: chosen once on the /h/ menu and remembered on the device, shown in
// the header of every handheld page. Its locations are where Receive, Produce and Pick start.
const KEY = "lotwise.station";

export function storedCode() {
  try { return localStorage.getItem(KEY) || ""; } catch (err) { return ""; }
}

export function remember(code) {
  try {
    if (code) localStorage.setItem(KEY, code); else localStorage.removeItem(KEY);
  } catch (err) {
    // Private browsing without storage: the choice lasts for this page only.
  }
  showInHeader(code);
}

// The chosen station among those the server offers (a station since made inactive is forgotten).
export function chosenStation(stations) {
  const code = storedCode();
  return stations.find((s) => s.code === code) || null;
}

function showInHeader(code) {
  const badge = document.getElementById("hh-station");
  if (!badge) return;
  badge.textContent = code || "no station";
  badge.classList.toggle("hh-station-none", !code);
}

const data = JSON.parse(document.getElementById("hh-data").textContent);
const current = chosenStation(data.stations || []);
showInHeader(current ? current.code : "");

// Renders ZPL labels to PNG with zpl-renderer-js (Zebrash compiled to WebAssembly), a renderer written
// independently of Lotwise: reads [{zpl, width_mm, height_mm, dpmm}] as JSON on stdin and writes the
// PNGs as base64 strings, one per label, as JSON on stdout. Works offline once the package is installed.
const { ready } = require("zpl-renderer-js");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  try {
    const { api } = await ready;
    const out = [];
    for (const job of JSON.parse(input)) {
      out.push(await api.zplToBase64Async(job.zpl, job.width_mm, job.height_mm, job.dpmm));
    }
    // Exit only once the pipe has taken everything: the WebAssembly runtime would keep Node alive.
    process.stdout.write(JSON.stringify(out), () => process.exit(0));
  } catch (err) {
    process.stderr.write(String(err && err.stack ? err.stack : err));
    process.exit(1);
  }
});

"""ZPL rendered by an independent renderer (the npm package zpl-renderer-js, run by Node), as images.

Where it is looked for: the node_modules folder named by LOTWISE_NODE_MODULES (`.ci/run` installs the
package there), else `.node/node_modules` in the checkout (ignored by git). `npm install --prefix .node
'zpl-renderer-js@^3'` sets it up locally; without Node or the package the tests that need it are skipped
with the reason.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("zpl_render.cjs")
PACKAGE = "zpl-renderer-js"


def node_modules() -> Path | None:
    """The node_modules folder holding the renderer, or None."""
    candidates = [os.environ.get("LOTWISE_NODE_MODULES", ""), str(ROOT / ".node" / "node_modules")]
    for folder in candidates:
        if folder and (Path(folder) / PACKAGE / "package.json").is_file():
            return Path(folder)
    return None


def missing() -> str | None:
    """Why the renderer cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed (the independent ZPL renderer runs in Node)"
    if node_modules() is None:
        return (f"the npm package {PACKAGE} is not installed: set LOTWISE_NODE_MODULES to its node_modules "
                f"folder, or run npm install --prefix .node '{PACKAGE}@^3' (.ci/run installs it)")
    return None


@dataclass(frozen=True)
class Job:
    zpl: str
    width_in: float
    height_in: float
    dpi: int


def render(jobs: list[Job]) -> list[Image.Image]:
    """Each ZPL label as the renderer draws it, in greyscale, at the printer's resolution."""
    folder = node_modules()
    assert folder is not None, missing()
    payload = [{"zpl": j.zpl, "width_mm": j.width_in * 25.4, "height_mm": j.height_in * 25.4,
                "dpmm": 8 if j.dpi == 203 else 12} for j in jobs]
    env = {**os.environ, "NODE_PATH": str(folder)}
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return [Image.open(io.BytesIO(base64.b64decode(png))).convert("L") for png in json.loads(done.stdout)]

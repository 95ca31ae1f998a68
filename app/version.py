"""The build's version: the package version plus a digest of the static files.

The handheld pages' service worker names its cache after it, so a release that changes any script or
style reaches every phone at its next page load instead of leaving it on the JavaScript it cached.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path


def package_version() -> str:
    try:
        return metadata.version("lotwise")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0"


def build_version(static_dir: Path) -> str:
    """`<package version>-<12 hex digits>`: any change to a file under `static_dir` changes the digits."""
    digest = hashlib.sha256()
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(static_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return f"{package_version()}-{digest.hexdigest()[:12]}"

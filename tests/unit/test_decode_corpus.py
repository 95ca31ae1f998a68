"""Real phone photos, when a folder of them is at hand: `LOTWISE_SCAN_CORPUS=DIR` (with a manifest.csv).

CI has no such folder; the benchmark (`python -m benchmarks.bench_decode --corpus DIR`) measures the
same with times. The bounds here are the floor the decoder must not fall under.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanning import decode
from tests.helpers.photo_folder import expected_values, load, read_value

FOLDER = os.environ.get("LOTWISE_SCAN_CORPUS")

pytestmark = pytest.mark.skipif(not FOLDER, reason="LOTWISE_SCAN_CORPUS does not name a folder of real photos")


def test_real_photos_read_right_and_almost_never_wrong() -> None:
    photos = load(Path(str(FOLDER)))
    codes = read = wrong = 0
    for photo in photos:
        expected = expected_values(photo)
        # A generous budget: this checks what is read, not how fast on a busy machine.
        values = {read_value(d.text, d.format) for d in decode(photo.path.read_bytes(), budget_ms=3000)}
        codes += len(photo.codes)
        read += len(values & expected)
        wrong += len(values - expected)
    assert read >= 0.9 * codes, f"read {read} of {codes}"
    # A folder of public test photos has a few mislabelled ones; more than 1 % is the decoder.
    assert wrong <= 0.01 * codes, f"{wrong} wrong reads in {codes} codes"

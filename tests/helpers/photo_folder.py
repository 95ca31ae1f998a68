"""A folder of real barcode photos described by a `manifest.csv`, and when a decoder read them right.

The manifest has the columns path, format, expected_text, source_repo, source_path, kind, width,
height, gs1; an image holding several barcodes has one row per barcode. The equivalence rules
(the folder's README states them too):

- GS1 data is compared without its symbology identifier (`]C1`, `]d2`, `]Q3`, ...) and without a
  leading FNC1 / ASCII 29; fields stay separated by ASCII 29 as the decoder returns them.
- EAN-13, EAN-8 and UPC-A are compared as GTIN-14: UPC-A `012345678905` is EAN-13
  `0012345678905`, so a UPC-A read as 12 digits matches an expectation written as 13 and back.
- Everything else is compared exactly.

A read is right when its value equals the value of any barcode in the image (a photo of a
label with two codes may be answered with either); any other value is a wrong read.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_RETAIL = {"ean13", "ean8", "upca"}


@dataclass(frozen=True)
class Expected:
    format: str
    text: str
    kind: str
    gs1: bool


@dataclass(frozen=True)
class Photo:
    path: Path
    name: str
    """The path inside the folder."""
    width: int
    height: int
    codes: tuple[Expected, ...]

    @property
    def kind(self) -> str:
        return self.codes[0].kind

    @property
    def format(self) -> str:
        return self.codes[0].format

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def value(text: str, *, retail: bool) -> str:
    """The text a read and an expectation are compared by (see the module's rules)."""
    text = _SYMBOLOGY_ID.sub("", text, count=1).lstrip("\x1d")
    if retail and text.isdigit() and len(text) in (8, 12, 13, 14):
        return text.zfill(14)
    return text


def expected_values(photo: Photo) -> set[str]:
    return {value(code.text, retail=code.format in _RETAIL) for code in photo.codes}


def read_value(text: str, fmt: str) -> str:
    """A decoder's answer in the compared form; `fmt` is the decoder's format name."""
    return value(text, retail=fmt in ("EAN-13", "EAN-8", "UPC-A", "UPC-E"))


def load(folder: Path) -> list[Photo]:
    """Every image the manifest names, with its barcodes; images in manifest order."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (folder / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["path"]].append(row)
    photos = []
    for name, group in rows.items():
        codes = tuple(
            Expected(format=row["format"], text=row["expected_text"], kind=row["kind"], gs1=row["gs1"] == "1")
            for row in group
        )
        photos.append(Photo(path=folder / name, name=name, width=int(group[0]["width"]),
                            height=int(group[0]["height"]), codes=codes))  # fmt: skip
    return photos


def halves(photos: list[Photo], seed: int) -> dict[str, list[Photo]]:
    """The photos split in two by a fixed seed, each format split evenly: "A" to tune, "B" to check."""
    by_format: dict[str, list[Photo]] = defaultdict(list)
    for photo in sorted(photos, key=lambda p: p.name):
        by_format[photo.format].append(photo)
    split: dict[str, list[Photo]] = {"A": [], "B": []}
    rng = random.Random(seed)
    for fmt in sorted(by_format):
        group = by_format[fmt]
        rng.shuffle(group)
        for i, photo in enumerate(group):
            split["AB"[i % 2]].append(photo)
    return split

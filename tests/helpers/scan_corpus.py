"""Deterministic photo-like barcode images for the scanning tests and the decode benchmark."""

from __future__ import annotations

import string
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from labels.gs1 import LotBarcodeData, digital_link, gtin_check_digit, human_readable

TODAY = date(2025, 6, 1)
"""The `today` the corpus was made for: expiry dates lie after it, parse() must be given it."""

BASE_URL = "https://lotwise.example/l"

FORMATS = (
    "gs1-128",
    "gs1-datamatrix",
    "gs1-qr",
    "digital-link-qr",
    "ean-13",
    "upc-a",
    "code-128",
)
CONDITIONS = (
    "clean",
    "rotated",
    "perspective",
    "blur",
    "motion",
    "noise",
    "glare",
    "low-contrast",
    "12mp",
)
BLANK_KINDS = ("texture", "text", "noise", "gradient", "stripes", "boxes", "12mp")

# What a decoder should report for each corpus format.
DECODED_FORMAT = {
    "gs1-128": "GS1-128",
    "gs1-datamatrix": "GS1 DataMatrix",
    "gs1-qr": "GS1 QR Code",
    "digital-link-qr": "QR Code",
    "ean-13": "EAN-13",
    "upc-a": "UPC-A",
    "code-128": "Code 128",
}
_MATRIX = {"gs1-datamatrix", "gs1-qr", "digital-link-qr"}

Gray = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Sample:
    """One photo: the encoded file, and what a decoder should find in it (nothing for blanks)."""

    name: str
    format: str | None
    condition: str
    data: bytes
    width: int
    height: int
    text: str | None = None
    """The exact text for EAN/UPC/Code 128 and the Digital Link URL; None for GS1 symbols."""
    label: LotBarcodeData | None = None
    """The lot data behind GS1 and Digital Link symbols."""
    corners: tuple[tuple[float, float], ...] = ()
    """Where the printed label (symbol, margin and text) lies in the photo."""

    @property
    def decoded_format(self) -> str | None:
        return DECODED_FORMAT[self.format] if self.format else None


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(map(str, parts)).encode()))


# -- payloads ------------------------------------------------------------------------------------

_LOT_CHARS = string.ascii_uppercase + string.digits + "-/."


def _gtin(rng: np.random.Generator, length: int) -> str:
    body = str(int(rng.integers(1, 10))) + "".join(str(d) for d in rng.integers(0, 10, length - 2))
    return body + str(gtin_check_digit(body))


def _lot(rng: np.random.Generator) -> str:
    size = int(rng.integers(3, 13))
    first = str(rng.choice(list(string.ascii_uppercase + string.digits)))
    return first + "".join(rng.choice(list(_LOT_CHARS), size - 1))


def _label(rng: np.random.Generator) -> LotBarcodeData:
    expiry = TODAY + timedelta(days=int(rng.integers(20, 1100)))
    lot = _lot(rng)
    if rng.random() < 0.3:
        sku = "".join(rng.choice(list(string.ascii_uppercase + string.digits + "-"), 8))
        return LotBarcodeData(lot=lot, sku="S" + sku, expiry=expiry)
    return LotBarcodeData(lot=lot, gtin=_gtin(rng, 14), expiry=expiry)


def _bracketed(data: LotBarcodeData) -> str:
    # The writer's GS1 syntax; corpus lots and skus never contain parentheses.
    return human_readable(data).replace("(", "[").replace(")", "]")


def _symbol(fmt: str, rng: np.random.Generator) -> tuple[Gray, str | None, LotBarcodeData | None]:
    """The symbol at one pixel per module with its quiet zone, and what it encodes."""
    f = zxingcpp.BarcodeFormat
    label = text = None
    if fmt in ("gs1-128", "gs1-datamatrix", "gs1-qr"):
        label = _label(rng)
        kind = {"gs1-128": f.Code128, "gs1-datamatrix": f.DataMatrix, "gs1-qr": f.QRCode}[fmt]
        barcode = zxingcpp.create_barcode(_bracketed(label), kind, gs1=True)
    elif fmt == "digital-link-qr":
        label = _label(rng)
        text = digital_link(label, BASE_URL)
        barcode = zxingcpp.create_barcode(text, f.QRCode)
    elif fmt == "ean-13":
        text = _gtin(rng, 13)
        barcode = zxingcpp.create_barcode(text, f.EAN13)
    elif fmt == "upc-a":
        body = "0" + "".join(str(d) for d in rng.integers(0, 10, 10))
        text = body + str(gtin_check_digit(body))
        barcode = zxingcpp.create_barcode(text, f.UPCA)
    elif fmt == "code-128":
        prefix = str(rng.choice(["LOT-", "SO-", "PL-", "B"]))
        text = prefix + "".join(rng.choice(list(string.ascii_uppercase + string.digits), 7))
        barcode = zxingcpp.create_barcode(text, f.Code128)
    else:
        raise ValueError(f"unknown corpus format {fmt!r}")
    image = np.array(barcode.to_image(scale=1, add_quiet_zones=True), dtype=np.uint8)
    if fmt not in _MATRIX:
        # Linear symbols come one pixel high; a printed one is about 15% as high as it is wide.
        image = np.repeat(image[:1], max(8, image.shape[1] // 7), axis=0)
    return image, text, label


# -- photo synthesis -------------------------------------------------------------------------------

_SIZES = ((1920, 1080), (1080, 1920), (1600, 1200))
_FULL = ((4032, 3024), (3024, 4032))


def _smooth_field(rng: np.random.Generator, width: int, height: int, cells: int) -> Floats:
    coarse = rng.normal(0.0, 1.0, (cells, max(2, cells * width // height))).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC))


def _grain(rng: np.random.Generator, width: int, height: int, sigma: float) -> Floats:
    """Gaussian noise, tiled from a 256 px patch: photo grain without paying for 12 M draws."""
    tile = rng.normal(0.0, sigma, (256, 256)).astype(np.float32)
    return np.asarray(np.tile(tile, (height // 256 + 1, width // 256 + 1))[:height, :width])


def _background(rng: np.random.Generator, width: int, height: int) -> Floats:
    """A desk, a cardboard box or a shelf: uneven grey with grain and a little clutter."""
    canvas = float(rng.uniform(80, 170)) + 25 * _smooth_field(rng, width, height, 6)
    canvas += _grain(rng, width, height, float(rng.uniform(3, 8)))
    for _ in range(int(rng.integers(2, 7))):
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(canvas, p1, p2, float(rng.uniform(30, 220)), int(rng.integers(2, 12)))
    return canvas


def _label_sheet(symbol: Gray, rng: np.random.Generator, upsample: int) -> Gray:
    """The symbol printed on a white label with a few lines of text-like marks around it."""
    ink, paper = int(rng.integers(10, 45)), int(rng.integers(225, 252))
    big = np.where(symbol > 127, paper, ink).astype(np.uint8)
    big = cv2.resize(big, None, fx=upsample, fy=upsample, interpolation=cv2.INTER_NEAREST)
    h, w = big.shape
    margin = max(h, w) // 10
    text_rows = int(rng.integers(1, 4))
    row = max(12, h // 6 if h < w else h // 10)
    sheet = np.full((h + 2 * margin + text_rows * row * 2, w + 2 * margin), paper, np.uint8)
    sheet[margin : margin + h, margin : margin + w] = big
    y = margin + h + row // 2
    for _ in range(text_rows):
        x = margin
        while x < margin + w - row:
            word = int(rng.integers(row, row * 5))
            cv2.rectangle(sheet, (x, y), (min(x + word, margin + w), y + row), ink, -1)
            x += word + row // 2
        y += row * 2
    return sheet


def _place(
    canvas: Floats, sheet: Gray, rng: np.random.Generator, scale: float, angle: float, skew: float
) -> tuple[tuple[float, float], ...]:
    """Warp the label into the canvas: scaled, rotated about its centre, corners jittered."""
    height, width = canvas.shape
    h, w = sheet.shape
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], dtype=np.float64) * (scale / 2)
    rad = np.deg2rad(angle)
    rotation = np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]])
    corners = half @ rotation.T
    corners += rng.uniform(-skew, skew, corners.shape) * max(w, h) * scale
    extent = np.abs(corners).max(axis=0)
    low = extent + 4
    high = np.array([width, height]) - extent - 4
    centre = np.where(low < high, rng.uniform(low, np.maximum(low + 1, high)), [width / 2, height / 2])
    destination = (corners + centre).astype(np.float32)
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    if scale < 0.75:
        # Shrinking by warpPerspective alone aliases; blur to the target resolution first.
        sheet = cv2.GaussianBlur(sheet, (0, 0), 0.45 / scale)
    # Warp only into the label's bounding box: the rest of a 12 MP canvas is left alone.
    x0, y0 = np.floor(destination.min(axis=0)).astype(int)
    x1, y1 = np.ceil(destination.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    matrix = cv2.getPerspectiveTransform(source, destination - np.float32([x0, y0]))
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(sheet.astype(np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    region = canvas[y0:y1, x0:x1]
    region *= 1 - mask
    region += warped * mask
    return tuple((float(x), float(y)) for x, y in destination)


def _motion_kernel(length: int, angle: float) -> Floats:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return np.asarray(kernel / max(float(kernel.sum()), 1e-9), dtype=np.float32)


def _finish(canvas: Floats, rng: np.random.Generator, condition: str, zoom: float) -> bytes:
    """Lighting, optics and sensor effects, then JPEG (mostly) or PNG as a phone would save."""
    height, width = canvas.shape
    light = np.clip(1.0 + 0.12 * _smooth_field(rng, width, height, 3), 0.7, 1.2)
    canvas = cv2.multiply(canvas, light)
    if condition == "glare":
        # A bright blob, drawn small and enlarged: a lamp reflected in a glossy label.
        cx, cy = rng.uniform(0.3, 0.7, 2)
        spread = rng.uniform(0.06, 0.14) * min(width, height) / width
        ys, xs = np.mgrid[0:1:64j, 0:1:64j].astype(np.float32)
        aspect = height / width
        blob = np.exp(-((xs - cx) ** 2 + ((ys - cy) * aspect) ** 2) / (2 * spread**2))
        blob = (blob * rng.uniform(60, 130)).astype(np.float32)
        canvas = cv2.add(canvas, cv2.resize(blob, (width, height)))
    if condition == "low-contrast":
        mean = float(canvas.mean())
        canvas = cv2.addWeighted(canvas, float(rng.uniform(0.25, 0.4)), canvas, 0.0, 0.0)
        canvas += mean - float(canvas.mean())
    sigma = 0.6 * zoom
    if condition == "blur":
        sigma = rng.uniform(1.2, 2.2) * zoom
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    if condition == "motion":
        length = int(rng.integers(5, 10) * zoom) | 1
        canvas = cv2.filter2D(canvas, -1, _motion_kernel(length, float(rng.uniform(0, 180))))
    noise = rng.uniform(10, 18) if condition == "noise" else rng.uniform(1.5, 3.5)
    canvas = cv2.add(canvas, _grain(rng, width, height, float(noise)))
    gray = np.asarray(canvas.clip(0, 255), dtype=np.uint8)
    tint = rng.uniform(0.9, 1.08, 3)
    colour = cv2.merge([cv2.convertScaleAbs(gray, alpha=float(t)) for t in tint])
    if rng.random() < 0.15 and width * height < 4_000_000:
        ok, encoded = cv2.imencode(".png", colour)  # a screenshot or a scanner's PNG
    else:
        quality = int(rng.integers(80, 93))
        ok, encoded = cv2.imencode(".jpg", colour, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


def _canvas_size(rng: np.random.Generator, condition: str, size: tuple[int, int] | None) -> tuple[int, int]:
    if size is not None:
        return size
    choices = _FULL if condition == "12mp" else _SIZES
    return choices[int(rng.integers(0, len(choices)))]


def barcode_sample(
    fmt: str, condition: str, index: int, *, size: tuple[int, int] | None = None, seed: int = 0
) -> Sample:
    """One photo of one symbol under one condition; the same arguments give the same bytes."""
    rng = _rng(seed, fmt, condition, index)
    symbol, text, label = _symbol(fmt, rng)
    width, height = _canvas_size(rng, condition, size)
    zoom = min(width, height) / 1080
    # Pixels per module in the photo: phones held so the code fills a fair part of the frame.
    module = rng.uniform(4.0, 9.0) if fmt in _MATRIX else rng.uniform(2.2, 3.6)
    module *= zoom
    upsample = 4
    sheet = _label_sheet(symbol, rng, upsample)
    fit = 0.8 * min(width, height) / max(sheet.shape) * upsample
    if fmt not in _MATRIX:
        fit = 0.85 * max(width, height) / sheet.shape[1] * upsample
    module = min(module, fit)
    angle = float(rng.uniform(-4, 4))
    skew = 0.02
    if condition == "rotated":
        if rng.random() < 0.6:
            angle = float(rng.choice([90, 180, 270])) + float(rng.uniform(-5, 5))
        else:
            angle = float(rng.uniform(-20, 20))
    elif condition == "perspective":
        angle, skew = float(rng.uniform(-10, 10)), float(rng.uniform(0.06, 0.14))
    elif fmt not in _MATRIX and width < height:
        angle += 90  # a portrait photo of a wide label: the phone was held sideways
    canvas = _background(rng, width, height)
    corners = _place(canvas, sheet, rng, module / upsample, angle, skew)
    data = _finish(canvas, rng, condition, zoom)
    return Sample(
        name=f"{fmt}/{condition}/{index}",
        format=fmt,
        condition=condition,
        data=data,
        width=width,
        height=height,
        text=text,
        label=label,
        corners=corners,
    )


def blank_sample(kind: str, index: int, *, size: tuple[int, int] | None = None, seed: int = 0) -> Sample:
    """A photo with no barcode in it, of a kind that could tempt a decoder into a false read."""
    rng = _rng(seed, "blank", kind, index)
    width, height = _canvas_size(rng, kind, size)
    if kind in ("texture", "12mp"):
        canvas = _background(rng, width, height)
    elif kind == "noise":
        canvas = 127.5 + _grain(rng, width, height, 60.0)
    elif kind == "gradient":
        xs = np.linspace(0, 1, width)[None, :]
        ys = np.linspace(0, 1, height)[:, None]
        canvas = 60 + 150 * (0.5 * xs + 0.5 * ys) + 10 * _smooth_field(rng, width, height, 4)
    elif kind == "text":
        canvas = np.full((height, width), float(rng.uniform(200, 245)), np.float32)
        row = int(rng.integers(10, 30))
        for y in range(row, height - row, row * 2):
            x = row
            while x < width - row:
                word = int(rng.integers(row, row * 6))
                for letter in range(x, min(x + word, width - row), max(3, row // 2)):
                    cv2.rectangle(canvas, (letter, y), (letter + max(2, row // 3), y + row), 30.0, -1)
                x += word + row
    elif kind == "stripes":
        canvas = _background(rng, width, height)
        x = int(width * 0.1)
        top, bottom = int(height * 0.3), int(height * 0.6)
        while x < width * 0.9:
            bar = int(rng.integers(2, 12))
            if rng.random() < 0.5:
                canvas[top:bottom, x : x + bar] = 25
            x += bar
    elif kind == "boxes":
        canvas = _background(rng, width, height)
        for _ in range(int(rng.integers(5, 15))):
            x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
            w, h = int(rng.integers(50, width // 3)), int(rng.integers(50, height // 3))
            cv2.rectangle(canvas, (x, y), (x + w, y + h), float(rng.uniform(20, 240)), -1)
    else:
        raise ValueError(f"unknown blank kind {kind!r}")
    data = _finish(np.asarray(canvas, dtype=np.float32), rng, "clean", min(width, height) / 1080)
    return Sample(f"blank/{kind}/{index}", None, kind, data, width, height)


def corpus(per_condition: int, blanks_per_kind: int, *, seed: int = 0) -> Iterator[Sample]:
    """The whole corpus: every format under every condition, then the photos without a barcode."""
    for fmt in FORMATS:
        for condition in CONDITIONS:
            for index in range(per_condition):
                yield barcode_sample(fmt, condition, index, seed=seed)
    for kind in BLANK_KINDS:
        for index in range(blanks_per_kind):
            yield blank_sample(kind, index, seed=seed)

"""Finds and reads barcodes in photos: zxing-cpp first, then zbar over prepared image variants."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image, ImageOps

from labels.gs1 import gtin_check_digit
from scanning import _zbar
from scanning.errors import EmptyImage, ImageError, ImageTooLarge, NotAnImage

logger = logging.getLogger(__name__)

Engine = Literal["zxing", "zbar", "opencv"]
Gray = npt.NDArray[np.uint8]

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
"""A 48 MP phone photo fits; a decompression bomb does not."""

DEFAULT_BUDGET_MS = 400
"""How long `decode` may look at one photo: a phone user waits for an answer, and a server worker
is busy meanwhile."""

FIRST_PASS_SIDE = 2048
"""Longest side of the first, reduced pass: a label photographed to fill a good part of the frame
keeps 2+ pixels per module at this size, and zxing runs about four times faster than at 12 MP."""

_F = zxingcpp.BarcodeFormat
# What arrives at a food maker's dock and line: retail EAN/UPC, GS1-128 and Code 128, ITF-14 on
# cartons, GS1 DataBar on fresh produce, QR and DataMatrix. PDF417/Aztec (parcel and ticket
# codes) are left out: they cost time on every photo and never identify a lot.
# UPC-E is left out too: part of a skewed EAN-13 can pass for a valid UPC-E, and a wrong GTIN
# is worse than none (wedge scanners still deliver UPC-E, and `parse` reads it).
_ZXING_FORMATS = zxingcpp.BarcodeFormats([
    _F.EAN13, _F.EAN8, _F.UPCA, _F.Code128, _F.Code39, _F.ITF, _F.DataBar, _F.DataBarExp,
    _F.DataBarLtd, _F.QRCode, _F.MicroQRCode, _F.DataMatrix,
])  # fmt: skip
# The passes after the first work on photos that already failed once, where weakly checked
# symbologies (Code 39, ITF, Micro QR) turn noise into false reads: they look for ours only.
_FALLBACK_FORMATS = zxingcpp.BarcodeFormats([
    _F.EAN13, _F.EAN8, _F.UPCA, _F.Code128, _F.DataBar, _F.DataBarExp, _F.DataBarLtd, _F.QRCode,
    _F.DataMatrix,
])  # fmt: skip

_ZXING_NAMES = {
    "EAN13": "EAN-13", "EAN8": "EAN-8", "UPCA": "UPC-A", "Code128": "Code 128",
    "Code39": "Code 39", "ITF": "ITF", "ITF14": "ITF", "DataBar": "DataBar",
    "DataBarOmni": "DataBar", "DataBarExp": "DataBar Expanded", "DataBarLtd": "DataBar Limited",
    "QRCode": "QR Code", "QRCodeModel2": "QR Code", "MicroQRCode": "Micro QR Code",
    "DataMatrix": "DataMatrix",
}  # fmt: skip
_ZBAR_NAMES = {
    "EAN13": "EAN-13", "EAN8": "EAN-8", "UPCA": "UPC-A", "CODE128": "Code 128", "QRCODE": "QR Code",
}  # fmt: skip
_GS1_NAMES = {"Code 128": "GS1-128", "QR Code": "GS1 QR Code", "DataMatrix": "GS1 DataMatrix"}
# Symbology identifiers for GS1 data read by zbar, which does not report them.
_ZBAR_GS1_IDS = {"Code 128": "]C1", "QR Code": "]Q3"}


@dataclass(frozen=True)
class Decoded:
    """One barcode found in a photo.

    `text` is ready for `scanning.parse`: GS1 data starts with its symbology identifier and has
    ASCII 29 between fields; EAN/UPC is digits (UPC-A as 12). `position` holds the corners in
    pixels of the full-size photo, upright as its EXIF orientation says.
    """

    format: str
    text: str
    is_gs1: bool
    position: tuple[tuple[int, int], ...]
    engine: Engine


def decode(
    image_bytes: bytes,
    *,
    budget_ms: int = DEFAULT_BUDGET_MS,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    engines: tuple[Engine, ...] = ("zxing", "zbar", "opencv"),
) -> list[Decoded]:
    """Every barcode found in an uploaded photo (JPEG, PNG, WebP, GIF, BMP, TIFF).

    Raises an ImageError subclass for an empty, oversized or non-image upload; otherwise returns
    a list, empty when nothing could be read within about `budget_ms` milliseconds.

    Steps, up to the first that reads something acceptable: zxing-cpp on the photo reduced to at
    most 2048 px, upright and then turned a quarter; zxing-cpp again with a fixed threshold, which
    copes with blur, and for light-on-dark codes; zxing-cpp on the full-size photo (large photos)
    or on contrast-equalised and enlarged copies (small ones); for a QR code zxing-cpp found but
    could not correct, OpenCV's decoder for curved surfaces, then zxing-cpp again on the code
    resampled along a grid bent to fit its module edges; zbar over prepared variants
    (upright crops of barcode-like regions, sharpened, thresholded, enlarged, turned). The first
    step always runs; each later one starts only if the time it is expected to take fits in the
    budget, and runs to its end. `engines` selects decoders, to measure each on its own.

    What is acceptable (`_Answer`): EAN/UPC with a valid check digit, not contradicted by another
    number read over the same code, and, from any step after the first, confirmed by a second
    look at the image or by several steps; any other 1-D code from a step after the first only
    when a second look reads the same data; 1-D codes cut by the photo's edge and codes with an
    unallocated GS1 prefix only when nothing better was read. A wrong GTIN is worse than none.
    """
    started = time.perf_counter()
    data = bytes(image_bytes)
    header = _check_upload(data, max_bytes=max_bytes, max_pixels=max_pixels)
    deadline = started + budget_ms / 1000
    try:
        return _decode(data, header, deadline=deadline, engines=engines)
    except ImageError:
        raise
    except Exception:
        # A decoder crash must not become a server error for the person holding the phone.
        logger.exception("barcode decoding failed on a %d-byte %s", len(data), header.kind)
        return []


# -- the upload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    kind: str
    width: int
    height: int
    transparent: bool = False
    """Whether the image has an alpha channel or a transparent colour (PNG, WebP, GIF, TIFF)."""


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _sniff(data: bytes) -> str | None:
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1"):
        return "HEIC"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "AVIF"
    return None


def _size_text(size: int, *, round_up: bool) -> str:
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit:
            value = math.ceil(size / unit) if round_up else size // unit
            return f"{value} {name}"
    return f"{size} bytes"


def _check_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> _Header:
    if not data:
        raise EmptyImage("The file is empty.")
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"The photo is {_size_text(len(data), round_up=True)}; "
            f"the limit is {_size_text(max_bytes, round_up=False)}."
        )
    kind = _sniff(data)
    if kind in ("HEIC", "AVIF"):
        raise NotAnImage(
            f"{kind} photos cannot be read here. Send a JPEG or PNG instead (on an iPhone: "
            "Settings › Camera › Formats › Most Compatible)."
        )
    if kind is None:
        raise NotAnImage("This file is not an image (JPEG, PNG, WebP, GIF, BMP or TIFF).")
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd metadata and big images; both are handled here.
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                transparent = picture.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in picture.info
    except Image.DecompressionBombError as error:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise ImageTooLarge(
            f"The photo is over {limit:.0f} megapixels; the limit is {max_pixels / 1e6:.0f} megapixels."
        ) from error
    except Exception as error:
        raise NotAnImage(f"This {kind} image is damaged and cannot be read.") from error
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The photo is {width * height / 1e6:.0f} megapixels; the limit is {max_pixels / 1e6:.0f} megapixels."
        )
    if width < 1 or height < 1:
        raise NotAnImage(f"This {kind} image has no pixels.")
    return _Header(kind=kind, width=width, height=height, transparent=transparent)


def _load(data: bytes, header: _Header, *, longest: int | None) -> tuple[Gray, float]:
    """The photo in grayscale, upright, at most `longest` px on its longest side (None: full).

    Returns the image and the factor from its pixels to full-size pixels. JPEGs are shrunk while
    decoding (libjpeg scales the DCT), which is what makes a 12 MP photo cheap to try first.
    """
    side = max(header.width, header.height)
    flat = _flattened(data) if header.transparent else None
    gray = _decoded_gray(data, header, side, longest) if flat is None else flat
    if longest is not None and max(gray.shape) > longest * 1.25:
        scale = longest / max(gray.shape)
        gray = np.asarray(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    # EXIF orientation may swap width and height, never the longest side.
    return np.ascontiguousarray(gray), side / max(gray.shape)


def _decoded_gray(data: bytes, header: _Header, side: int, longest: int | None) -> Gray:
    buffer = np.frombuffer(data, np.uint8)
    flags = cv2.IMREAD_GRAYSCALE
    if longest is not None and header.kind == "JPEG":
        for factor, reduced in ((8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
                                (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                                (2, cv2.IMREAD_REDUCED_GRAYSCALE_2)):  # fmt: skip
            if side / factor >= longest * 0.75:
                flags = reduced
                break
    gray = cv2.imdecode(buffer, flags)
    if gray is None:
        raise NotAnImage(f"This {header.kind} image is damaged and cannot be read.")
    return np.asarray(gray, dtype=np.uint8)


def _flattened(data: bytes) -> Gray | None:
    """A transparent image in grayscale as a screen or a printer shows it: on white.

    A code saved with a transparent background (a label exported from a web page or a design
    tool) has its dark modules opaque and the paper transparent; read without its alpha
    channel, the paper turns black and the code vanishes into it. None when Pillow cannot
    decode it whole (a truncated file): OpenCV then reads what is left, without the alpha.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as picture:
                upright = ImageOps.exif_transpose(picture).convert("RGBA")
    except Exception:
        return None
    paper = Image.new("RGBA", upright.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(paper, upright).convert("L"), dtype=np.uint8)


def load_preview(image_bytes: bytes, longest: int) -> Gray:
    """The photo in grayscale, upright, at most about `longest` px on its longest side.

    Raises an ImageError subclass for what `decode` refuses too.
    """
    data = bytes(image_bytes)
    header = _check_upload(data, max_bytes=max(len(data), 1), max_pixels=MAX_PIXELS)
    gray, _ = _load(data, header, longest=longest)
    return gray


# -- the pipeline ------------------------------------------------------------------------------


def _decode(data: bytes, header: _Header, *, deadline: float, engines: tuple[Engine, ...]) -> list[Decoded]:
    reduced = max(header.width, header.height) > FIRST_PASS_SIDE * 1.25
    gray, factor = _load(data, header, longest=FIRST_PASS_SIDE if reduced else None)
    answer = _Answer((gray.shape[1] * factor, gray.shape[0] * factor))
    clock = _Clock(deadline)
    if "zxing" in engines:
        # Upright first, then turned a quarter: zxing's own `try_rotate` does both at once but
        # costs nearly three times one look, and most photos are read upright.
        with clock.timing(gray.size):
            if answer.add(_zxing(gray, factor, rotate=False)):
                return answer.result()
        turned, back = _rotated(gray, 90)
        if answer.add(_zxing(turned, factor, rotate=False, back=back)):
            return answer.result()
        # A fixed threshold reads blurred codes (mostly 1-D) that defeat zxing's local one; it
        # looks at every turn, scale and polarity, about five upright looks.
        if clock.fits(gray.size * 5):
            if answer.add(answer.confirmed(_zxing(gray, factor, fallback=True), gray, "fixed threshold")):
                return answer.result()
        if reduced:
            # The same photo at full size, if the first pass suggests it fits in the budget.
            if clock.fits(header.width * header.height * 3):
                full, full_factor = _load(data, header, longest=None)
                if answer.add(_zxing(full, full_factor)):
                    return answer.result()
        elif max(gray.shape) <= SMALL_SIDE:
            # A small photo (a cropped or old phone's picture) has too few pixels per module
            # for zxing's detectors: enlarged and sharpened, the bars and modules separate again.
            for make, scale in _ENLARGED:
                # Each look is about five upright ones, and confirming a read costs as much again.
                if not clock.fits(gray.size * scale * scale * 10):
                    break
                image = make(gray)
                found = _zxing(image, factor / scale, fallback=True, binarizer=zxingcpp.Binarizer.GlobalHistogram)
                if answer.add(answer.confirmed(found, image, f"enlarged {scale:g}")):
                    return answer.result()
    if "opencv" in engines and answer.add(_bent_qr(gray, factor, deadline=deadline)):
        return answer.result()
    if "zbar" in engines:
        reader = _zbar_reader()
        if reader is not None:
            answer.add(_zbar_variants(reader, gray, factor, deadline=deadline, answer=answer))
    return answer.result()


class _Clock:
    """Decides whether another pass fits in the budget, from what the first look cost per pixel."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.per_pixel = 0.0

    @contextlib.contextmanager
    def timing(self, pixels: int) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.per_pixel = (time.perf_counter() - started) / max(pixels, 1)

    def fits(self, upright_looks_of_pixels: float) -> bool:
        """Whether work worth that many pixels of one upright zxing look ends before the deadline."""
        return time.perf_counter() + self.per_pixel * upright_looks_of_pixels < self.deadline


SMALL_SIDE = 1000
"""Photos up to this many pixels on their longest side are tried enlarged too."""


def _enlarged_sharpened(gray: Gray) -> Gray:
    big = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    blurred = cv2.GaussianBlur(big, (0, 0), 3.0)
    return np.asarray(cv2.addWeighted(big, 2.5, blurred, -1.5, 0), dtype=np.uint8)


def _enlarged(gray: Gray) -> Gray:
    return np.asarray(cv2.resize(gray, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def _clahe(gray: Gray) -> Gray:
    # Local contrast: a code in the shadow of a book's edge or a hand, beside a bright glare.
    equaliser = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    return np.asarray(equaliser.apply(gray), dtype=np.uint8)


_ENLARGED: tuple[tuple[Callable[[Gray], Gray], float], ...] = ((_clahe, 1.0), (_enlarged_sharpened, 2.0),
                                                               (_enlarged, 3.0))  # fmt: skip


_BENT_QR_MAX_SIDE = 1000
"""Longest side of the cut-out given to OpenCV's QR decoder: its curved-surface search costs
20 to 100 ms on 240 px and grows with the pixels; a QR code with 4+ px per module fits."""
_BENT_QR_MAX = 2
_QR_ONLY = zxingcpp.BarcodeFormats([_F.QRCode])
_BENT_QR_SECONDS_PER_PIXEL = 4e-7
"""What OpenCV's curved-surface QR search costs per pixel at most, measured on bent QR codes of
200 to 850 px (0.07 to 0.4 µs): the first try starts only if this much fits in the budget."""


def _bent_qr(gray: Gray, factor: float, *, deadline: float) -> list[Decoded]:
    """QR codes zxing-cpp finds but cannot correct, read by OpenCV's decoder for curved surfaces.

    On crumpled paper or a jar, zxing's grid (one perspective from the finder patterns) misses
    modules across the bend until the errors exceed the correction; OpenCV fits the bend from the
    code's edges and samples along it. Its read passes Reed-Solomon correction like any QR read.
    Only a QR code zxing located is tried (that check costs under a millisecond on a 240 px
    photo, about 5 ms on a 2 MP one), on a cut-out around it, as it is and sharpened at 1.5 times its size. GS1 QR codes
    (FNC1 mode) are not decoded by OpenCV, whose reads would lose their GS1 flag. Where OpenCV
    reads nothing, as on the crumpled cloth of the real-photo folder, zxing-cpp reads the code
    resampled on a grid fitted to its own module edges (`_regridded_qr`), GS1 flag and all; that
    step belongs to this one and runs with the `opencv` engine.
    """
    flawed = [
        r for r in zxingcpp.read_barcodes(gray, formats=_QR_ONLY, try_rotate=False, try_downscale=False,
                                          try_invert=False, return_errors=True)
        if not r.valid and r.format == _F.QRCode
    ][:_BENT_QR_MAX]  # fmt: skip
    found: dict[str, Decoded] = {}
    per_pixel = _BENT_QR_SECONDS_PER_PIXEL
    for result in flawed:
        p = result.position
        corners = np.array([(c.x, c.y) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                           dtype=np.float64)  # fmt: skip
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        # A quiet zone and the bent edges beyond zxing's straight outline.
        margin = 0.5 * max(x1 - x0, y1 - y0)
        height, width = gray.shape
        left, top = max(0, int(x0 - margin)), max(0, int(y0 - margin))
        crop = gray[top : min(height, int(y1 + margin) + 1), left : min(width, int(x1 + margin) + 1)]
        read = False
        for scale, sharpened in ((1.0, False), (1.5, True)):
            scale = min(scale, _BENT_QR_MAX_SIDE / max(crop.shape))
            now = time.perf_counter()
            if now + per_pixel * crop.size * scale * scale > deadline:
                return list(found.values())
            image = _resized(crop, scale) if scale != 1 else crop
            text, points, _ = cv2.QRCodeDetector().detectAndDecodeCurved(_sharpen(image) if sharpened else image)
            per_pixel = max(per_pixel, (time.perf_counter() - now) / max(image.size, 1))
            if text and points is not None:
                outline = tuple(
                    (round((float(x) / scale + left) * factor), round((float(y) / scale + top) * factor))
                    for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2)
                )
                found.setdefault(text, Decoded("QR Code", text, False, outline, "opencv"))
                read = True
                break
        # zxing names the version once it has read the format and version information; a code
        # it could not get that far with has no grid size to fit.
        extra = result.extra if isinstance(result.extra, dict) else {}
        version = str(extra.get("Version", ""))
        if read or not version.isdigit():
            continue
        now = time.perf_counter()
        # The cut-out is enlarged up to twice, to at most _BENT_QR_MAX_SIDE on its longest side.
        # On a busy machine OpenCV's step ran slower than its nominal cost; this one will too.
        pixels = min(crop.size * _REGRID_SCALE**2, _BENT_QR_MAX_SIDE**2)
        slower = per_pixel / _BENT_QR_SECONDS_PER_PIXEL
        if now + _REGRID_SECONDS_PER_PIXEL * slower * pixels > deadline:
            return list(found.values())
        outline = tuple((round(float(x) * factor), round(float(y) * factor)) for x, y in corners)
        for decoded in _regridded_qr(gray, corners, 17 + 4 * int(version)):
            found.setdefault(decoded.text, Decoded(decoded.format, decoded.text, decoded.is_gs1, outline, "zxing"))
    return list(found.values())


_REGRID_SCALE = 2.0
"""The cut-out is enlarged this much before the grid is fitted: module edges fall between pixels
with half a pixel's precision, and a 240 px photo's code has 6 to 8 px per module."""
_REGRID_SECONDS_PER_PIXEL = 2.5e-7
"""What fitting the bent grid costs per pixel of the cut-out OpenCV was given, once enlarged, at
most: 70 to 80 ms of CPU, about 0.2 µs, on the cloth QR codes of the real-photo folder."""


def _regridded_qr(gray: Gray, corners: npt.NDArray[np.float64], modules: int) -> list[Decoded]:
    """A QR code zxing-cpp located but could not correct, read again on a grid bent to fit it.

    zxing samples one module per grid point of a single perspective; on cloth or crumpled paper
    the modules drift off that grid by half a module somewhere and the errors pass what the code
    corrects. Every edge between a dark and a light module should lie on a whole module
    coordinate: starting from zxing's perspective, a smooth (quadratic) map from the photo to
    module coordinates is fitted to all such edges near the code, a few times over; each module
    is then the majority of the pixels in its middle, drawn as a clean symbol for zxing-cpp. Its
    Reed-Solomon correction decides, as for any QR read.
    """
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    margin = 0.15 * max(x1 - x0, y1 - y0)
    height, width = gray.shape
    left, top = max(0, int(x0 - margin)), max(0, int(y0 - margin))
    crop = gray[top : min(height, int(y1 + margin) + 1), left : min(width, int(x1 + margin) + 1)]
    scale = min(_REGRID_SCALE, _BENT_QR_MAX_SIDE / max(crop.shape))
    image = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    _, dark_light = cv2.threshold(cv2.GaussianBlur(image, (0, 0), 0.5 * scale), 0, 1,
                                  cv2.THRESH_BINARY + cv2.THRESH_OTSU)  # fmt: skip
    n = float(modules)
    square = np.array([[0, 0], [n, 0], [n, n], [0, n]], dtype=np.float32)
    to_modules = cv2.getPerspectiveTransform(((corners - (left, top)) * scale).astype(np.float32), square)

    def straight(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        points = np.stack([x, y], axis=-1).reshape(-1, 1, 2)
        return np.asarray(cv2.perspectiveTransform(points, to_modules), dtype=np.float64).reshape(-1, 2) / n

    # Edge points between horizontally and between vertically neighbouring pixels, and which way
    # each crosses: a step along x or along y.
    across = np.nonzero(dark_light[:, 1:] != dark_light[:, :-1])
    down = np.nonzero(dark_light[1:, :] != dark_light[:-1, :])
    xs = np.concatenate([across[1] + 0.5, down[1].astype(np.float64)])
    ys = np.concatenate([across[0].astype(np.float64), down[0] + 0.5])
    steps = np.concatenate([np.tile([0.5, 0.0], (len(across[0]), 1)), np.tile([0.0, 0.5], (len(down[0]), 1))])
    at = straight(xs, ys)
    inside = np.all((at > -0.5 / n) & (at < 1 + 0.5 / n), axis=1)
    terms = _quadratic(at)
    ahead_terms = _quadratic(straight(xs + steps[:, 0], ys + steps[:, 1]))
    behind_terms = _quadratic(straight(xs - steps[:, 0], ys - steps[:, 1]))
    # Start from zxing's perspective: u = n * straight u, v = n * straight v.
    fit = np.zeros((terms.shape[1], 2))
    fit[1, 0] = fit[2, 1] = n
    for _ in range(5):
        mapped = terms @ fit
        moved = np.abs(ahead_terms @ fit - behind_terms @ fit)
        target = np.round(mapped)
        for axis in (0, 1):
            # An edge crossing module columns (rows) pins u (v) to a whole number, if it is
            # already within a third of a module of one; the others are noise or corners.
            near = np.abs(mapped[:, axis] - target[:, axis]) < 0.35
            use = inside & near & (moved[:, axis] > 2 * moved[:, 1 - axis])
            if use.sum() < terms.shape[1] * 4:
                return []
            chosen = terms[use]
            # Normal equations: six unknowns, tens of thousands of edge points. Edges all on one
            # line leave them singular: no grid to fit, and no reason to fail the whole photo.
            try:
                fit[:, axis] = np.linalg.solve(chosen.T @ chosen, chosen.T @ target[use, axis])
            except np.linalg.LinAlgError:
                return []
    rows, cols = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    mapped = _quadratic(straight(cols.ravel().astype(np.float64), rows.ravel().astype(np.float64))) @ fit
    whole = np.floor(mapped)
    middle = np.all((mapped - whole > 0.25) & (mapped - whole < 0.75) & (whole >= 0) & (whole < modules), axis=1)
    column, row = whole[middle, 0].astype(int), whole[middle, 1].astype(int)
    light = np.zeros((modules, modules))
    count = np.zeros((modules, modules))
    np.add.at(light, (row, column), dark_light.ravel()[middle])
    np.add.at(count, (row, column), 1)
    symbol = np.where(light > 0.5 * count, 255, 0).astype(np.uint8)
    clean = cv2.resize(np.pad(symbol, 4, constant_values=255), None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST)
    return [d for d in _zxing(np.asarray(clean, dtype=np.uint8), 1.0, rotate=False)
            if d.format in ("QR Code", "GS1 QR Code")]  # fmt: skip


def _quadratic(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    u, v = points[:, 0], points[:, 1]
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=-1)


# -- accepting a read --------------------------------------------------------------------------

_RETAIL = ("EAN-13", "EAN-8", "UPC-A")


def retail_digits_valid(text: str) -> bool:
    """Whether EAN/UPC digits have a possible length and a matching check digit."""
    return text.isdigit() and len(text) in (8, 12, 13) and gtin_check_digit(text[:-1]) == int(text[-1])


def unallocated_prefix(fmt: str, text: str) -> bool:
    """Whether a retail code starts with a GS1 prefix no product number is issued under.

    GS1 has allocated no prefix from 140 to 199 (as GTIN-13, i.e. UPC-A "14" to "19" and EAN-13
    "140" to "199"); Japanese books carry a second bar code there (192: price and category) next
    to their ISBN. Such a code names no product; it is reported only when nothing else is read.
    """
    if fmt not in ("EAN-13", "UPC-A"):
        return False
    prefix = int(text.zfill(13)[:3])
    return 140 <= prefix <= 199


def _overlap(a: Decoded, b: Decoded) -> bool:
    if not a.position or not b.position:
        return True
    ax, ay = zip(*a.position, strict=True)
    bx, by = zip(*b.position, strict=True)
    margin = 0.5 * max(max(ax) - min(ax), max(bx) - min(bx), 1)
    return not (max(ax) + margin < min(bx) or max(bx) + margin < min(ax)
                or max(ay) + margin < min(by) or max(by) + margin < min(ay))  # fmt: skip


class _Answer:
    """What a photo is read as: the first pass that finds something acceptable wins.

    Accepting rules, each because a wrong product number is worse than none:
    - EAN/UPC must have a valid check digit (the decoders check it; this does not rely on that);
    - two different EAN/UPC values read over the same place in one pass contradict each other
      (one scan line crossed a damaged or curved part): both are dropped;
    - a code with an unallocated GS1 prefix is held back while the photo may hold a real one;
    - a 1-D code cut off by the edge of the photo is left out when a whole one was read beside
      it: the person aimed at the whole one.
    """

    def __init__(self, size: tuple[float, float]) -> None:
        self._size = size
        self._found: list[Decoded] = []
        self._held: list[Decoded] = []
        # Unconfirmed rescue reads by (format, data): the read and the (engine, pass) that made it.
        self._votes: dict[tuple[str, str], tuple[Decoded, set[tuple[Engine, str]]]] = {}

    def add(self, found: list[Decoded]) -> bool:
        accepted = self._acceptable(found)
        self._found = [d for d in accepted if not unallocated_prefix(d.format, d.text)]
        self._held += [d for d in accepted if unallocated_prefix(d.format, d.text)]
        return bool(self._found)

    def result(self) -> list[Decoded]:
        if self._found:
            whole = [d for d in self._found if not self._cut_off(d)]
            return whole or self._found
        unique: dict[tuple[str, str], Decoded] = {}
        for d in self._held:
            unique.setdefault((d.format, d.text), d)
        return list(unique.values())

    def _cut_off(self, decoded: Decoded) -> bool:
        """Whether a 1-D code's outline runs into the photo's edge."""
        if decoded.format in _MATRIX or not decoded.position:
            return False
        width, height = self._size
        xs = [float(x) for x, _ in decoded.position]
        ys = [float(y) for _, y in decoded.position]
        edge = 0.01 * max(width, height) + 2
        return min(xs) < edge or min(ys) < edge or max(xs) > width - 1 - edge or max(ys) > height - 1 - edge

    def confirmed(self, found: list[Decoded], image: Gray, source: str) -> list[Decoded]:
        """The reads of a rescue pass, each 1-D code kept only if a second, different look agrees.

        Rescue passes bend the photo (fixed thresholds, enlarging, sharpening) until something
        reads; on a blurred or curved code that is sometimes a valid-looking wrong value: an EAN
        whose digits still make a right check digit, a Code 128 whose mod-103 checksum still
        holds. Another look at the same image (the other decoder, another binarisation) must read
        the same data. For EAN/UPC none may read other digits there either; a Code 128 label may
        carry several symbols, so other Code 128 data beside it is no contradiction. A read no
        look confirms, but none contradicts, is noted: the same data read by both decoders in
        different passes, or by zbar in three differently prepared images, agree too (see
        `agreed`). 2-D codes carry Reed-Solomon error correction and pass as read.
        """
        linear = [d for d in found if d.format not in _MATRIX]
        if not linear:
            return found
        looks = [look(image) for look in _second_looks(linear[0].engine)]
        seen_data = {(fmt, _data(text)) for reads in looks for fmt, text in reads}
        # A Japanese book's second code (unallocated prefix) is another code, not a contradiction.
        seen: list[set[str]] = [
            {text for fmt, text in reads if fmt in _RETAIL and not unallocated_prefix(fmt, text)} for reads in looks
        ]
        retail = [d for d in linear if d.format in _RETAIL]
        agreed = {d.text for d in retail if any(d.text in texts for texts in seen)}
        contradicted = any(texts - agreed for texts in seen)
        unconfirmed = [d for d in linear if d.format not in _RETAIL and (d.format, _data(d.text)) not in seen_data]
        if not contradicted:
            unconfirmed += [d for d in retail if d.text not in agreed]
        for d in unconfirmed:
            self._votes.setdefault((d.format, _data(d.text)), (d, set()))[1].add((d.engine, source))
        return [
            d for d in found
            if d.format in _MATRIX
            or (d.format in _RETAIL and d.text in agreed and not contradicted)
            or (d.format not in _RETAIL and (d.format, _data(d.text)) in seen_data)
        ]  # fmt: skip

    def agreed(self) -> list[Decoded]:
        """Unconfirmed 1-D reads that several passes agree on (see `confirmed`)."""
        found = []
        for decoded, sources in self._votes.values():
            engines = {engine for engine, _ in sources}
            if len(engines) == 2 or len(sources) >= 3:
                found.append(decoded)
        return self._acceptable(found)

    @staticmethod
    def _acceptable(found: list[Decoded]) -> list[Decoded]:
        retail = [d for d in found if d.format in _RETAIL]
        good = [d for d in found if d.format not in _RETAIL or retail_digits_valid(d.text)]
        clash = {
            id(a) for a in retail for b in retail
            if a.text != b.text and not unallocated_prefix(b.format, b.text)
            and not unallocated_prefix(a.format, a.text) and _overlap(a, b)
        }  # fmt: skip
        return [d for d in good if id(d) not in clash]


_MATRIX = ("QR Code", "GS1 QR Code", "Micro QR Code", "DataMatrix", "GS1 DataMatrix")


def _data(text: str) -> str:
    """A read's data without its symbology identifier and leading FNC1, which decoders report
    differently for the same GS1 symbol."""
    if len(text) >= 3 and text[0] == "]":
        text = text[3:]
    return text.lstrip("\x1d")


Look = Callable[[Gray], list[tuple[str, str]]]


def _zbar_look(image: Gray) -> list[tuple[str, str]]:
    reader = _zbar_reader()
    if reader is None:
        return []
    return [(d.format, d.text) for d in (_from_zbar(s, _IDENTITY, 1.0) for s in reader.scan(image))]


def _zxing_look(binarizer: zxingcpp.Binarizer, sharpen: bool) -> Look:
    def look(image: Gray) -> list[tuple[str, str]]:
        prepared = _sharpen(image) if sharpen else image
        return [(d.format, d.text) for d in _zxing(prepared, 1.0, fallback=True, binarizer=binarizer)]

    return look


def _second_looks(engine: Engine) -> list[Look]:
    """Other ways to read an image than the one that gave a read from `engine`."""
    if engine == "zxing":
        return [_zbar_look, _zxing_look(zxingcpp.Binarizer.GlobalHistogram, True)]
    # zbar reads slanted codes zxing misses on the whole image: zxing gets the code turned
    # upright, and zbar the image binarised by Otsu's threshold, which does not repeat zbar's
    # misreads of blurred bars.
    return [_zxing_look(zxingcpp.Binarizer.LocalAverage, False), _zxing_upright_look,
            lambda image: _zbar_look(_otsu(image))]


def _zxing_upright_look(image: Gray) -> list[tuple[str, str]]:
    """zxing on each code zbar finds in `image`, cut out around zbar's scan lines and turned upright."""
    reader = _zbar_reader()
    if reader is None:
        return []
    reads: list[tuple[str, str]] = []
    for symbol in reader.scan(image):
        if len(symbol.points) < 2:
            continue
        (cx, cy), (w, h), angle = cv2.minAreaRect(np.array(symbol.points, dtype=np.float32))
        if w < h:
            w, h, angle = h, w, angle + 90
        # zbar's scan lines may cover part of the code only: the cut-out is generous.
        length = max(w, 20.0)
        width, height = round(length * 2.5), round(max(h, length))
        turn = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        turn[0, 2] += width / 2 - cx
        turn[1, 2] += height / 2 - cy
        crop = cv2.warpAffine(image, turn, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        reads += [(d.format, d.text) for d in _zxing(np.asarray(crop, dtype=np.uint8), 1.0, fallback=True,
                                                     binarizer=zxingcpp.Binarizer.LocalAverage)]  # fmt: skip
    return reads


def _zxing(gray: Gray, factor: float, *, fallback: bool = False, binarizer: zxingcpp.Binarizer | None = None,
           rotate: bool = True, back: Affine | None = None) -> list[Decoded]:
    if binarizer is None:
        binarizer = zxingcpp.Binarizer.FixedThreshold if fallback else zxingcpp.Binarizer.LocalAverage
    results = zxingcpp.read_barcodes(
        gray,
        formats=_FALLBACK_FORMATS if fallback else _ZXING_FORMATS,
        try_rotate=rotate,
        # The first pass already runs on a reduced photo; its own pyramid bought no reads on the
        # benchmark corpus and cost a quarter of its time. Light-on-dark codes are rare on labels.
        # The second pass, for harder photos, does both.
        try_downscale=fallback,
        try_invert=fallback,
        binarizer=binarizer,
        text_mode=zxingcpp.TextMode.HRI,
    )
    found: dict[tuple[str, str], Decoded] = {}
    for result in results:
        if not result.valid:
            continue
        name = _ZXING_NAMES.get(result.format.name, str(result.format))
        is_gs1 = result.content_type == zxingcpp.ContentType.GS1
        raw = bytes(result.bytes)
        if is_gs1:
            text = result.symbology_identifier + raw.decode("latin-1")
        elif result.content_type == zxingcpp.ContentType.Text:
            text = result.text
        else:
            text = _bytes_text(raw)
        name, text = _normalise(name, text, is_gs1)
        p = result.position
        corners = np.array([(c.x, c.y) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                           dtype=np.float64)  # fmt: skip
        if back is not None:
            corners = np.asarray(cv2.transform(corners.reshape(-1, 1, 2), back), dtype=np.float64).reshape(-1, 2)
        position = tuple((round(float(x) * factor), round(float(y) * factor)) for x, y in corners)
        found.setdefault((name, text), Decoded(name, text, is_gs1, position, "zxing"))
    return list(found.values())


def _bytes_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _normalise(name: str, text: str, is_gs1: bool) -> tuple[str, str]:
    if is_gs1:
        return _GS1_NAMES.get(name, name if name.startswith("DataBar") else f"GS1 {name}"), text
    # An EAN-13 starting with 0 is a UPC-A symbol; both decoders report it as 13 digits.
    if name in ("EAN-13", "UPC-A") and len(text) == 13 and text.startswith("0"):
        return "UPC-A", text[1:]
    return name, text


# -- zbar fallback -----------------------------------------------------------------------------


def _load_zbar() -> _zbar.ZbarReader:
    return _zbar.load()


class _ZbarOnce:
    """Loads libzbar on first use; if that fails, warns once and leaves the fallback out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tried = False
        self._reader: _zbar.ZbarReader | None = None

    def get(self) -> _zbar.ZbarReader | None:
        with self._lock:
            if not self._tried:
                self._tried = True
                try:
                    self._reader = _load_zbar()
                except (ImportError, OSError, AttributeError) as error:
                    logger.warning(
                        "zbar is not available (install the system package libzbar0); photos "
                        "are decoded with zxing-cpp only: %s",
                        error,
                    )
            return self._reader


_zbar_once = _ZbarOnce()


def _zbar_reader() -> _zbar.ZbarReader | None:
    return _zbar_once.get()


Affine = npt.NDArray[np.float64]
"""A 2x3 matrix taking a variant's pixel coordinates back onto the working image's."""

_IDENTITY: Affine = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _variants(gray: Gray) -> Iterator[Callable[[], list[tuple[Gray, Affine]]]]:
    """Prepared versions of the photo for zbar, in the order that reads most per millisecond.

    Each step makes one or more images, each with the affine map back onto `gray`. The order
    was measured on the benchmark corpus. First come crops of barcode-like regions turned so
    their bars are upright, which rescues 1-D codes photographed at a slant (neither decoder's
    scan lines cross all bars of a wide, skewed barcode); then the whole photo sharpened and
    binarised, which reads most blurred 1-D codes; then the plain image, thresholds and turns.
    """
    yield lambda: [(c, m) for crop, m in _upright_regions(gray) for c in (crop, _otsu(_sharpen(crop)))]
    yield lambda: [(_otsu(_sharpen(gray)), _IDENTITY)]
    yield lambda: [(gray, _IDENTITY)]
    if max(gray.shape) <= 1200:
        yield lambda: [(_doubled(gray), np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]))]
        yield lambda: [(_clahe(_doubled(gray)), np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]))]
    yield lambda: [(_otsu(gray), _IDENTITY)]
    yield lambda: [(_adaptive(gray), _IDENTITY)]
    yield lambda: [_rotated(_otsu(gray), 90)]
    yield lambda: [(_sharpen(gray), _IDENTITY)]
    yield lambda: [(_clahe(gray), _IDENTITY)]
    yield lambda: [_rotated(gray, 180)]
    yield lambda: [_rotated(gray, 270)]
    if max(gray.shape) <= 1200:
        # Last, as the costliest (4 and 9 times the pixels): small, soft photos of bars one or
        # two pixels wide that nothing above reads. Like any zbar read, theirs needs a second
        # look or other variants to agree (`confirmed`, `agreed`).
        yield lambda: [_lanczos_sharpened(gray, 2)]
        yield lambda: [_lanczos_sharpened(gray, 3)]


def _resized(gray: Gray, scale: float) -> Gray:
    return np.asarray(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def _lanczos_sharpened(gray: Gray, scale: int) -> tuple[Gray, Affine]:
    """`gray` enlarged by Lanczos interpolation and sharpened, with the map back.

    On a small photo with bars one or two pixels wide, Lanczos keeps more of their contrast than
    cubic interpolation, and zbar's edge detector finds bars that the cubic copy melts together.
    """
    big = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LANCZOS4)
    blurred = cv2.GaussianBlur(big, (0, 0), float(scale))
    sharp = np.asarray(cv2.addWeighted(big, 2.0, blurred, -1.0, 0), dtype=np.uint8)
    return sharp, np.array([[1 / scale, 0.0, 0.0], [0.0, 1 / scale, 0.0]])


def _doubled(gray: Gray) -> Gray:
    return np.asarray(cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def _rotated(gray: Gray, angle: int) -> tuple[Gray, Affine]:
    """`gray` turned clockwise by a multiple of 90°, with the map back."""
    height, width = gray.shape  # of the image before turning
    if angle == 90:
        back = [[0.0, 1.0, 0.0], [-1.0, 0.0, height - 1.0]]
        image = cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
    elif angle == 180:
        back = [[-1.0, 0.0, width - 1.0], [0.0, -1.0, height - 1.0]]
        image = cv2.rotate(gray, cv2.ROTATE_180)
    else:
        back = [[0.0, -1.0, width - 1.0], [1.0, 0.0, 0.0]]
        image = cv2.rotate(gray, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return np.asarray(image, dtype=np.uint8), np.array(back)


_REGION_SIDE = 800
_MAX_REGIONS = 3
_MAX_CROP = 1000


def _upright_regions(gray: Gray) -> list[tuple[Gray, Affine]]:
    """Crops around the strongest edge-dense regions, each turned so its edges run upright.

    Regions come from the gradient magnitude of a small copy, closed into blobs; the turn is
    the dominant gradient direction in the region (structure tensor), which for a 1-D barcode
    is across its bars.
    """
    height, width = gray.shape
    k = min(1.0, _REGION_SIDE / max(height, width))
    small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    energy = cv2.blur(cv2.magnitude(gx, gy), (9, 9))
    scaled = np.clip(energy * (255.0 / max(float(energy.max()), 1e-6)), 0, 255).astype(np.uint8)
    _, mask = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    close = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close)
    # Opening removes thin lines and specks that the closing joined to nothing.
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8), iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = small.shape[0] * small.shape[1]
    blobs = [c for c in contours if 200 <= cv2.contourArea(c) <= area / 2]
    crops = []
    for contour in sorted(blobs, key=cv2.contourArea, reverse=True)[:_MAX_REGIONS]:
        x, y, w, h = cv2.boundingRect(contour)
        sx, sy = gx[y : y + h, x : x + w], gy[y : y + h, x : x + w]
        jxx, jyy, jxy = float((sx * sx).sum()), float((sy * sy).sum()), float((sx * sy).sum())
        angle = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))
        centre = ((x + w / 2) / k, (y + h / 2) / k)
        side = max(w, h) / k * 1.5
        zoom = min(1.0, _MAX_CROP / side)
        size = max(16, round(side * zoom))
        forward = cv2.getRotationMatrix2D(centre, angle, zoom)
        forward[0, 2] += size / 2 - centre[0]
        forward[1, 2] += size / 2 - centre[1]
        crop = cv2.warpAffine(gray, forward, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        back = np.asarray(cv2.invertAffineTransform(forward), dtype=np.float64)
        crops.append((np.asarray(crop, dtype=np.uint8), back))
    return crops


def _otsu(gray: Gray) -> Gray:
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    _, binary = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return np.asarray(binary, dtype=np.uint8)


def _adaptive(gray: Gray) -> Gray:
    block = max(15, (max(gray.shape) // 40) | 1)
    return np.asarray(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 5),
        dtype=np.uint8,
    )


def _sharpen(gray: Gray) -> Gray:
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return np.asarray(cv2.addWeighted(gray, 2.0, blurred, -1.0, 0), dtype=np.uint8)


def _zbar_variants(reader: _zbar.ZbarReader, gray: Gray, factor: float, *, deadline: float,
                   answer: _Answer) -> list[Decoded]:
    # What the last step cost, half as much again kept in hand for confirming a read (a few more
    # looks), and the pixels it looked at, at least the photo's: an enlarged copy larger than
    # that is expected to cost more in proportion (most steps' cost is mostly confirming reads,
    # which does not grow with their crops' size).
    last_cost, last_pixels = 0.0, gray.size
    for number, make in enumerate(_variants(gray)):
        now = time.perf_counter()
        if now + last_cost > deadline:
            break
        found: dict[tuple[str, str], Decoded] = {}
        pixels = 0
        for image, back in make():
            image = np.ascontiguousarray(image, dtype=np.uint8)
            if time.perf_counter() + last_cost * max(1.0, image.size / last_pixels) > deadline:
                return answer.agreed()
            pixels += image.size
            reads = [_from_zbar(symbol, back, factor) for symbol in reader.scan(image)]
            for decoded in answer.confirmed(reads, image, f"zbar variant {number}"):
                found.setdefault((decoded.format, decoded.text), decoded)
        last_cost, last_pixels = 1.5 * (time.perf_counter() - now), max(pixels, gray.size)
        if found:
            return list(found.values())
    return answer.agreed()


def _from_zbar(symbol: _zbar.ZbarSymbol, back: Affine, factor: float) -> Decoded:
    name = _ZBAR_NAMES[symbol.type]
    if symbol.gs1:
        text = _ZBAR_GS1_IDS.get(name, "") + symbol.data.decode("latin-1")
    else:
        text = _bytes_text(symbol.data)
    name, text = _normalise(name, text, symbol.gs1)
    return Decoded(name, text, symbol.gs1, _outline(symbol.points, back, factor), "zbar")


def _outline(points: tuple[tuple[int, int], ...], back: Affine, factor: float) -> tuple[tuple[int, int], ...]:
    """zbar's scan-line hits reduced to a quadrilateral, mapped to full-size photo pixels."""
    if not points:
        return ()
    box = cv2.boxPoints(cv2.minAreaRect(np.array(points, dtype=np.float32)))
    mapped = cv2.transform(box.reshape(-1, 1, 2).astype(np.float64), back).reshape(-1, 2)
    return tuple((round(float(x) * factor), round(float(y) * factor)) for x, y in mapped)

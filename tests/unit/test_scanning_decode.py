"""scanning.decode: barcodes in phone photos are read exactly, and nothing is read where none is."""

from __future__ import annotations

import functools
import io
import logging
import struct
import zlib

import cv2
import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from scanning import (
    Decoded,
    EmptyImage,
    ImageError,
    ImageTooLarge,
    NotAnImage,
    decode,
    decoding,
    parse,
)
from tests.helpers.requires import needs_libzbar
from tests.helpers.scan_corpus import BLANK_KINDS, FORMATS, TODAY, Sample, barcode_sample, blank_sample

# Generous: the tests check what is read, not how fast (the benchmark measures that).
BUDGET = 5000


@functools.cache
def photo(fmt: str, condition: str, index: int = 0) -> Sample:
    return barcode_sample(fmt, condition, index)


def reads(sample: Sample, found: list[Decoded]) -> list[Decoded]:
    """The results that carry exactly the sample's data, in the format it was printed in."""
    right = []
    for decoded in found:
        if decoded.format != sample.decoded_format:
            continue
        if sample.label is not None:
            scan = parse(decoded.text, today=TODAY)
            label = sample.label
            if (scan.gtin, scan.sku, scan.lot, scan.expiry) == (label.gtin, label.sku, label.lot, label.expiry):
                right.append(decoded)
        elif decoded.text == sample.text:
            right.append(decoded)
    return right


def on_label(sample: Sample, decoded: Decoded, tolerance: float = 8.0) -> bool:
    """Whether every corner reported lies on the printed label in the full-size photo."""
    label = np.array(sample.corners, dtype=np.float32)
    return len(decoded.position) == 4 and all(
        cv2.pointPolygonTest(label, (float(x), float(y)), True) > -tolerance for x, y in decoded.position
    )


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return bytes(data.tobytes())


# -- every format, under every kind of trouble ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_decodes_to_exactly_what_was_printed(fmt: str) -> None:
    sample = photo(fmt, "clean")
    found = decode(sample.data, budget_ms=BUDGET)
    right = reads(sample, found)
    assert right, f"{sample.name}: read {found}"
    assert len(found) == 1
    decoded = right[0]
    assert on_label(sample, decoded), decoded.position
    if fmt.startswith("gs1"):
        assert decoded.is_gs1
        assert decoded.text[:3] in ("]C1", "]d2", "]Q3")
    else:
        assert not decoded.is_gs1


# Photos only the zbar fallback reads (the reason it is there); they need libzbar0.
ZBAR_ONLY = {("ean-13", "rotated"), ("code-128", "perspective")}


@pytest.mark.parametrize(("fmt", "condition"), [
    pytest.param(fmt, condition, marks=[needs_libzbar] if (fmt, condition) in ZBAR_ONLY else [])
    for condition in ["rotated", "perspective", "blur", "noise", "glare", "low-contrast"] for fmt in FORMATS
])
def test_photos_taken_badly_still_read(fmt: str, condition: str) -> None:
    sample = photo(fmt, condition)
    found = decode(sample.data, budget_ms=BUDGET)
    right = reads(sample, found)
    assert right, f"{sample.name}: read {found}"
    assert all(on_label(sample, decoded) for decoded in right)


def test_twelve_megapixel_photo() -> None:
    sample = photo("gs1-datamatrix", "12mp")
    assert sample.width * sample.height >= 12_000_000
    right = reads(sample, decode(sample.data, budget_ms=BUDGET))
    assert right and on_label(sample, right[0]), right


@pytest.mark.parametrize("kind", BLANK_KINDS)
def test_no_barcode_no_read(kind: str) -> None:
    assert decode(blank_sample(kind, 0).data) == []


def test_position_is_in_the_upright_photo_when_the_camera_stored_it_sideways() -> None:
    sample = photo("gs1-128", "clean")
    upright = cv2.imdecode(np.frombuffer(sample.data, np.uint8), cv2.IMREAD_COLOR)
    stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: turn 90° clockwise to display
    buffer = io.BytesIO()
    Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB)).save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    right = reads(sample, decode(buffer.getvalue(), budget_ms=BUDGET))
    assert right and on_label(sample, right[0]), right


# -- zbar, the fallback ---------------------------------------------------------------------------


@needs_libzbar
def test_libzbar_is_installed() -> None:
    # CI installs libzbar0 and requires it; without it the fallback below would silently never run.
    assert decoding._zbar_reader() is not None


@needs_libzbar
@pytest.mark.parametrize("fmt", ["gs1-128", "gs1-qr", "ean-13", "upc-a", "code-128"])
def test_the_zbar_path_reads_on_its_own(fmt: str) -> None:
    sample = photo(fmt, "clean")
    found = decode(sample.data, budget_ms=BUDGET, engines=("zbar",))
    right = reads(sample, found)
    assert right, f"{sample.name}: read {found}"
    assert right[0].engine == "zbar"
    assert right[0].is_gs1 == fmt.startswith("gs1")
    assert on_label(sample, right[0]), right[0].position


@needs_libzbar
def test_zbar_reads_a_slanted_ean_13_that_zxing_misses() -> None:
    # Bars at a slant to every scan line of zxing; zbar reads an upright crop of the region.
    # Should a newer zxing-cpp read this photo, pick another where `engines=("zxing",)` fails.
    sample = photo("ean-13", "rotated")
    assert not reads(sample, decode(sample.data, budget_ms=BUDGET, engines=("zxing",)))
    right = reads(sample, decode(sample.data, budget_ms=BUDGET))
    assert right and right[0].engine == "zbar"
    assert on_label(sample, right[0]), right[0].position


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_positions_found_in_a_turned_variant_map_back_onto_the_photo(angle: int) -> None:
    image = np.zeros((30, 50), np.uint8)
    image[7, 41] = 255  # one marked pixel at x=41, y=7 in a wide image
    turned, back = decoding._rotated(image, angle)
    y, x = np.argwhere(turned == 255)[0]
    mapped = back @ np.array([x, y, 1.0])
    assert mapped.round().tolist() == [41.0, 7.0]


def test_without_libzbar_decoding_goes_on_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> None:
        raise OSError("libzbar.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(decoding, "_load_zbar", missing)
    monkeypatch.setattr(decoding, "_zbar_once", decoding._ZbarOnce())
    blank = blank_sample("texture", 0, size=(640, 480)).data
    sample = photo("ean-13", "clean")
    with caplog.at_level(logging.WARNING, logger="scanning.decoding"):
        assert decode(blank, budget_ms=200) == []
        assert decode(blank, budget_ms=200, engines=("zbar",)) == []
        assert reads(sample, decode(sample.data, budget_ms=BUDGET))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "libzbar0" in warnings[0].getMessage()


# -- several barcodes, odd images -----------------------------------------------------------------


def _symbol(text: str, fmt: zxingcpp.BarcodeFormat, scale: int = 4, **options: object) -> np.ndarray:
    barcode = zxingcpp.create_barcode(text, fmt, **options)
    return np.array(barcode.to_image(scale=scale), dtype=np.uint8)


def test_one_result_per_barcode() -> None:
    qr = _symbol("https://lotwise.example/l/240/JAM/10/A1", zxingcpp.BarcodeFormat.QRCode, 6)
    ean = _symbol("9501101530003", zxingcpp.BarcodeFormat.EAN13, 3)
    canvas = np.full((700, 1400), 235, np.uint8)
    h, w = qr.shape
    canvas[50 : 50 + h, 50 : 50 + w] = qr
    canvas[50 : 50 + h, 700 : 700 + w] = qr  # the same code twice
    eh, ew = ean.shape
    canvas[450 : 450 + eh, 100 : 100 + ew] = ean
    found = decode(encode(canvas), budget_ms=BUDGET)
    assert sorted((d.format, d.text) for d in found) == [
        ("EAN-13", "9501101530003"),
        ("QR Code", "https://lotwise.example/l/240/JAM/10/A1"),
    ]


def test_white_on_black_code_reads() -> None:
    qr = _symbol("[01]09501101530003[10]NIGHT", zxingcpp.BarcodeFormat.QRCode, 6, gs1=True)
    canvas = np.full((600, 600), 30, np.uint8)
    h, w = qr.shape
    canvas[100 : 100 + h, 100 : 100 + w] = 255 - qr
    found = decode(encode(canvas), budget_ms=BUDGET)
    assert [parse(d.text).lot for d in found] == ["NIGHT"]


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".bmp", ".tiff"])
def test_common_image_formats(ext: str) -> None:
    canvas = np.full((300, 500), 240, np.uint8)
    code = _symbol("LOT-42", zxingcpp.BarcodeFormat.Code128, 3)
    canvas[50 : 50 + code.shape[0], 50 : 50 + code.shape[1]] = code
    assert [d.text for d in decode(encode(canvas, ext), budget_ms=BUDGET)] == ["LOT-42"]


def test_gif() -> None:
    canvas = np.full((300, 500), 240, np.uint8)
    code = _symbol("LOT-43", zxingcpp.BarcodeFormat.Code128, 3)
    canvas[50 : 50 + code.shape[0], 50 : 50 + code.shape[1]] = code
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, "GIF")
    assert [d.text for d in decode(buffer.getvalue(), budget_ms=BUDGET)] == ["LOT-43"]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_code_on_a_transparent_background_reads(fmt: str) -> None:
    # Saved from a design tool: black modules, the paper left transparent (black once the
    # alpha channel is dropped, so the code would vanish into its background).
    code = _symbol("LOT-2026-TRANSPARENT", zxingcpp.BarcodeFormat.DataMatrix, 5)
    canvas = np.full((240, 240), 255, np.uint8)
    canvas[40 : 40 + code.shape[0], 40 : 40 + code.shape[1]] = code
    rgba = np.zeros((*canvas.shape, 4), np.uint8)
    rgba[..., 3] = 255 - canvas  # opaque where dark, transparent where the paper is
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, fmt, lossless=True)
    assert [(d.format, d.text) for d in decode(buffer.getvalue(), budget_ms=BUDGET)] == [
        ("DataMatrix", "LOT-2026-TRANSPARENT")
    ]


def test_transparent_gif_reads() -> None:
    canvas = np.full((300, 500), 255, np.uint8)
    code = _symbol("LOT-44", zxingcpp.BarcodeFormat.Code128, 3)
    canvas[50 : 50 + code.shape[0], 50 : 50 + code.shape[1]] = code
    # Two colours, both black in the palette; the paper's is the transparent one.
    picture = Image.fromarray(np.where(canvas > 127, 0, 1).astype(np.uint8), "P")
    picture.putpalette([0, 0, 0, 0, 0, 0])
    buffer = io.BytesIO()
    picture.save(buffer, "GIF", transparency=0)
    assert [d.text for d in decode(buffer.getvalue(), budget_ms=BUDGET)] == ["LOT-44"]


@needs_libzbar
def test_small_photo_of_bars_little_more_than_a_pixel_wide_reads() -> None:
    # A 240 px photo (an old phone's, or a crop) of an EAN-13 at 1.2 px per module, slightly soft.
    ean = _symbol("9501101530003", zxingcpp.BarcodeFormat.EAN13, 8)
    small = cv2.resize(ean, None, fx=1.2 / 8, fy=1.2 / 8, interpolation=cv2.INTER_AREA)
    canvas = np.full((240, 240), 230, np.uint8)
    h, w = small.shape
    top, left = (240 - h) // 2, (240 - w) // 2
    canvas[top : top + h, left : left + w] = small * 0.75 + 40
    photo = cv2.GaussianBlur(canvas, (0, 0), 0.5)
    assert [(d.format, d.text) for d in decode(encode(photo), budget_ms=BUDGET)] == [("EAN-13", "9501101530003")]


def _bent(image: np.ndarray, amplitude: float) -> np.ndarray:
    """`image` as if printed on paper that was crumpled: every point pushed along a slow wave."""
    height, width = image.shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = xx + amplitude * np.sin(2 * np.pi * yy / height)
    map_y = yy + amplitude * np.sin(2 * np.pi * xx / width + 1)
    return np.asarray(cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderValue=255), dtype=np.uint8)


def test_qr_code_on_crumpled_paper_reads() -> None:
    qr = _symbol("LOT-2026-CRUMPLED-0042", zxingcpp.BarcodeFormat.QRCode, 8, ec_level="H")
    photo = _bent(np.pad(qr, 60, constant_values=255), amplitude=10)
    # zxing-cpp finds the code but its straight grid misses the bend.
    assert decode(encode(photo), budget_ms=BUDGET, engines=("zxing", "zbar")) == []
    found = decode(encode(photo), budget_ms=BUDGET)
    assert [(d.format, d.text, d.engine) for d in found] == [("QR Code", "LOT-2026-CRUMPLED-0042", "opencv")]
    # Its outline is where the code is in the photo.
    ys, xs = np.nonzero(photo < 128)
    corners = np.array(found[0].position)
    assert np.allclose(corners.min(axis=0), (xs.min(), ys.min()), atol=12)
    assert np.allclose(corners.max(axis=0), (xs.max(), ys.max()), atol=12)


def _sagging(image: np.ndarray, across: float, down: float) -> np.ndarray:
    """`image` as if printed on cloth hanging loose: the middle pushed sideways and down."""
    height, width = image.shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = xx + across * np.sin(np.pi * yy / height)
    map_y = yy + down * np.sin(np.pi * xx / width)
    return np.asarray(cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderValue=255), dtype=np.uint8)


def test_qr_code_on_sagging_cloth_reads() -> None:
    url = "https://lotwise.example/l/240/JAM/10/A1"
    qr = _symbol(url, zxingcpp.BarcodeFormat.QRCode, 8, ec_level="M")
    photo = _sagging(np.pad(qr, 40, constant_values=255), across=16, down=12)
    # zxing-cpp finds the code, but neither its straight grid nor OpenCV's curved one reads it.
    assert decode(encode(photo), budget_ms=BUDGET, engines=("zxing", "zbar")) == []
    found = decode(encode(photo), budget_ms=BUDGET)
    assert [(d.format, d.text) for d in found] == [("QR Code", url)]
    ys, xs = np.nonzero(photo < 128)
    corners = np.array(found[0].position)
    assert np.allclose(corners.min(axis=0), (xs.min(), ys.min()), atol=16)
    assert np.allclose(corners.max(axis=0), (xs.max(), ys.max()), atol=16)


def test_gs1_qr_code_on_sagging_cloth_reads_as_gs1() -> None:
    barcode = zxingcpp.create_barcode("(01)09501101530003(17)261231(10)A1", zxingcpp.BarcodeFormat.QRCode,
                                      ec_level="M", gs1=True)  # fmt: skip
    qr = np.array(barcode.to_image(scale=8), dtype=np.uint8)
    photo = _sagging(np.pad(qr, 40, constant_values=255), across=20, down=12)
    assert decode(encode(photo), budget_ms=BUDGET, engines=("zxing", "zbar")) == []
    found = decode(encode(photo), budget_ms=BUDGET)
    assert [(d.format, d.text, d.is_gs1) for d in found] == [
        ("GS1 QR Code", "]Q301095011015300031726123110A1", True)
    ]


# -- refused uploads ------------------------------------------------------------------------------


def _png_without_pixels(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no image data: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


NOT_AN_IMAGE = "This file is not an image (JPEG, PNG, WebP, GIF, BMP or TIFF)."
SIGNATURES = [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"II*\x00", b"RIFF\x00\x00\x00\x00WEBP"]


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"", EmptyImage, "The file is empty."),
        (b"Lot 42, best before 2026-12-31\n", NotAnImage, NOT_AN_IMAGE),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", NotAnImage, NOT_AN_IMAGE),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, NotAnImage, "This JPEG image is damaged and cannot be read."),
        (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
            NotAnImage,
            "HEIC photos cannot be read here. Send a JPEG or PNG instead (on an iPhone: "
            "Settings › Camera › Formats › Most Compatible).",
        ),
        (
            _png_without_pixels(10_000, 10_000),
            ImageTooLarge,
            "The photo is 100 megapixels; the limit is 50 megapixels.",
        ),
        (
            _png_without_pixels(60_000, 60_000),
            ImageTooLarge,
            "The photo is over 179 megapixels; the limit is 50 megapixels.",
        ),
    ],
)
def test_refused_uploads(data: bytes, error: type[ImageError], message: str) -> None:
    with pytest.raises(error) as raised:
        decode(data)
    assert str(raised.value) == message


def test_oversized_upload() -> None:
    with pytest.raises(ImageTooLarge) as raised:
        decode(b"\xff\xd8\xff" + bytes(52 * 1024 * 1024 - 3))
    assert str(raised.value) == "The photo is 52 MB; the limit is 20 MB."
    with pytest.raises(ImageTooLarge, match=r"^The photo is 5 KB; the limit is 4 KB\.$"):
        decode(photo("ean-13", "clean").data[:5000], max_bytes=4096)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(SIGNATURES),
    st.binary(max_size=3000),
)
def test_random_bytes_never_crash(prefix: bytes, body: bytes) -> None:
    try:
        found = decode(prefix + body, budget_ms=100)
    except ImageError:
        return
    assert isinstance(found, list)


def test_a_truncated_photo_reads_what_is_left() -> None:
    data = photo("gs1-qr", "clean").data
    try:
        found = decode(data[: len(data) // 3], budget_ms=200)
    except NotAnImage:
        return
    assert isinstance(found, list)

"""Reads of retail codes are checked before they are believed, and unreadable photos get advice."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from labels.gs1 import gtin_check_digit
from scanning import Decoded, advise, decode, decoding
from scanning.advice import judge
from scanning.decoding import Engine
from tests.helpers.photo_folder import read_value, value
from tests.helpers.requires import needs_libzbar

# EAN-13 bar patterns (GS1 General Specifications, 5.2.1.2): L and G for the left half, chosen
# by the first digit, R for the right half.
_L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011"]
_G = ["".join("1" if b == "0" else "0" for b in code)[::-1] for code in _L]
_R = ["".join("1" if b == "0" else "0" for b in code) for code in _L]
_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def ean13_modules(digits: str) -> str:
    """The 95 modules of an EAN-13 for 13 digits, whatever its last digit (no check is made)."""
    first, left, right = int(digits[0]), digits[1:7], digits[7:]
    bars = "101"
    for parity, digit in zip(_PARITY[first], left, strict=True):
        bars += (_L if parity == "L" else _G)[int(digit)]
    bars += "01010"
    bars += "".join(_R[int(d)] for d in right)
    return bars + "101"


def ean13_png(digits: str, *, quiet: int = 11, module: int = 4, clutter: bool = False) -> bytes:
    """A clean EAN-13 on white, `quiet` modules of space each side; with `clutter`, bars right up to it."""
    modules = ean13_modules(digits)
    if clutter:
        modules = "1101" * 4 + modules + "1011" * 4
        quiet = 0
    row = np.array([0 if m == "1" else 255 for m in "0" * quiet + modules + "0" * quiet], np.uint8)
    image = np.repeat(np.tile(np.repeat(row, module), (60 * module // 2, 1)), 1, axis=0)
    image = cv2.copyMakeBorder(image, 40, 40, 40 if quiet else 0, 40 if quiet else 0, cv2.BORDER_CONSTANT,
                               value=255 if quiet else 0)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


VALID = "400638133393"
VALID += str(gtin_check_digit(VALID))


def test_a_well_printed_ean_13_reads() -> None:
    found = decode(ean13_png(VALID), budget_ms=5000)
    assert [(d.format, d.text) for d in found] == [("EAN-13", VALID)]


@pytest.mark.parametrize("wrong", [d for d in "0123456789" if d != VALID[-1]])
def test_an_ean_13_with_a_wrong_check_digit_is_not_read(wrong: str) -> None:
    assert decode(ean13_png(VALID[:-1] + wrong), budget_ms=5000) == []


def test_an_ean_13_without_quiet_zone_is_not_read() -> None:
    # Bars run straight into the code on both sides: a reader cannot tell where it starts.
    assert decode(ean13_png(VALID, clutter=True), budget_ms=5000) == []


@given(st.text(alphabet="0123456789", min_size=7, max_size=12))
def test_retail_digits_are_valid_only_with_their_check_digit(body: str) -> None:
    good = body + str(gtin_check_digit(body))
    assert decoding.retail_digits_valid(good) == (len(good) in (8, 12, 13))
    bad = body + str((gtin_check_digit(body) + 1) % 10)
    assert not decoding.retail_digits_valid(bad)


def _retail(text: str, x: int, fmt: str = "EAN-13") -> Decoded:
    return Decoded(fmt, text, False, ((x, 10), (x + 100, 10), (x + 100, 60), (x, 60)), "zxing")


def test_two_different_numbers_read_over_one_code_are_both_refused() -> None:
    answer = decoding._Answer((1000.0, 800.0))
    other = "5030159003930"
    assert not answer.add([_retail(VALID, 300), _retail(other, 320)])
    assert answer.result() == []


def test_two_codes_side_by_side_are_both_read() -> None:
    answer = decoding._Answer((1000.0, 800.0))
    other = "5030159003930"
    assert answer.add([_retail(VALID, 100), _retail(other, 600)])
    assert {d.text for d in answer.result()} == {VALID, other}


def test_a_bad_check_digit_is_refused_whichever_decoder_let_it_through() -> None:
    answer = decoding._Answer((1000.0, 800.0))
    assert not answer.add([_retail(VALID[:-1] + str((int(VALID[-1]) + 1) % 10), 300)])


def test_a_code_with_an_unallocated_prefix_gives_way_to_a_product_code() -> None:
    japanese_price = "1920081045006"
    isbn = "9784872348880"
    answer = decoding._Answer((1000.0, 800.0))
    assert answer.add([_retail(isbn, 100), _retail(japanese_price, 600)])
    assert [d.text for d in answer.result()] == [isbn]
    alone = decoding._Answer((1000.0, 800.0))
    assert not alone.add([_retail(japanese_price, 600)])
    assert [d.text for d in alone.result()] == [japanese_price]


def test_a_code_cut_by_the_photo_edge_gives_way_to_a_whole_one() -> None:
    answer = decoding._Answer((640.0, 480.0))
    whole = Decoded("Code 39", "165627", False, ((152, 207), (511, 207), (504, 287), (159, 287)), "zxing")
    cut = Decoded("Code 39", "001EC947D49B", False, ((115, 463), (465, 463), (463, 479), (118, 479)), "zxing")
    assert answer.add([whole, cut])
    assert answer.result() == [whole]
    alone = decoding._Answer((640.0, 480.0))
    assert alone.add([cut]) and alone.result() == [cut]


def test_a_rescue_read_no_second_look_confirms_is_refused() -> None:
    # A blank image: whatever a rescue pass claims to have read there, no other look agrees.
    answer = decoding._Answer((200.0, 200.0))
    blank = np.full((200, 200), 255, np.uint8)
    assert answer.confirmed([_retail(VALID, 50)], blank, "test") == []
    assert answer.agreed() == []


def test_a_rescue_read_a_second_look_confirms_is_kept() -> None:
    image = cv2.imdecode(np.frombuffer(ean13_png(VALID), np.uint8), cv2.IMREAD_GRAYSCALE)
    answer = decoding._Answer((float(image.shape[1]), float(image.shape[0])))
    assert [d.text for d in answer.confirmed([_retail(VALID, 50)], image, "test")] == [VALID]


def test_the_same_digits_from_both_decoders_in_different_passes_agree() -> None:
    answer = decoding._Answer((200.0, 200.0))
    blank = np.full((200, 200), 255, np.uint8)
    answer.confirmed([_retail(VALID, 50)], blank, "enlarged 2")
    assert answer.agreed() == []
    zbar = Decoded("EAN-13", VALID, False, ((50, 10), (150, 10), (150, 60), (50, 60)), "zbar")
    answer.confirmed([zbar], blank, "zbar variant 4")
    assert [d.text for d in answer.agreed()] == [VALID]


def code128_image(text: str, *, gs1: bool = False) -> np.ndarray:
    """A clean Code 128 (GS1-128 with `gs1`, `text` in brackets then) at 3 px per module."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128, gs1=gs1)
    row = np.array(barcode.to_image(scale=3, add_quiet_zones=True), dtype=np.uint8)[:1]
    image = np.repeat(row, 120, axis=0)
    return np.asarray(cv2.copyMakeBorder(image, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255), dtype=np.uint8)


def _code128(text: str, engine: Engine = "zxing", fmt: str = "Code 128") -> Decoded:
    return Decoded(fmt, text, fmt.startswith("GS1"), ((40, 40), (400, 40), (400, 150), (40, 150)), engine)


def test_a_rescue_code_128_no_second_look_confirms_is_refused() -> None:
    # Its mod-103 checksum holds for some misreads too: a rescue pass's word is not enough.
    answer = decoding._Answer((500.0, 200.0))
    blank = np.full((200, 500), 255, np.uint8)
    assert answer.confirmed([_code128("LOT-4711")], blank, "fixed threshold") == []


@needs_libzbar
@pytest.mark.parametrize("engine", ["zxing", "zbar"])
def test_a_rescue_code_128_a_second_look_confirms_is_kept(engine: Engine) -> None:
    image = code128_image("LOT-4711")
    answer = decoding._Answer((float(image.shape[1]), float(image.shape[0])))
    assert [d.text for d in answer.confirmed([_code128("LOT-4711", engine)], image, "test")] == ["LOT-4711"]


def test_a_rescue_code_128_another_look_reads_otherwise_is_refused() -> None:
    # The photo holds LOT-4712; a rescue pass that says LOT-4711 misread it.
    image = code128_image("LOT-4712")
    answer = decoding._Answer((float(image.shape[1]), float(image.shape[0])))
    assert answer.confirmed([_code128("LOT-4711")], image, "fixed threshold") == []


def test_the_same_code_128_from_zbar_in_three_prepared_images_agrees() -> None:
    answer = decoding._Answer((500.0, 200.0))
    blank = np.full((200, 500), 255, np.uint8)
    for number in (2, 6):
        assert answer.confirmed([_code128("LOT-4711", "zbar")], blank, f"zbar variant {number}") == []
    assert answer.agreed() == []
    answer.confirmed([_code128("LOT-4711", "zbar")], blank, "zbar variant 8")
    assert [d.text for d in answer.agreed()] == ["LOT-4711"]


def test_a_rescue_pass_2d_code_needs_no_second_look() -> None:
    # QR and DataMatrix carry Reed-Solomon error correction: a misread does not decode.
    blank = np.full((200, 200), 255, np.uint8)
    qr = Decoded("QR Code", "LOT-4711", False, ((10, 10), (90, 10), (90, 90), (10, 90)), "zxing")
    assert decoding._Answer((200.0, 200.0)).confirmed([qr], blank, "enlarged 2") == [qr]


@needs_libzbar
def test_gs1_128_read_by_either_decoder_confirms_the_other() -> None:
    # zxing and zbar report a GS1-128's identifier and leading FNC1 differently; the data agree.
    image = code128_image("(01)09506000134352(10)LOT7", gs1=True)
    answer = decoding._Answer((float(image.shape[1]), float(image.shape[0])))
    [by_zxing] = decoding._zxing(image, 1.0)
    [(fmt, by_zbar)] = decoding._zbar_look(image)
    assert by_zxing.format == fmt == "GS1-128"
    assert answer.confirmed([by_zxing], image, "fixed threshold") == [by_zxing]
    from_zbar = _code128(by_zbar, "zbar", "GS1-128")
    assert answer.confirmed([from_zbar], image, "zbar variant 1") == [from_zbar]


# -- advice for a photo that did not read ---------------------------------------------------------


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


def _label(module: int = 4) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(ean13_png(VALID, module=module), np.uint8), cv2.IMREAD_GRAYSCALE)
    return np.asarray(image)


def test_advice_for_a_dark_photo() -> None:
    assert advise(_jpeg((_label() * 0.15).astype(np.uint8))).reason == "dark"


def test_advice_for_a_blurred_photo() -> None:
    blurred = cv2.GaussianBlur(cv2.copyMakeBorder(_label(), 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=200),
                               (0, 0), 12)
    advice = advise(_jpeg(blurred))
    assert advice.reason == "blurred" and "steady" in advice.message


def test_advice_for_a_barcode_far_away() -> None:
    photo = np.full((1200, 1600), 170, np.uint8)
    small = cv2.resize(_label(), None, fx=0.12, fy=0.12, interpolation=cv2.INTER_AREA)
    photo[600 : 600 + small.shape[0], 800 : 800 + small.shape[1]] = small
    assert judge(cv2.resize(photo, (640, 480), interpolation=cv2.INTER_AREA)) == "small"


def test_advice_for_glare_over_the_code() -> None:
    photo = cv2.copyMakeBorder(_label(), 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=200)
    photo = np.minimum(photo, 210).astype(np.uint8)  # paper in room light, not burnt white
    height, width = photo.shape
    cv2.circle(photo, (width // 2, height // 2), height // 5, 255, -1)
    assert advise(_jpeg(photo)).reason == "glare"


def test_a_white_label_is_not_glare() -> None:
    assert advise(_jpeg(_label())).reason != "glare"


# -- the benchmark's equivalence rules ------------------------------------------------------------


def test_upc_a_and_ean_13_compare_as_gtin_14() -> None:
    assert value("012345678905", retail=True) == value("0012345678905", retail=True) == "00012345678905"
    assert read_value("012345678905", "UPC-A") == value("0012345678905", retail=True)


def test_gs1_data_compares_without_symbology_identifier_or_leading_fnc1() -> None:
    assert value("]C1\x1d0109501101530003", retail=False) == "0109501101530003"
    assert value("]d20109501101530003", retail=False) == value("0109501101530003", retail=False)

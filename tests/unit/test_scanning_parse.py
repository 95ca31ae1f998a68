"""scanning.parse: what scanners, keyboards and cameras deliver becomes the right product, lot and date."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from biip import ParseConfig
from biip.gs1_element_strings import GS1ElementString
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from labels.gs1 import GS, LotBarcodeData, digital_link, element_string, gtin_check_digit, human_readable
from scanning import (
    BadCheckDigit,
    DuplicateAI,
    ImpossibleDate,
    MissingSeparator,
    PairingError,
    Scan,
    ScanError,
    UnreadableScan,
    parse,
)
from scanning.parsing import check_separator, gs1_date

TODAY = date(2025, 6, 1)
GTIN = "09501101530003"


def scan(raw: str, separator: str | None = None) -> Scan:
    return parse(raw, separator=separator, today=TODAY)


# -- keyboard wedge ------------------------------------------------------------------------------


def test_wedge_input_exactly_as_a_scanner_sends_it() -> None:
    result = scan("]C101095011015300031726123110ABC\r")
    assert result.kind == "gs1"
    assert result.symbology == "]C1"
    assert (result.gtin, result.lot, result.expiry) == (GTIN, "ABC", date(2026, 12, 31))
    assert result.elements == (("01", GTIN), ("17", "261231"), ("10", "ABC"))
    assert result.raw == "]C101095011015300031726123110ABC\r"


@pytest.mark.parametrize("prefix", ["", "]C1", "]d2", "]Q3", "]e0"])
@pytest.mark.parametrize("ending", ["", "\r", "\n", "\r\n", "\t", " "])
def test_every_gs1_symbology_and_line_ending(prefix: str, ending: str) -> None:
    result = scan(f"{prefix}240SKU-7{GS}1726123110L-1{ending}")
    assert (result.sku, result.lot, result.expiry) == ("SKU-7", "L-1", date(2026, 12, 31))
    assert result.symbology == (prefix or None)


@pytest.mark.parametrize("separator", ["~", "|", "^", "#"])
def test_substitute_separator_from_a_configured_scanner(separator: str) -> None:
    raw = f"]C1240SKU-7{separator}1726123110L-1{separator}\r\n"
    result = scan(raw, separator=separator)
    assert (result.sku, result.lot, result.expiry) == ("SKU-7", "L-1", date(2026, 12, 31))


def test_ascii_29_still_works_when_a_substitute_is_configured() -> None:
    assert scan(f"240SKU-7{GS}10L-1", separator="~").sku == "SKU-7"


def test_leading_fnc1_sent_as_gs_is_ignored() -> None:
    assert scan(f"{GS}0109501101530003{GS}10ABC").lot == "ABC"


def test_a_label_scanned_again_reads_the_same_unless_the_separator_or_the_day_changed() -> None:
    raw = f"]C101{GTIN}1775123110L-1~21S9"
    with pytest.raises(UnreadableScan):
        scan(raw)  # without the configured substitute, "~" is no character of a lot code
    first = scan(raw, separator="~")
    assert scan(raw, separator="~") == first and (first.lot, first.serial) == ("L-1", "S9")
    with pytest.raises(UnreadableScan):
        scan(raw)
    # Two-digit years take their century from the day of the scan (GS1's sliding window).
    assert parse(raw, separator="~", today=date(2025, 6, 1)).expiry == date(2075, 12, 31)
    assert parse(raw, separator="~", today=date(2024, 6, 1)).expiry == date(1975, 12, 31)


@pytest.mark.parametrize("bad", ["ab", "", "A", "7", "-", " "])
def test_separators_that_could_be_part_of_a_lot_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"separator|lot codes"):
        check_separator(bad)


# -- human-readable text ------------------------------------------------------------------------


def test_human_readable_text_as_printed_or_typed() -> None:
    result = scan(" (01) 09501101530003 (17) 261231 (10) ABC ")
    assert (result.kind, result.gtin, result.lot, result.expiry) == (
        "gs1",
        GTIN,
        "ABC",
        date(2026, 12, 31),
    )


def test_parentheses_inside_a_lot_code_are_kept() -> None:
    # biip's HRI parser stops a value at the first "(" and drops the rest of the lot.
    assert scan("(01)09501101530003(17)261231(10)A(B)C").lot == "A(B)C"
    assert scan("(01)09501101530003(10)A(10)B").lot == "A(10)B"


def test_an_ai_inside_a_value_is_read_as_the_value_when_that_is_the_only_consistent_reading() -> None:
    result = scan("(01)09501101530003(17)261231(10)X(17)261231")
    assert (result.lot, result.expiry) == ("X(17)261231", date(2026, 12, 31))


# -- Digital Link -------------------------------------------------------------------------------


def test_digital_link_on_any_host() -> None:
    result = scan("https://id.example.com/01/09501101530003/10/ABC?17=261231")
    assert (result.kind, result.gtin, result.lot, result.expiry) == (
        "digital_link",
        GTIN,
        "ABC",
        date(2026, 12, 31),
    )


def test_digital_link_with_a_path_prefix_short_gtin_and_other_query_parameters() -> None:
    result = scan("HTTPS://shop.example/p/q/01/9501101530003/10/A%2FB%2B1?utm_source=x&17=261200&3103=001250")
    assert (result.gtin, result.lot, result.expiry) == (GTIN, "A/B+1", date(2026, 12, 31))
    assert result.net_weight_kg == Decimal("1.250")


def test_our_digital_link_for_a_product_without_gtin() -> None:
    result = scan("https://lotwise.example/l/240/JAM-RASP%2F370/10/250601-A?17=270101")
    assert (result.sku, result.gtin, result.lot, result.expiry) == (
        "JAM-RASP/370",
        None,
        "250601-A",
        date(2027, 1, 1),
    )


def test_a_web_address_that_is_no_digital_link_is_text() -> None:
    result = scan("https://example.com/orders/4711")
    assert (result.kind, result.text) == ("text", "https://example.com/orders/4711")


def test_digital_link_values_are_checked_like_barcodes() -> None:
    with pytest.raises(BadCheckDigit):
        scan("https://id.example.com/01/09501101530004/10/ABC")
    with pytest.raises(DuplicateAI):
        scan("https://id.example.com/01/09501101530003/10/ABC?10=XYZ")


# -- GTIN alone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        ("9501101530003", GTIN),  # EAN-13
        ("036000291452", "00036000291452"),  # UPC-A
        ("96385074", "00000096385074"),  # EAN-8
        ("15012345678907", "15012345678907"),  # GTIN-14 (ITF-14 on a carton)
        ("]E09501101530003", GTIN),
        ("]E001234565", "00012345000065"),  # UPC-E, expanded
        ("]E4" + "96385074", "00000096385074"),
        ("]E3950110153000312", GTIN),  # EAN-13 with a 2-digit add-on
        ("]I115012345678907", "15012345678907"),
    ],
)
def test_product_only_barcodes(raw: str, gtin: str) -> None:
    result = scan(raw + "\r")
    assert (result.kind, result.gtin) == ("gtin", gtin)
    assert result.lot is None


def test_gtin_check_digit_is_checked() -> None:
    with pytest.raises(BadCheckDigit) as error:
        scan("9501101530004")
    assert str(error.value) == (
        "The GTIN 9501101530004 has a wrong check digit: it should end in 3. Scan again or check the number."
    )


def test_an_eight_digit_number_that_is_no_gtin_is_a_typed_code() -> None:
    result = scan("24031501")
    assert (result.kind, result.text) == ("text", "24031501")


# -- plain text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("SO-104233\r\n", "SO-104233"),
        ("  250601-A\t", "250601-A"),
        ("10ABC", "10ABC"),  # a typed lot that happens to start like AI 10
        ("240315", "240315"),
        ("Lot Ä-12", "Lot Ä-12"),
        ("]C0LOT-1234", "LOT-1234"),
    ],
)
def test_typed_codes_and_plain_barcodes_are_text(raw: str, text: str) -> None:
    result = scan(raw)
    assert (result.kind, result.text) == ("text", text)


# -- the fields ---------------------------------------------------------------------------------


def test_logistic_label_fields() -> None:
    result = scan(f"]C102{GTIN}3724{GS}10LOT7{GS}15260100")
    assert (result.gtin, result.quantity, result.lot, result.best_before) == (
        GTIN,
        Decimal(24),
        "LOT7",
        date(2026, 1, 31),
    )
    body = "39501101530000001"
    sscc = body + str(gtin_check_digit(body))
    pallet = scan(f"]C100{sscc}")
    assert (pallet.sscc, pallet.gtin) == (sscc, None)


def test_serial_production_date_weight_and_count() -> None:
    result = scan(f"0109501101530003112501013102000750{GS}21SN-9{GS}3012")
    assert result.production_date == date(2025, 1, 1)
    assert result.net_weight_kg == Decimal("7.50")
    assert (result.serial, result.quantity) == ("SN-9", Decimal(12))


def test_scan_is_immutable() -> None:
    result = scan("SO-1")
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


# -- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expiry"),
    [
        ("261200", date(2026, 12, 31)),  # day 00 is the month's last day
        ("280200", date(2028, 2, 29)),
        ("270200", date(2027, 2, 28)),
        ("280229", date(2028, 2, 29)),
    ],
)
def test_day_zero_and_leap_years(raw: str, expiry: date) -> None:
    assert scan(f"01{GTIN}17{raw}").expiry == expiry


@pytest.mark.parametrize(
    ("yy", "today", "year"),
    [
        ("75", date(2025, 6, 1), 2075),  # 50 ahead: this century
        ("76", date(2025, 6, 1), 1976),  # 51 ahead: the previous one
        ("00", date(2025, 6, 1), 2000),
        ("01", date(2099, 6, 1), 2101),  # 98 behind: the next century
        ("49", date(2099, 6, 1), 2149),
        ("50", date(2099, 6, 1), 2050),
    ],
)
def test_century_by_the_gs1_sliding_window(yy: str, today: date, year: int) -> None:
    assert gs1_date(f"{yy}0101", today).year == year


def test_our_century_matches_biip_for_today() -> None:
    # biip decides the century from the clock (in UTC); at today's date both must agree.
    config = ParseConfig()
    today = datetime.now(UTC).date()
    for yy in range(100):
        value = f"{yy:02d}0600"
        ours = gs1_date(value, today)
        theirs = GS1ElementString.parse(f"17{value}", config=config).date
        assert ours == theirs


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("261331", "The expiry date 261331 is not a real date: there is no month 13."),
        ("260230", "The expiry date 260230 is not a real date: February 2026 has 28 days."),
        ("270229", "The expiry date 270229 is not a real date: February 2027 has 28 days."),
        ("260431", "The expiry date 260431 is not a real date: April 2026 has 30 days."),
        ("260015", "The expiry date 260015 is not a real date: there is no month 00."),
    ],
)
def test_impossible_dates(raw: str, message: str) -> None:
    with pytest.raises(ImpossibleDate) as error:
        scan(f"01{GTIN}17{raw}10ABC")
    assert str(error.value) == message


def test_impossible_best_before_date_names_it() -> None:
    with pytest.raises(ImpossibleDate, match=r"^The best-before date 251301 is not a real date"):
        scan(f"01{GTIN}15251301")


# -- errors with the messages a clerk sees -------------------------------------------------------


def test_bad_check_digit_in_a_gs1_barcode() -> None:
    with pytest.raises(BadCheckDigit) as error:
        scan("]C1010950110153000417261231")
    assert str(error.value) == (
        "The GTIN 09501101530004 has a wrong check digit: it should end in 3. Scan again or check the label."
    )


def test_duplicate_ai_with_different_values() -> None:
    with pytest.raises(DuplicateAI) as error:
        scan(f"01{GTIN}172612311727010110ABC")
    assert str(error.value) == "This barcode has two different expiry dates: 261231 and 270101."
    with pytest.raises(DuplicateAI, match=r"^This barcode has two different lots: A and B\.$"):
        scan(f"01{GTIN}10A{GS}10B")
    with pytest.raises(DuplicateAI, match="net weights"):
        scan(f"01{GTIN}31020001503103000151")


def test_identical_repeats_are_accepted_once() -> None:
    result = scan(f"01{GTIN}1726123101{GTIN}10ABC")
    assert result.elements == (("01", GTIN), ("17", "261231"), ("10", "ABC"))
    same_weight = scan(f"01{GTIN}31020001503103001500")
    assert same_weight.net_weight_kg == Decimal("1.5")


def test_lot_without_product() -> None:
    with pytest.raises(PairingError) as error:
        scan("]C11726123110ABC")
    assert str(error.value) == (
        "This barcode has a lot but no product (GTIN). Scan the product's barcode or choose "
        "the product, then scan again."
    )
    # A page that already knows the product can still take the lot and expiry.
    assert (error.value.scan.lot, error.value.scan.expiry) == ("ABC", date(2026, 12, 31))


def test_expiry_without_product() -> None:
    with pytest.raises(PairingError, match=r"^This barcode has an expiry date but no product"):
        scan("]C117261231")


def test_count_needs_content_gtin() -> None:
    with pytest.raises(PairingError) as error:
        scan(f"01{GTIN}3724")
    assert str(error.value) == ("This barcode has a count of contained items (37) but no content GTIN (02).")


def test_gtin_and_content_gtin_exclude_each_other() -> None:
    with pytest.raises(PairingError, match=r"both a GTIN \(01\) and a content GTIN \(02\)"):
        scan(f"01{GTIN}02{GTIN}3724")


def test_content_gtin_without_sscc_is_accepted() -> None:
    # On a GS1 logistic label the SSCC is a barcode of its own.
    result = scan(f"02{GTIN}3724{GS}10ABC")
    assert (result.gtin, result.quantity, result.lot) == (GTIN, Decimal(24), "ABC")


def test_sku_counts_as_the_product_on_our_labels() -> None:
    assert scan(f"240JAM{GS}1726123110ABC").lot == "ABC"


def test_missing_separator_after_a_lot() -> None:
    with pytest.raises(MissingSeparator) as error:
        scan(f"01{GTIN}10ABC17261231")
    assert str(error.value) == (
        'The lot "ABC17261231" seems to contain an expiry date (17). The barcode is probably '
        "missing a separator: check the label and type it by hand."
    )
    with pytest.raises(MissingSeparator, match=r"a production date \(11\)"):
        scan(f"01{GTIN}10ABC112505013724")


def test_a_lot_longer_than_twenty_characters() -> None:
    with pytest.raises(MissingSeparator) as error:
        scan(f"01{GTIN}10ABCDEFGHIJKLMNOPQRSTUVW")
    assert str(error.value) == (
        "The lot on this barcode is 23 characters long; the limit is 20. The barcode is probably "
        "missing a separator: check the label and type it by hand."
    )


@pytest.mark.parametrize(
    ("raw", "lot"),
    [
        # The label has its expiry already: the digits are part of the lot.
        (f"01{GTIN}1726123110ABC17261231", "ABC17261231"),
        # A production date ten years ago is no production date.
        (f"01{GTIN}10ABC11150101", "ABC11150101"),
        (f"01{GTIN}10ABC1726123", "ABC1726123"),  # seven digits: no date
        (f"(01){GTIN}(10)ABC17261231", "ABC17261231"),  # the brackets say where the lot ends
        (f"https://id.example.com/01/{GTIN}/10/ABC17261231", "ABC17261231"),
    ],
)
def test_lots_that_merely_contain_digits_are_kept(raw: str, lot: str) -> None:
    assert scan(raw).lot == lot


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Nothing was scanned."),
        (" \r\n", "Nothing was scanned."),
        ("\x00\x01\x02", "This scan could not be read. Scan again."),
        ("]C1", "The barcode was empty."),
        ("]C1ABC", "This barcode could not be read: 'ABC' does not start with a known GS1 code."),
        ("]C1017", "The GTIN (01) on this barcode is too short: '7' should have 14 digits."),
        ("]C123ABC", "This barcode could not be read: '23ABC' does not start with a known GS1 code."),
        ("x" * 5000, "This scan is too long to be a barcode (5000 characters)."),
        (
            "(01)09501101530003(10)ABCDEFGHIJKLMNOPQRSTU",
            "The lot on this barcode is 21 characters long; the limit is 20.",
        ),
        ("(01)09501101530003(10)A B", "The lot on this barcode is not valid: 'A B'."),
    ],
)
def test_unreadable_scans(raw: str, message: str) -> None:
    with pytest.raises(UnreadableScan) as error:
        scan(raw)
    assert str(error.value) == message


def test_every_error_is_a_value_error() -> None:
    for error in (BadCheckDigit, ImpossibleDate, DuplicateAI, PairingError, MissingSeparator):
        assert issubclass(error, ScanError)
    assert issubclass(ScanError, ValueError)


# -- properties ----------------------------------------------------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
GS1ISH = string.digits + GS + "()~|]CQde/:?=&%" + "ABCxyz \r\n\t"


@st.composite
def gs1ish(draw: st.DrawFn) -> str:
    """Nearly GS1: real AIs with digits, letters, stray brackets and separators, in any order."""
    ais = ["00", "01", "02", "10", "11", "15", "17", "21", "240", "30", "37", "3103", "7007", "8006", "91", "99"]
    parts = []
    bracketed = draw(st.booleans())
    for _ in range(draw(st.integers(1, 6))):
        ai = draw(st.sampled_from(ais))
        value = draw(st.text(alphabet=string.digits * 3 + "AZaz-(/)²١", max_size=22))
        parts.append(f"({ai}){value}" if bracketed else ai + value + draw(st.sampled_from(["", GS, "~"])))
    prefix = draw(st.sampled_from(["", "]C1", "]d2", "]Q3", "]E0", "]C0", "https://x.example/"]))
    return prefix + "".join(parts)


@settings(max_examples=400)
@given(
    st.one_of(st.text(), st.text(alphabet=GS1ISH, max_size=60), gs1ish()),
    st.sampled_from([None, "~", "|"]),
)
@example("]", None)
@example("]C1" + GS * 3, None)
@example("(01)(10)(17)", None)
@example("http://[::1", None)
@example("https://x/01/%ff%fe", None)
@example("(10)" + "(10)" * 40, None)
@example("²²²²²²²²", None)
@example("(17)²²²²²²", None)
@example("١٢٣٤٥٦٧٨٩٠١٢٣", None)
@example("]C101٠٩٥٠١١٠١٥٣٠٠٠٣", None)
@example("]Y:", None)
@example("]e:0", None)
def test_arbitrary_input_gives_a_scan_or_a_scan_error(raw: str, separator: str | None) -> None:
    try:
        result = parse(raw, separator=separator, today=TODAY)
    except ScanError:
        return
    assert isinstance(result, Scan)
    assert result.gtin is None or (len(result.gtin) == 14 and result.gtin.isascii() and result.gtin.isdigit())
    assert all(value.isascii() for _, value in result.elements)
    assert result.text if result.kind in ("text", "gtin") else result.elements


@st.composite
def gtins(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(alphabet=string.digits, min_size=length - 1, max_size=length - 1))
    return body + str(gtin_check_digit(body))


@st.composite
def labels(draw: st.DrawFn) -> tuple[LotBarcodeData, date]:
    today = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
    window = timedelta(days=25 * 365)
    expiry = draw(st.none() | st.dates(min_value=today - window, max_value=today + window))
    lot = draw(st.text(alphabet=CSET82, min_size=1, max_size=20))
    if draw(st.booleans()):
        return LotBarcodeData(lot=lot, gtin=draw(gtins()), expiry=expiry), today
    sku = draw(st.text(alphabet=CSET82, min_size=1, max_size=30))
    return LotBarcodeData(lot=lot, sku=sku, expiry=expiry), today


# A value that goes on with what reads as a date or GTIN field is where `parse` may report a
# probably missing separator instead (see test_missing_separator_after_a_lot).
GLUED = re.compile(r".(?:1[13567]\d{6}|0[012]\d{14})")


def assert_same(result: Scan, data: LotBarcodeData) -> None:
    assert (result.gtin, result.sku, result.lot, result.expiry) == (
        data.gtin,
        data.sku,
        data.lot,
        data.expiry,
    )


@settings(max_examples=300)
@given(labels(), st.sampled_from(["", "]C1", "]d2", "]Q3", "]e0"]), st.sampled_from([GS, "~", "|"]))
def test_element_strings_we_print_parse_back(label: tuple[LotBarcodeData, date], prefix: str, separator: str) -> None:
    data, today = label
    raw = prefix + element_string(data, separator=separator) + "\r"
    try:
        result = parse(raw, separator=separator, today=today)
    except MissingSeparator:
        assert GLUED.search(data.lot) or GLUED.search(data.sku or "")
        return
    assert_same(result, data)
    assert result.kind == "gs1"


@settings(max_examples=300)
@given(labels())
def test_human_readable_text_we_print_parses_back(label: tuple[LotBarcodeData, date]) -> None:
    data, today = label
    # "(17)" inside a lot is indistinguishable from an AI in printed text; such lots are only
    # read right when one reading is consistent (see the examples above).
    assume(not re.search(r"\(\d{2,4}\)", data.lot + (data.sku or "")))
    assert_same(parse(human_readable(data), today=today), data)


@settings(max_examples=300)
@given(
    labels(),
    st.sampled_from(["https://lotwise.example/l", "http://10.0.0.7:8000/", "https://id.example.com/x/y"]),
)
def test_digital_links_we_print_parse_back(label: tuple[LotBarcodeData, date], base: str) -> None:
    data, today = label
    result = parse(digital_link(data, base), today=today)
    assert_same(result, data)
    assert result.kind == "digital_link"

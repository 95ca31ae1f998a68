"""Our element strings and Digital Link URIs against GS1's rules (the GS1 Barcode Syntax Dictionary,
tests/data/gs1/gs1-syntax-dictionary.txt); plain labels carry no GS1 marker at all."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from labels.gs1 import LotBarcodeData, digital_link, element_string, label_url, plain_text
from tests.helpers.gs1_rules import GS, digital_link_problems, element_string_problems, hri, problems, rules
from tests.helpers.labels import CSET82, GTIN

BASE = "https://lots.example.com"


def test_the_rule_table_says_what_gs1_says_about_known_cases() -> None:
    assert element_string_problems(f"01{GTIN}1726123110LOT-1") == []
    assert element_string_problems(f"02{GTIN}3712{GS}10A") == ["Required AIs for AI (37) are not satisfied: 00"]
    # The label the issue quotes: (240) and (10) without a GTIN.
    found = problems(hri("(240)LBL-RASP-340(10)260601-A"))
    assert "Required AIs for AI (10) are not satisfied: 01,02,03,8006,8026" in found
    assert "Required AIs for AI (240) are not satisfied: 01,02,8006,8026" in found
    assert "It is invalid to pair AI (02) with AI (01)" in element_string_problems(f"01{GTIN}02{GTIN}3712")
    assert "It is invalid to pair AI (01) with AI (255)" in problems([("01", GTIN), ("255", "0950600013437")])
    assert any("check digit" in p for p in element_string_problems("0109506000134353"))
    assert any("characters" in p for p in element_string_problems(f"01{GTIN}10LOT 1"))
    assert any("1..20" in p for p in element_string_problems(f"01{GTIN}10{'A' * 21}"))
    assert any("not a date" in p for p in element_string_problems(f"01{GTIN}17261331"))
    assert element_string_problems(f"01{GTIN}17261200") == [], "day 00 is the end of the month"
    assert digital_link_problems(f"{BASE}/240/LBL-RASP-340/10/260601-A") == ["No GS1 DL keys found in path info"]
    assert digital_link_problems(f"{BASE}/01/{GTIN}/10/A%2FB?17=261231") == []
    assert digital_link_problems(f"{BASE}/01/{GTIN}/21/S/10/A") != [], "qualifiers out of order"



def test_the_dictionary_is_read_whole() -> None:
    table = rules()
    assert len(table) > 500, "ranges such as 3100-3105 and 91-99 are expanded"
    assert {"00", "01", "10", "17", "3105", "91", "99", "8030"} <= set(table)
    assert table["01"].fixed and table["01"].dlpkey == (("22", "10", "21"), ("235",))
    assert table["00"].dlpkey == ((),) and table["10"].dlpkey is None
    assert not table["10"].fixed and table["10"].dl_attribute and not table["22"].dl_attribute
    assert [(c.kind, c.low, c.high, c.optional) for c in table["253"].components] == [("N", 13, 13, False),
                                                                                     ("X", 1, 17, True)]


def test_patterns_groups_and_data_attributes_as_the_dictionary_writes_them() -> None:
    # ex=310n: two net weights in kg with different decimals may not be paired; one alone is fine.
    assert problems([("01", GTIN), ("3102", "000250")]) == []
    assert "It is invalid to pair AI (3102) with AI (3103)" in problems([("01", GTIN), ("3102", "000250"),
                                                                         ("3103", "000025")])
    # req=01+21,...: a digital signature needs the GTIN together with a serial.
    sig = [("01", GTIN), ("8030", "QUJD")]
    assert any(p.startswith("Required AIs for AI (8030)") for p in problems(sig))
    assert not any(p.startswith("Required AIs for AI (8030)") for p in problems([*sig, ("21", "S1")]))
    # (22) is a Digital Link qualifier, not a data attribute; (17) may be either's attribute.
    assert digital_link_problems(f"{BASE}/01/{GTIN}?22=A") == [
        "AI (22) is not permitted as a GS1 Digital Link data attribute"]
    assert digital_link_problems(f"{BASE}/01/{GTIN}/22/A/10/B") == []
    assert digital_link_problems(f"{BASE}/01/{GTIN}/235/T/10/B") != [], "235 is an alternative path, not mixed"
    assert any("not a date" in p for p in problems([("01", GTIN), ("7006", "260100")])), "yymmdd has no day 00"
    assert any("not implemented" in p for p in problems([("01", GTIN), ("422", "826")])), \
        "a linter these tests lack fails loudly rather than passing"

lot82 = st.text(alphabet=CSET82, min_size=1, max_size=20)
printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40).map(
    str.strip).filter(bool)
expiry = st.none() | st.dates(date(2000, 1, 1), date(2049, 12, 31))


@settings(max_examples=200, deadline=None)
@given(lot=lot82, expiry=expiry)
def test_every_gs1_label_passes_the_rules(lot: str, expiry: date | None) -> None:
    data = LotBarcodeData(lot=lot, gtin=GTIN, expiry=expiry)
    assert element_string_problems(element_string(data)) == []
    assert digital_link_problems(digital_link(data, BASE)) == []
    assert digital_link_problems(label_url(data, BASE)) == []


@settings(max_examples=200, deadline=None)
@given(lot=printable, sku=st.from_regex(r"[A-Za-z0-9._/-]{1,30}", fullmatch=True))
def test_a_label_without_a_gtin_carries_no_gs1_marker(lot: str, sku: str) -> None:
    data = LotBarcodeData(lot=lot, sku=sku)
    assert not data.gs1
    text = plain_text(data)
    assert GS not in text and " " in text, "no FNC1, and a space GS1 data never holds"
    assert digital_link_problems(label_url(data, BASE)) == ["No GS1 DL keys found in path info"]

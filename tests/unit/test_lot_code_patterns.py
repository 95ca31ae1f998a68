"""Lot code patterns make codes GS1 AI 10 accepts (at most 20 characters of the 82-character set), or are
refused when Lotwise starts."""

from __future__ import annotations

from datetime import date

import pytest

from app.rules.lotcodes import PatternError, check_pattern, lot_code
from labels.gs1 import LotBarcodeData

DAY = date(2026, 11, 23)
RECOMMENDED = "{sku}-{date:%y%m%d}-{seq_alpha}"


def test_the_default_and_the_recommended_patterns_are_accepted() -> None:
    check_pattern("{date:%y%m%d}-{seq_alpha}")
    check_pattern(RECOMMENDED)
    assert lot_code("{date:%y%m%d}-{seq_alpha}", DAY, "JAM-RASP", 1) == "261123-A"
    assert lot_code(RECOMMENDED, DAY, "JAM-RASP", 28) == "JAM-RASP-261123-AB"


def test_a_long_sku_is_shortened_so_the_code_still_fits_gs1_ai_10() -> None:
    sku = "JAM-RASPBERRY-SEEDLESS-340G"  # 27 characters, a valid sku
    for seq in (1, 27, 702):
        code = lot_code(RECOMMENDED, DAY, sku, seq)
        assert len(code) <= 20 and code.startswith("JAM-RASP")
        LotBarcodeData(lot=code, sku="JAM-RASP")  # a label would accept it
    assert lot_code(RECOMMENDED, DAY, sku, 1) == "JAM-RASPBER-261123-A"


@pytest.mark.parametrize(("pattern", "why"), [
    ("{sku} {date:%y%m%d}", "characters GS1 lot codes (AI 10) do not allow"),
    ("{date:%Y-%m-%d}-{seq}-BATCH-OF-THE-DAY", "longer than the 20 characters"),
    ("{sku}-{date:%Y%m%d}-{seq:08d}-{seq_alpha}", "longer than the 20 characters"),
    ("{product}-{seq}", "unknown field(s) product"),
    ("{date:%y%m%d", "not a valid pattern"),
    ("LOT#{seq}", "do not allow"),
])
def test_a_pattern_that_cannot_make_gs1_lot_codes_is_refused(pattern: str, why: str) -> None:
    with pytest.raises(PatternError, match=r".*") as exc:
        check_pattern(pattern)
    assert why in str(exc.value)


def test_lotwise_does_not_start_with_a_pattern_gs1_would_reject() -> None:
    from app import create_app

    with pytest.raises(ValueError, match="LOTWISE_LOT_CODE_PATTERN"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "LOT_CODE_PATTERN": "{sku} {seq}"})

"""The seeded photo corpus lives in `tests.helpers.scan_corpus`; this name stays for `benchmarks/bench_decode.py`."""

from tests.helpers.scan_corpus import BLANK_KINDS, CONDITIONS, FORMATS, TODAY, Sample, barcode_sample, blank_sample

__all__ = ["BLANK_KINDS", "CONDITIONS", "FORMATS", "TODAY", "Sample", "barcode_sample", "blank_sample"]

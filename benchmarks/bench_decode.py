"""Photo decoding benchmark: read rate, time and false reads on a generated photo-like corpus, or
(`--corpus DIR`) on a folder of real photos described by a `manifest.csv`."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks import bench_decode_corpus
from benchmarks.report import write_section
from scanning import Decoded, ScanError, decode, parse
from tests.helpers.scan_corpus import (
    BLANK_KINDS,
    CONDITIONS,
    FORMATS,
    TODAY,
    Sample,
    barcode_sample,
    blank_sample,
)

COMMAND = "python -m benchmarks.bench_decode"


@dataclass(frozen=True)
class Job:
    kind: str  # "barcode" or "blank"
    name: str  # corpus format or blank kind
    condition: str
    index: int
    seed: int


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    found: tuple[Decoded, ...]
    ms: float
    """Wall-clock time of the call."""
    cpu_ms: float
    """Processor time of the call: what it takes on an idle core, whatever else the machine does."""

    @property
    def right(self) -> tuple[Decoded, ...]:
        return tuple(d for d in self.found if is_right(self.sample, d))

    @property
    def read(self) -> bool:
        return bool(self.right) if self.sample.format else not self.found

    @property
    def wrong(self) -> bool:
        """Something was reported, but not what the photo holds (or anything, for a blank)."""
        return bool(self.found) and not self.right


def is_right(sample: Sample, decoded: Decoded) -> bool:
    if sample.format is None or decoded.format != sample.decoded_format:
        return False
    if sample.label is None:
        return decoded.text == sample.text
    try:
        scan = parse(decoded.text, today=TODAY)
    except ScanError:
        return False
    label = sample.label
    return (scan.gtin, scan.sku, scan.lot, scan.expiry) == (label.gtin, label.sku, label.lot, label.expiry)


def make(job: Job) -> Sample:
    if job.kind == "barcode":
        return barcode_sample(job.name, job.condition, job.index, seed=job.seed)
    return blank_sample(job.name, job.index, seed=job.seed)


def zbar_only(sample: Sample) -> tuple[Decoded, ...]:
    return tuple(decode(sample.data, engines=("zbar",)))


def jobs(per: int, per_12mp: int, blanks: int, seed: int) -> list[Job]:
    out = [
        Job("barcode", fmt, condition, i, seed)
        for fmt in FORMATS
        for condition in CONDITIONS
        for i in range(per_12mp if condition == "12mp" else per)
    ]
    out += [Job("blank", kind, kind, i, seed) for kind in BLANK_KINDS for i in range(blanks)]
    return out


def timed(samples: Sequence[Sample]) -> list[Outcome]:
    """Decode one photo at a time, as a server worker would, timing each call."""
    decode(samples[0].data)  # load the libraries before the clock starts
    outcomes = []
    for sample in samples:
        started, cpu = time.perf_counter(), time.process_time()
        found = decode(sample.data)
        wall_ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
        outcomes.append(Outcome(sample, tuple(found), wall_ms, cpu_ms))
    return outcomes


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rate(hits: int, total: int) -> str:
    return f"{100 * hits / total:.0f}% ({hits}/{total})" if total else "–"


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summarise(outcomes: list[Outcome], zbar: dict[str, tuple[Decoded, ...]], key: str) -> str:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.sample.format:
            groups[getattr(outcome.sample, key)].append(outcome)
    rows = []
    for name, group in groups.items():
        times = [o.ms for o in group]
        zxing_hits = sum(1 for o in group if any(d.engine == "zxing" for d in o.right))
        zbar_hits = sum(1 for o in group if any(is_right(o.sample, d) for d in zbar[o.sample.name]))
        rows.append(
            [
                name,
                rate(sum(o.read for o in group), len(group)),
                rate(zxing_hits, len(group)),
                rate(zbar_hits, len(group)),
                str(sum(o.wrong for o in group)),
                f"{statistics.median(times):.0f}",
                f"{percentile(times, 0.95):.0f}",
                f"{statistics.median(o.cpu_ms for o in group):.0f}",
            ]
        )
    header = [key, "read", "zxing only", "zbar only", "wrong reads", "median ms", "p95 ms", "median CPU ms"]
    return table(rows, header)


def report(outcomes: list[Outcome], zbar: dict[str, tuple[Decoded, ...]], loads: tuple[str, str]) -> str:
    with_code = [o for o in outcomes if o.sample.format]
    blanks = [o for o in outcomes if not o.sample.format]
    full = [o for o in with_code if o.sample.condition == "12mp"]
    full_blank = [o for o in blanks if o.sample.condition == "12mp"]
    zxing_hits = sum(1 for o in with_code if any(d.engine == "zxing" for d in o.right))
    zbar_hits = sum(1 for o in with_code if any(is_right(o.sample, d) for d in zbar[o.sample.name]))
    false_zbar = sum(1 for o in blanks if zbar[o.sample.name])
    lines = [
        f"{len(with_code)} photos with one barcode ({len(FORMATS)} formats × {len(CONDITIONS)} conditions) "
        f"and {len(blanks)} without, generated by `tests/helpers/scan_corpus.py` (seeded, phone-sized "
        "1600×1200 to 1920×1080 and 12 MP, JPEG/PNG). `decode()` with its defaults (400 ms budget); "
        "a read counts only if it carries exactly the printed data (GS1: GTIN or sku, lot and expiry "
        "after `parse`). *zxing only* is the combined pipeline's first stage, which runs unchanged "
        "before zbar is tried; *zbar only* is `decode(engines=('zbar',))`, which cannot read DataMatrix.",
        "",
        f"- **All formats:** read {rate(sum(o.read for o in with_code), len(with_code))}; zxing only "
        f"{rate(zxing_hits, len(with_code))}; zbar only {rate(zbar_hits, len(with_code))}; "
        f"wrong reads {sum(o.wrong for o in with_code)}.",
        f"- **No-barcode photos:** false reads {sum(o.wrong for o in blanks)} of {len(blanks)} "
        f"(zbar only: {false_zbar}); median {statistics.median(o.ms for o in blanks):.0f} ms "
        "(they use up the budget looking).",
        f"- **12-megapixel photos with a barcode:** median {statistics.median(o.ms for o in full):.0f} ms "
        f"(p95 {percentile([o.ms for o in full], 0.95):.0f} ms) wall clock, median "
        f"{statistics.median(o.cpu_ms for o in full):.0f} ms of CPU (target: median < 50 ms); "
        f"without a barcode median {statistics.median(o.ms for o in full_blank):.0f} ms.",
        f"- Load average (1 min) before/after the run: {loads[0]} / {loads[1]} on {os.cpu_count()} cores. "
        "Wall-clock times include waiting for a core; CPU times are what a call costs on an idle one.",
        "",
        "### By format",
        "",
        summarise(outcomes, zbar, "format"),
        "",
        "### By condition",
        "",
        summarise(outcomes, zbar, "condition"),
    ]
    return "\n".join(lines)


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per", type=int, default=12, help="photos per format and condition")
    parser.add_argument("--per-12mp", type=int, default=8, help="12 MP photos per format")
    parser.add_argument("--blanks", type=int, default=10, help="photos without barcode per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--corpus", type=Path, metavar="DIR",
                        help="a folder of real photos with a manifest.csv, instead of generated photos")
    parser.add_argument("--jobs", type=int, default=1,
                        help="with --corpus: processes decoding at once (1 for the fairest times)")
    parser.add_argument("--split-seed", type=int, default=16,
                        help="with --corpus: seed of the split into halves A (to tune) and B (to check)")
    parser.add_argument("--half", choices=["A", "B"], help="with --corpus: decode only this half")
    parser.add_argument("--budget-ms", type=int, default=None, help="with --corpus: decode()'s time budget")
    parser.add_argument("--show", action="store_true", help="with --corpus: list every miss and wrong read")
    args = parser.parse_args(argv)
    if args.corpus is not None:
        return bench_decode_corpus.run(args)

    loads = [load_average()]
    started = time.perf_counter()
    todo = jobs(args.per, args.per_12mp, args.blanks, args.seed)
    with ProcessPoolExecutor(args.workers) as pool:
        samples = list(pool.map(make, todo, chunksize=4))
    print(f"generated {len(samples)} photos in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    outcomes = timed(samples)
    print(f"decoded them in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # zbar alone is only counted, not timed, so it may run in parallel.
    with ProcessPoolExecutor(args.workers) as pool:
        zbar = dict(zip((s.name for s in samples), pool.map(zbar_only, samples, chunksize=4), strict=True))
    loads.append(load_average())
    body = report(outcomes, zbar, (loads[0], loads[1]))
    print(body)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if not args.no_write:
        write_section("decode", "Photo decoding", COMMAND, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

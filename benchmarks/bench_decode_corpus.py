"""`bench_decode --corpus DIR`: read rate, wrong reads and time of `scanning.decode` on real photos.

The folder is used where it lies (its photos are not ours to copy). Each photo is decoded once by
`decode()` with its defaults, one photo at a time per process, and once by plain zxing-cpp
(`read_barcodes` with its defaults on the full-size photo) for comparison. The equivalence rules
for what counts as read are in `tests/helpers/photo_folder.py`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

import scanning
from benchmarks.report import write_section
from scanning import decode
from tests.helpers.photo_folder import Photo, expected_values, halves, load, read_value

COMMAND = "python -m benchmarks.bench_decode --corpus ../shared/scan-corpus --jobs 1"
TWELVE_MP = 10.0
"""Megapixels from which a photo counts as a 12 MP phone photo (4032 × 3024 = 12.2)."""


@dataclass(frozen=True)
class Result:
    name: str
    reads: tuple[tuple[str, str], ...]
    """(format, text) of every barcode decode() returned."""
    ms: float
    cpu_ms: float
    plain: tuple[tuple[str, str], ...]
    plain_ms: float


@dataclass(frozen=True)
class Scored:
    photo: Photo
    result: Result
    half: str

    def found(self, values: set[str]) -> int:
        """How many of the photo's expected values the answer holds."""
        return len(values & {read_value(text, fmt) for fmt, text in self.result.reads})

    @property
    def read(self) -> int:
        return self.found(expected_values(self.photo))

    @property
    def wrong(self) -> tuple[tuple[str, str], ...]:
        expected = expected_values(self.photo)
        return tuple((fmt, text) for fmt, text in self.result.reads if read_value(text, fmt) not in expected)

    @property
    def plain_read(self) -> int:
        expected = expected_values(self.photo)
        return len(expected & {read_value(text, fmt) for fmt, text in self.result.plain})

    @property
    def plain_wrong(self) -> int:
        expected = expected_values(self.photo)
        return sum(1 for fmt, text in self.result.plain if read_value(text, fmt) not in expected)


_PLAIN_NAMES = {"EAN13": "EAN-13", "EAN8": "EAN-8", "UPCA": "UPC-A", "UPCE": "UPC-E"}


def _plain(data: bytes) -> tuple[tuple[tuple[str, str], ...], float]:
    """Plain zxing-cpp, as an application would call it: the full photo, every format, defaults."""
    started = time.perf_counter()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    found = zxingcpp.read_barcodes(image) if image is not None else []
    ms = (time.perf_counter() - started) * 1000
    return tuple((_PLAIN_NAMES.get(r.format.name, r.format.name), r.text) for r in found), ms


def _decode_all(todo: tuple[list[Photo], int | None]) -> list[Result]:
    photos, budget = todo
    kwargs = {} if budget is None else {"budget_ms": budget}
    decode(photos[0].path.read_bytes(), **kwargs)  # load the libraries before the clock starts
    results = []
    for photo in photos:
        data = photo.path.read_bytes()
        started, cpu = time.perf_counter(), time.process_time()
        found = decode(data, **kwargs)
        ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
        plain, plain_ms = _plain(data)
        reads = tuple((d.format, d.text) for d in found)
        results.append(Result(photo.name, reads, ms, cpu_ms, plain, plain_ms))
    return results


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rate(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f}% ({hits}/{total})" if total else "–"


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _row(name: str, group: list[Scored]) -> list[str]:
    codes = sum(len(s.photo.codes) for s in group)
    times = [s.result.ms for s in group]
    return [
        name,
        rate(sum(s.read for s in group), codes),
        str(sum(len(s.wrong) for s in group)),
        rate(sum(s.plain_read for s in group), codes),
        str(sum(s.plain_wrong for s in group)),
        f"{statistics.median(times):.0f}",
        f"{percentile(times, 0.95):.0f}",
        f"{max(times):.0f}",
        f"{statistics.median(s.result.cpu_ms for s in group):.0f}",
        f"{statistics.median(s.result.plain_ms for s in group):.0f}",
    ]


_HEADER = ["", "read", "wrong reads", "plain zxing-cpp", "its wrong reads", "median ms", "p95 ms", "max ms",
           "median CPU ms", "plain zxing-cpp median ms"]  # fmt: skip


def _grouped(scored: list[Scored], key: Callable[[Scored], str]) -> str:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        groups[key(s)].append(s)
    return table([_row(name, groups[name]) for name in sorted(groups)], _HEADER)


def report(scored: list[Scored], *, folder: str, seed: int, budget: int, loads: tuple[str, str], jobs: int) -> str:
    big = [s for s in scored if s.photo.megapixels >= TWELVE_MP]
    over = [s for s in scored if s.result.ms > budget]
    worst = max(scored, key=lambda s: s.result.ms)
    lines = [
        f"{sum(len(s.photo.codes) for s in scored)} barcodes in {len(scored)} real photos and scans from "
        f"`{folder}` (public decoder test sets; not copied into the repository). `decode()` with its defaults "
        f"({budget} ms budget), {jobs} photo(s) decoded at a time. A barcode counts as read when `decode()` "
        "returns its expected text (GS1 compared without symbology identifier and leading FNC1; EAN-13, EAN-8 "
        "and UPC-A compared as GTIN-14); any other value returned is a wrong read. *Plain zxing-cpp* is "
        "`zxingcpp.read_barcodes` with its defaults on the full-size photo, for comparison. The folder is "
        f"split by a fixed seed ({seed}), each format evenly, into half A (used to tune the decoder) "
        "and half B (held out, to check it).",
        "",
        f"- **All photos:** read {rate(sum(s.read for s in scored), sum(len(s.photo.codes) for s in scored))}, "
        f"wrong reads {sum(len(s.wrong) for s in scored)}; plain zxing-cpp "
        f"{rate(sum(s.plain_read for s in scored), sum(len(s.photo.codes) for s in scored))}, wrong reads "
        f"{sum(s.plain_wrong for s in scored)}.",
    ]
    for half in ("A", "B"):
        group = [s for s in scored if s.half == half]
        if group:
            codes = sum(len(s.photo.codes) for s in group)
            lines.append(f"- **Half {half}** ({'tuning' if half == 'A' else 'held out'}): read "
                         f"{rate(sum(s.read for s in group), codes)}, wrong reads "
                         f"{sum(len(s.wrong) for s in group)}.")  # fmt: skip
    if big:
        lines.append(
            f"- **12 MP photos** ({len(big)}): median {statistics.median(s.result.ms for s in big):.0f} ms "
            f"(max {max(s.result.ms for s in big):.0f} ms) wall clock, median "
            f"{statistics.median(s.result.cpu_ms for s in big):.0f} ms of CPU; plain zxing-cpp median "
            f"{statistics.median(s.result.plain_ms for s in big):.0f} ms. Target: median < 60 ms."
        )
    lines += [
        f"- **Time:** median {statistics.median(s.result.ms for s in scored):.0f} ms, max "
        f"{worst.result.ms:.0f} ms ({worst.photo.width}×{worst.photo.height}, {worst.result.cpu_ms:.0f} ms of CPU); "
        f"{len(over)} photo(s) over the {budget} ms budget.",
        f"- Load average (1 min) before/after the run: {loads[0]} / {loads[1]} on {os.cpu_count()} cores "
        "(a shared machine: wall-clock times include waiting for a core; CPU times are what a call costs).",
        "",
        "### Real photos by format",
        "",
        _grouped(scored, lambda s: s.photo.format),
        "",
        "### Real photos by kind",
        "",
        _grouped(scored, lambda s: s.photo.kind),
    ]
    return "\n".join(lines)


def details(scored: list[Scored]) -> str:
    lines = []
    for s in scored:
        expected = expected_values(s.photo)
        if s.read < len(s.photo.codes) or s.wrong:
            lines.append(f"{s.half} {'WRONG' if s.wrong else 'miss '} {s.photo.name} {s.photo.width}x{s.photo.height} "
                         f"{s.result.ms:.0f}ms expected={sorted(expected)} got={list(s.result.reads)}")  # fmt: skip
    return "\n".join(lines)


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def run(args: argparse.Namespace) -> int:
    photos = load(args.corpus)
    split = halves(photos, args.split_seed)
    half_of = {p.name: half for half, group in split.items() for p in group}
    todo = split[args.half] if args.half else photos
    # An older `scanning` (to compare decoders on one machine) has no named default: it was 400 ms.
    budget = args.budget_ms if args.budget_ms is not None else getattr(scanning, "DEFAULT_BUDGET_MS", 400)
    loads = [load_average()]
    started = time.perf_counter()
    jobs = max(1, args.jobs)
    chunks = [todo[i::jobs] for i in range(jobs)]
    with ProcessPoolExecutor(jobs) as pool:
        results = [r for chunk in pool.map(_decode_all, [(c, args.budget_ms) for c in chunks if c]) for r in chunk]
    loads.append(load_average())
    print(f"decoded {len(todo)} photos in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    by_name = {p.name: p for p in photos}
    scored = sorted((Scored(by_name[r.name], r, half_of[r.name]) for r in results), key=lambda s: s.photo.name)
    body = report(scored, folder=str(args.corpus), seed=args.split_seed, budget=budget,
                  loads=(loads[0], loads[1]), jobs=jobs)  # fmt: skip
    if args.show:
        print(details(scored))
    print(body)
    if not args.no_write and args.half is None:
        if args.budget_ms is None:
            write_section("decode-photos", "Photo decoding on real photos", COMMAND, body)
        else:
            # A longer budget shows what the decoder reads when waiting for a core on a busy
            # machine does not use the budget up.
            write_section(f"decode-photos-{budget}ms", f"Photo decoding on real photos, {budget} ms budget",
                          f"{COMMAND} --budget-ms {budget}", body)
    return 0

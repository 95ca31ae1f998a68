"""The allocator against an independent integer program on thousands of random small waves.

    python -m benchmarks.bench_allocator_exact [--waves 3000] [--seed 15] [--lines 6 --rows 6] [--no-write]

Each wave is one sku with 1-6 lines and 1-6 stock rows (or up to --lines and --rows): crossing
percentage rules, lot-count limits (60 % of lines), no-date-reversal, holds and recalls, lots over two locations, and a
quarter of the waves in half units. For each wave it checks every rule on the plan and compares
the plan's goal (total fill; units per expiry class from the latest down; fills in serving
order) with the best the integer program finds (tests/helpers/allocation_oracle.py). Writes
the "allocator-exact" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence

from allocation import allocate
from benchmarks.report import write_section
from tests.helpers.allocation_oracle import milp_key, plan_key, random_wave, rules_broken

COMMAND = "python -m benchmarks.bench_allocator_exact"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waves", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--lines", type=int, default=6, help="most lines in a wave")
    parser.add_argument("--rows", type=int, default=6, help="most stock rows in a wave")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs alone")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    broken = short_of_best = limited = shortfall_waves = 0
    spent = 0.0
    for n in range(args.waves):
        lines, lots = random_wave(rng, args.lines, args.rows)
        started = time.process_time()
        plan = allocate(lines, lots)
        spent += time.process_time() - started
        limited += any(line.rule.max_lots_per_line is not None for line in lines)
        shortfall_waves += bool(plan.shortages)
        if rules_broken(plan, lines, lots):
            broken += 1
            print(f"wave {n}: rules broken: {rules_broken(plan, lines, lots)}", flush=True)
        if plan_key(plan, lines, lots) != milp_key(lines, lots):
            short_of_best += 1
            print(f"wave {n}: not the best plan", flush=True)
    summary = (
        f"{args.waves:,} waves of up to {args.lines} lines and {args.rows} stock rows "
        f"(seed {args.seed}; {limited:,} with a lot-limited line, {shortfall_waves:,} "
        f"with a short line): {broken} broke a rule, {short_of_best} fell short of the integer program's best; "
        f"allocate used {spent:.1f} s of CPU in all"
    )
    print(summary)
    if args.no_write:
        return
    body = "\n".join(
        [
            "The allocator against an independent integer program (HiGHS through `highspy`, "
            f"`tests/helpers/allocation_oracle.py`) on random one-sku waves of 1–{args.lines} lines and "
            f"1–{args.rows} stock rows: "
            "crossing percentage rules, lot-count limits, no-date-reversal, holds and recalls, lots over two "
            "locations, a quarter in half units. Each plan is checked against every rule and its goal "
            "(total fill; then units per expiry class from the latest down; then fills in serving order) "
            "compared with the program's best, objective by objective.",
            "",
            summary + ".",
        ]
    )
    command = COMMAND if (args.lines, args.rows) == (6, 6) else f"{COMMAND} --lines {args.lines} --rows {args.rows}"
    section = "allocator-exact" if (args.lines, args.rows) == (6, 6) else "allocator-exact-larger"
    title = "Exact allocation against an integer program" + ("" if section == "allocator-exact" else ", larger waves")
    write_section(section, title, command, body)


if __name__ == "__main__":
    main()

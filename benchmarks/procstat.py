"""CPU time of processes read from /proc, and a CPU clock around a function: what the scan and booking
benchmarks measure with, in one place."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far; a process that has gone is left out."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return out


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far; 0 for a process that has gone."""
    return cpu_by_pid([pid]).get(pid, 0.0)


def backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to `database`."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("postgres: ") and f" {database} " in cmd:
                out.append(int(entry.name))
    return out


def timed(fn: Any, spent: list[int]) -> Any:
    """`fn`, adding the CPU nanoseconds each call takes to `spent[0]`."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[0] += time.process_time_ns() - t0
    return wrapper

"""One export of one year of every product, in this process, measured; printed as one JSON line.

    python benchmarks/regulatory_year.py URL FORMAT      (FORMAT: xlsx, csv or epcis)

Run by `bench_regulatory --baseline REF` once per format in its own process, with the source tree of REF or of
this tree first on PYTHONPATH, so each side's peak memory is its own. It uses only what both sides have (an
earlier tree builds EPCIS as one document in memory: `epcis.to_json(epcis.document(...))`).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.exports import epcis, fsma204
from app.models import Lot
from app.queries.regulatory import epcis_events, fsma204_events
from app.schemas import FsmaSelection


def _peak_mb() -> float:
    """This process's peak resident memory. Linux keeps getrusage's maxrss across exec, so a process started by a
    big parent would report the parent's size; VmHWM belongs to this program's own memory map."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    url, kind = sys.argv[1], sys.argv[2]
    engine = make_engine(url)
    site = epcis.Site(base_url="https://lotwise.example", company="Benchmark Foods")
    with Session(engine) as session:
        last = session.scalar(select(func.max(Lot.made_on)))
        assert last is not None
        sel = FsmaSelection(last - timedelta(days=364), last)
        t0, c0 = time.perf_counter(), time.process_time()
        if kind == "epcis":
            events = epcis_events(session, sel.date_from, sel.date_to, site.timezone, sel)
            chunks = getattr(epcis, "json_chunks", None)
            size = (sum(len(c) for c in chunks(events, site)) if chunks is not None
                    else len(epcis.to_json(epcis.document(events, site))))
        else:
            rows = fsma204.rows(fsma204_events(session, sel), company=site.company, web=site.base_url)
            size = sum(len(c) for c in (fsma204.xlsx_chunks(rows) if kind == "xlsx" else fsma204.csv_chunks(rows)))
        print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "bytes": size,
                          "rss_mb": _peak_mb()}))
    engine.dispose()


if __name__ == "__main__":
    main()

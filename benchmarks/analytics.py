"""The sales dashboard over many opportunities: SQL push-down vs loading them into Python.

Run: ``python benchmarks/analytics.py [--sizes 100000,300000,1000000] [--out PATH]``

One SQLite store (a file) grows to each size in turn. At each size the sales dashboard (revenue
per month against target, open and weighted pipeline, deals per stage, win rate, average deal
size, sales cycle, reps against the team) over twelve Asia/Taipei months is computed twice,
side by side:

* **push-down**: ``store.analytics().sales_facts(...)``: one ``GROUP BY`` query in SQLite, then
  :func:`crmkit.analytics.sales_summary` over the few dozen groups;
* **load**: every opportunity loaded into Python (page by page through the repository, as a
  store without push-down is read) and reduced by :func:`crmkit.analytics.sales_facts`.

Each measurement runs in a fresh child process (forked), which reports its wall time and its
peak resident memory above what it started with (``ru_maxrss``; C allocations such as SQLite's
page cache included). Both give the same dashboard, which is checked. Nothing is asserted
about speed: the numbers are for reading, and are written to ``docs/_benchmarks/analytics.md``.

The data: 10,000 deals are built through crmkit (opened, moved, won or lost; three currencies
would need rates, so all are in TWD) and written by the store; bigger sizes copy those rows in
SQL with new ids (the id inside each JSON document is rewritten too), so every row is one the
store wrote and reads back. The push-down's covering index is created once, before the data
grows (as the first ``sales_facts`` call on a store does), and kept up to date by the inserts.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from crmkit.adapters import sqlite_analytics  # noqa: F401  (imported before forking)
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.analytics import Periods, SalesSummary, sales_summary
from crmkit.app.analytics import LoadingAnalytics
from crmkit.kernel.money import Money
from crmkit.testing._analytics_strategies import deal

BASE = 10_000
PERIODS = Periods(date(2025, 1, 1), 12, time_zone="Asia/Taipei")
TARGETS = {p.key: Money("20000000", "TWD") for p in PERIODS.periods}


def base_deals() -> list[Any]:
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    deals = []
    for i in range(BASE):
        created = start + timedelta(hours=(i * 7) % 8000, minutes=i % 60)
        outcome = (None, "won", "lost")[i % 3]
        deals.append(
            deal(
                f"opp_{i:07d}",
                created=created,
                owner=f"u_{i % 25:02d}" if i % 50 else None,
                amount=Money(f"{1000 + (i * 37) % 99_000}.{i % 100:02d}", "TWD")
                if i % 40
                else None,
                expected=date(2025, 1 + i % 12, 1 + i % 28),
                proposal_at=created + timedelta(days=2) if i % 2 else None,
                outcome=outcome,
                closed=created + timedelta(days=5 + i % 60) if outcome else None,
            )
        )
    return deals


def grow(path: str, target: int) -> None:
    """Copy the first ``BASE`` rows until the table holds ``target`` rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    cols = [r[1] for r in conn.execute('PRAGMA table_info("crm_opportunities")')]
    rest = ", ".join(f'"{c}"' for c in cols if c not in ("id", "document"))
    have = conn.execute('SELECT COUNT(*) FROM "crm_opportunities"').fetchone()[0]
    conn.execute("BEGIN IMMEDIATE")
    while have < target:
        copy = have // BASE
        take = min(BASE, target - have)
        new_id = f"id || '_c{copy}'"
        conn.execute(
            f'INSERT INTO "crm_opportunities" (id, document, {rest}) '
            f"SELECT {new_id}, replace(document, '\"id\":\"' || id || '\"', "
            f'\'"id":"\' || {new_id} || \'"\'), {rest} FROM "crm_opportunities" '
            "WHERE id NOT LIKE '%\\_c%' ESCAPE '\\' ORDER BY id LIMIT ?",
            (take,),
        )
        have += take
    conn.execute("COMMIT")
    conn.close()


def push_down(path: str) -> SalesSummary:
    facts = SQLiteStore(path).analytics().sales_facts(PERIODS)
    return sales_summary(facts, currency="TWD", targets=TARGETS)


def load(path: str) -> SalesSummary:
    facts = LoadingAnalytics(SQLiteStore(path)).sales_facts(PERIODS)
    return sales_summary(facts, currency="TWD", targets=TARGETS)


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(run: Callable[[str], SalesSummary], path: str, out: Any) -> None:
    before = _rss_kib()
    started = time.perf_counter()
    result = run(path)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.send((elapsed, max(peak - before, 0) / 1024, result))
    out.close()


def measure(run: Callable[[str], SalesSummary], path: str) -> tuple[float, float, SalesSummary]:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(run, path, send))
    child.start()
    elapsed, mib, result = receive.recv()
    child.join()
    return elapsed, mib, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument(
        "--out", default=str(Path(__file__).parent.parent / "docs/_benchmarks/analytics.md")
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    workdir = tempfile.mkdtemp(prefix="crmkit-analytics-")
    path = os.path.join(workdir, "crm.sqlite3")
    store = SQLiteStore(path)
    with store.unit_of_work() as uow:
        uow.opportunities.add_many(base_deals())
        uow.commit()
    store.analytics().sales_facts(PERIODS)  # creates its covering index, as a first call does
    store.close()
    rows = []
    header = (
        f"{'deals':>10}  {'push-down s':>11}  {'peak MiB':>8}  {'load s':>8}  {'peak MiB':>8}"
        f"  {'speed-up':>8}"
    )
    print(header)
    for size in sizes:
        grow(path, size)
        pushed_s, pushed_mib, pushed = measure(push_down, path)
        loaded_s, loaded_mib, loaded = measure(load, path)
        if pushed != loaded:
            raise SystemExit(f"the two paths disagree at {size} deals")
        rows.append((size, pushed_s, pushed_mib, loaded_s, loaded_mib))
        print(
            f"{size:>10,}  {pushed_s:>11.2f}  {pushed_mib:>8.1f}  {loaded_s:>8.2f}  "
            f"{loaded_mib:>8.1f}  {loaded_s / pushed_s:>7.1f}x",
            flush=True,
        )
    write(Path(args.out), rows)


def write(out: Path, rows: list[tuple[int, float, float, float, float]]) -> None:
    lines = [
        "# Analytics benchmark: the sales dashboard, push-down vs loading",
        "",
        "Written by `python benchmarks/analytics.py` (SQLite store, one file; twelve",
        "Asia/Taipei months; each measurement in a fresh process; peak memory is the resident",
        "memory it added). Both paths produced the same dashboard at every size.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}.",
        "",
        "| deals | push-down (s) | push-down peak (MiB) | load into Python (s) "
        "| load peak (MiB) | speed-up |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, ps, pm, ls, lm in rows:
        lines.append(f"| {size:,} | {ps:.2f} | {pm:.1f} | {ls:.2f} | {lm:.1f} | {ls / ps:.1f}x |")
    lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""CSV import throughput: crmkit's import side by side with a hand-written hash-based import.

Run: ``python benchmarks/import.py [--n 200000] [--repeat 3] [--write docs/_benchmarks/import.md]``

The file has ``n`` contact rows (external id, name, email, phone) of which about 5% repeat an
earlier row's email (in another letter case), phone or external id. Each contender reads the CSV,
checks and normalises every row, drops the duplicates with hash lookups on the normalised keys and
builds one customer and one contact per new row:

* **hand-written, in memory** (the practical limit): ``csv.reader``, ``strip``/``lower``, a
  ``startswith("+")``/``isdigit`` phone check, three dicts of keys, two dicts per row;
* **crmkit, memory store**: ``import_customers`` into a ``MemoryStore`` (the model's own checks
  per field, the fast email path, E.164 phone check, ``load_records``);
* **hand-written, SQLite file**: the same, then ``executemany`` of rows with JSON documents into
  crmkit's own tables (same projected columns and indexes) in one transaction;
* **crmkit, SQLite file**: ``import_customers`` into a ``SQLiteStore`` on a new file.

Each timing starts after a ``gc.collect()``; rounds are interleaved and the best of ``--repeat``
is kept. Nothing is asserted: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crmkit.access import AllowAll
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.transfer import import_customers
from crmkit.customers.transfer import ColumnMapping
from crmkit.kernel import ManualClock, SequentialIds

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
MAPPING = ColumnMapping({"external_id": "Id", "name": "Name", "email": "Email", "phone": "Phone"})


def write_csv(path: Path, n: int) -> int:
    """Write ``n`` rows, about 5% of them duplicates of an earlier row; return how many."""
    rnd = random.Random(10)
    duplicates = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Id", "Name", "Email", "Phone"])
        for i in range(n):
            ext, email, phone = f"X{i}", f"person.{i}@Example.com", f"+8869{i:08d}"
            if i > 10 and rnd.random() < 0.05:
                j = rnd.randrange(i)
                duplicates += 1
                match rnd.randrange(3):
                    case 0:
                        email = f"PERSON.{j}@example.COM"
                    case 1:
                        phone = f"+8869{j:08d}"
                    case _:
                        ext, email, phone = f"X{j}", f"person.{j}@Example.com", f"+8869{j:08d}"
            out.writerow([ext, f"Person {i}", email, phone])
    return duplicates


def hand_rows(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    customers: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    by_ext: dict[str, str] = {}
    created = NOW.isoformat()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for n, (ext, name, email, phone) in enumerate(reader, start=2):
            name, ext = name.strip(), ext.strip()
            local, _, domain = email.strip().rpartition("@")
            email = f"{local}@{domain.lower()}"
            phone = phone.strip()
            if not (name and local and "." in domain and phone[:1] == "+" and phone[1:].isdigit()):
                continue
            key = email.casefold()
            if key in by_email or phone in by_phone:
                continue
            customer_id = by_ext.get(ext)
            if customer_id is None:
                customer_id = by_ext[ext] = f"cus_{n}"
                customers.append(
                    {"id": customer_id, "name": name, "kind": "person", "created_at": created,
                     "tags": [], "external_id": ext}
                )  # fmt: skip
            contacts.append(
                {"id": f"con_{n}", "customer_id": customer_id, "name": name, "emails": [email],
                 "phones": [phone]}
            )  # fmt: skip
            by_email[key] = n
            by_phone[phone] = n
    return customers, contacts


def hand_memory(path: Path) -> None:
    hand_rows(path)


def hand_sqlite(path: Path, db: Path) -> None:
    store = SQLiteStore(db)  # crmkit's tables, created before the clock starts
    store.close()
    tables = store._tables
    customers, contacts = hand_rows(path)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    when = NOW.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        tables["customers"].insert_sql,
        (
            (c["id"], 1, 1, dumps(c), *(
                {"name": c["name"], "name_folded": c["name"].casefold(), "kind": "person",
                 "lifecycle": "prospect", "tags": "[]", "created_at": when,
                 "external_id": c["external_id"]}.get(f)
                for f in tables["customers"].fields
            ))
            for c in customers
        ),
    )  # fmt: skip
    conn.executemany(
        tables["contacts"].insert_sql,
        (
            (c["id"], 1, 1, dumps(c), *(
                {"customer_id": c["customer_id"], "name": c["name"], "decision_maker": 0,
                 "emails": dumps([e.casefold() for e in c["emails"]]),
                 "phones": dumps(c["phones"])}.get(f)
                for f in tables["contacts"].fields
            ))
            for c in contacts
        ),
    )  # fmt: skip
    conn.execute("COMMIT")
    conn.close()


def crmkit_import(path: Path, store: Any) -> int:
    report = import_customers(
        store, path, MAPPING, clock=ManualClock(NOW), ids=SequentialIds(), policy=AllowAll()
    )
    return report.contacts_created


def timed(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    path = work / "contacts.csv"
    duplicates = write_csv(path, args.n)
    expected = len(hand_rows(path)[1])
    best: dict[str, float] = {}
    for round_ in range(args.repeat):
        dbs = [work / f"hand{round_}.db", work / f"crmkit{round_}.db"]

        def crm_memory() -> None:
            assert crmkit_import(path, MemoryStore()) == expected

        def crm_sqlite(db: Path = dbs[1]) -> None:
            store = SQLiteStore(db)
            assert crmkit_import(path, store) == expected
            store.close()

        contenders: dict[str, Callable[[], object]] = {
            "hand-written, in memory (the limit)": lambda: hand_memory(path),
            "crmkit `import_customers`, `MemoryStore`": crm_memory,
            "hand-written, SQLite file (the limit)": lambda db=dbs[0]: hand_sqlite(path, db),
            "crmkit `import_customers`, `SQLiteStore` file": crm_sqlite,
        }
        for name, run in contenders.items():
            seconds = timed(run)
            best[name] = min(best.get(name, seconds), seconds)
    limits = {"memory": best["hand-written, in memory (the limit)"]}
    limits["sqlite"] = best["hand-written, SQLite file (the limit)"]
    lines = [
        f"| contender ({args.n:,} CSV rows, {duplicates:,} duplicates, best of {args.repeat} "
        f"interleaved rounds; {time.strftime('%Y-%m-%d')}) | rows/s | \u00d7 limit |",
        "|---|---:|---:|",
    ]
    for name, seconds in best.items():
        limit = limits["sqlite" if "SQLite" in name else "memory"]
        ratio = seconds / limit
        shown = f"{ratio:.2f}\u00d7" if "limit" in name else f"**{ratio:.2f}\u00d7**"
        lines.append(f"| {name} | {args.n / seconds:,.0f} | {shown} |")
    table = "\n".join(lines)
    print(table)
    if args.write is not None:
        args.write.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

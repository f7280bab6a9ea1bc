"""A Django app running crmkit on its own tables: examples/django_app, driven from a script.

The app (``crm_bridge``) keeps every crmkit record in Django models through ``DjangoStore``, its
implementation of crmkit's storage ports, and builds its CRM with
``crmkit.bootstrap(store=DjangoStore())``. This script sets Django up on a temporary SQLite file,
runs the app's migrations, follows one lead to a customer, then looks at what Django stored:
the records, the outbox a relay would drain, and a refused stale write.

Run: ``python examples/django_app_demo.py`` (needs ``pip install django``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crmkit.errors import ConcurrencyError
from crmkit.kernel import ManualClock, SequentialIds

APP_DIR = Path(__file__).resolve().parent / "django_app"


def main(database: Path) -> None:
    sys.path.insert(0, str(APP_DIR))  # where manage.py lives: crm_site and crm_bridge
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm_site.settings"
    os.environ["CRM_BRIDGE_DATABASE"] = str(database)

    import django
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Count

    django.setup()
    call_command("migrate", verbosity=0)

    from crm_bridge.models import OutboxEntry, Record
    from crm_bridge.services import build_crm

    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei")))
    crm = build_crm(clock=clock, ids=SequentialIds())
    print("Store:", type(crm.store).__name__, "on Django's", connections["default"].vendor)

    # 1. A lead from a trade show becomes a customer with a contact.
    lead = crm.capture_lead(
        "trade_show",
        name="Lin Mei-ling",
        company="Formosa Tea Co.",
        email="mei@formosa-tea.example",
        campaign="2026 Taipei tea expo",
    ).lead
    crm.start_working_lead(lead.id)
    crm.qualify_lead(lead.id)
    done = crm.convert_lead(lead.id, tags=["tea", "vip"])
    tea, mei = done.customer, done.contact
    clock.advance(timedelta(hours=2))
    crm.log_interaction(
        tea.id, "call", "Wants 200 gift boxes before Lunar New Year", contact_id=mei.id
    )
    print("Converted:", lead.id, "->", tea.id, repr(tea.name), "with contact", mei.name)
    print("VIP customers:", [c.name for c in crm.find_customers(tag="vip").items])
    print("Timeline:", [i.summary for i in crm.timeline(tea.id)])

    # 2. What Django stored: one Record row per aggregate, with its version.
    for row in Record.objects.values("kind").annotate(rows=Count("id")).order_by("kind"):
        print(f"  Record rows of kind {row['kind']}: {row['rows']}")

    # 3. The outbox: a relay hands the committed events on, in commit order, then marks them.
    entries = crm.store.outbox.pending(limit=100)
    print("Outbox:", [e.event.event_type.split(".")[-1] for e in entries])
    crm.store.outbox.mark_delivered(e.position for e in entries)
    undelivered = OutboxEntry.objects.filter(delivered_at__isnull=True).count()
    print("Outbox after the relay:", undelivered, "pending")

    # 4. Two editors read version 1; the second save is refused instead of overwriting the first.
    with crm.store.unit_of_work() as first, crm.store.unit_of_work() as second:
        mine, theirs = first.customers.get(tea.id), second.customers.get(tea.id)
        mine.rename("Formosa Tea Company", now=clock.now())
        first.customers.save(mine)
        first.commit()
        theirs.rename("Formosa Tea Trading", now=clock.now())
        try:
            second.customers.save(theirs)
        except ConcurrencyError as exc:
            print("Refused:", exc)
    stored = crm.get_customer(tea.id)
    print("Stored:", repr(stored.name), "version", stored.version)

    connections.close_all()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp) / "crm.sqlite3")

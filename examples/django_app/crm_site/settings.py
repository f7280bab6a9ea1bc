"""Settings for the crm_bridge example: one SQLite file, no middleware, no templates.

The database file is ``$CRM_BRIDGE_DATABASE`` if set (the demo script and the tests point it at
a temporary file), else ``crm_bridge.sqlite3`` next to ``manage.py``. It is a file, not
``":memory:"``: each Django thread has its own connection, and the contract suite's thread test
needs them all to see one database.

SQLite options: ``transaction_mode = IMMEDIATE`` makes every ``transaction.atomic()`` take the
write lock when it begins (a deferred transaction that reads, then writes, can fail at once with
"database is locked" instead of waiting); ``timeout`` is how long a writer waits for that lock;
WAL lets readers work while a writer holds it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


# --8<-- [start:sqlite]
def sqlite_database(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the ``DATABASES`` entry for a SQLite file at ``path``."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.fspath(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }


# --8<-- [end:sqlite]


SECRET_KEY = "django-insecure-crm-bridge-example-only"  # an example: never deploy this key
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = ["crm_bridge"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "crm_site.urls"

DATABASES = {
    "default": sqlite_database(
        os.environ.get("CRM_BRIDGE_DATABASE", BASE_DIR / "crm_bridge.sqlite3")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

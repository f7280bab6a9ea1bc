"""How the app gets its CRM: ``crmkit.bootstrap(store=DjangoStore())``, once per process.

Views call :func:`get_crm`; scripts and tests that want a fixed clock or predictable ids call
:func:`build_crm`. Every use case runs in its own unit of work on the Django database.
"""

from __future__ import annotations

from functools import cache

from crmkit import CRM, bootstrap
from crmkit.kernel.ids import IdGenerator
from crmkit.kernel.time import Clock

from .store import DjangoStore


# --8<-- [start:build_crm]
def build_crm(
    *, clock: Clock | None = None, ids: IdGenerator | None = None, using: str = "default"
) -> CRM:
    """Return a CRM whose records live in this app's tables on database ``using``."""
    return bootstrap(store=DjangoStore(using=using), clock=clock, ids=ids)


@cache
def get_crm() -> CRM:
    """The process's CRM (system clock, sortable ids), built on first use, not at import."""
    return build_crm()


# --8<-- [end:build_crm]

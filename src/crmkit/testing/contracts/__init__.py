"""Contract test suites for crmkit's storage ports: run them against any store.

Each suite is a class of pytest tests named ``...Contract`` (so pytest does not collect it on
its own). Subclass it in your test module with a name pytest collects, and give the subclass
one fixture, ``crm_store``, returning a fresh, empty object that satisfies
:class:`crmkit.ports.Store` (``unit_of_work()`` and ``outbox``). crmkit's own adapters run these
same suites; so can a host's adapter for its ORM or database. The suites need ``pytest`` and
``hypothesis`` (``pip install 'crmkit[test]'``).

Example:
    A host's ``tests/test_store.py``::

        import pytest
        from crmkit.testing.contracts import (
            OutboxContract, RepositoryContract, UnitOfWorkContract,
        )
        from myapp.crm import DjangoStore

        @pytest.fixture
        def crm_store():
            return DjangoStore()

        class TestRepository(RepositoryContract): ...
        class TestUnitOfWork(UnitOfWorkContract): ...
        class TestOutbox(OutboxContract): ...

    >>> from crmkit.testing.contracts import RepositoryContract
    >>> [name for name in __all__]
    ['AnalyticsQueriesContract', 'OutboxContract', 'RepositoryContract', 'UnitOfWorkContract']

.. versionadded:: 0.1.0
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "crmkit.testing.contracts needs pytest and hypothesis; "
        "install them with: pip install 'crmkit[test]'"
    ) from exc

from crmkit.testing.contracts.analytics import AnalyticsQueriesContract
from crmkit.testing.contracts.outbox import OutboxContract
from crmkit.testing.contracts.repository import RepositoryContract
from crmkit.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = [
    "AnalyticsQueriesContract",
    "OutboxContract",
    "RepositoryContract",
    "UnitOfWorkContract",
]

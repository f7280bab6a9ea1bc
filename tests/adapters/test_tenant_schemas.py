"""A schema per tenant on the real PostgreSQL server: no record crosses from one to another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from crmkit.access import AccessRules, Actor, StaticActorDirectory
from crmkit.app.tenants import TenantStores
from crmkit.errors import NotFoundError, PermissionDeniedError, ValidationError

DIRECTORY = StaticActorDirectory(
    [
        Actor(id="u_amy", roles=["rep"], teams=["north"], tenant="acme"),
        Actor(id="u_gus", roles=["admin"], tenant="globex"),
    ]
)
SCHEMAS = ("crmtest_acme", "crmtest_globex")


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url)

    def drop() -> None:
        with engine.begin() as conn:
            for schema in SCHEMAS:
                conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))

    drop()
    yield engine
    drop()
    engine.dispose()


def test_each_tenant_has_its_own_schema_and_sees_only_its_records(engine: sa.Engine) -> None:
    tenants = TenantStores.sqlalchemy(
        engine, rules=AccessRules.builtin(), directory=DIRECTORY, schema_prefix="crmtest_"
    )
    acme, globex = tenants.crm("acme"), tenants.crm("globex")
    tea = acme.register_customer("Formosa Tea Co.", owner="u_amy", actor="u_amy")
    gears = globex.register_customer("Globex Gears", actor="u_gus")
    assert acme.get_customer(tea.id, actor="u_amy").name == "Formosa Tea Co."
    with pytest.raises(NotFoundError):
        globex.get_customer(tea.id, actor="u_gus")
    with pytest.raises(PermissionDeniedError, match="belongs to tenant 'globex'"):
        acme.get_customer(tea.id, actor="u_gus")
    assert [c.id for c in globex.find_customers(actor="u_gus").items] == [gears.id]
    with engine.connect() as conn:
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {schema}.crm_customers")).scalar()
            for schema in SCHEMAS
        ]
    assert counts == [1, 1]


def test_tenant_ids_that_would_share_a_schema_are_refused(engine: sa.Engine) -> None:
    tenants = TenantStores.sqlalchemy(
        engine, rules=AccessRules.builtin(), directory=DIRECTORY, schema_prefix="crmtest_"
    )
    for tenant in ("Acme", "acme-tw"):
        with pytest.raises(ValidationError, match="lower-case letters"):
            tenants.crm(tenant)

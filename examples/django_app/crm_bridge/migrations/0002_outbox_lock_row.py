# ruff: noqa: RUF012  (Django's migration attributes are class-level lists)
"""The one row committing units of work lock to keep outbox positions in commit order."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def create_lock_row(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    lock = apps.get_model("crm_bridge", "OutboxLock")
    lock.objects.using(schema_editor.connection.alias).get_or_create(id=1)


def delete_lock_row(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    lock = apps.get_model("crm_bridge", "OutboxLock")
    lock.objects.using(schema_editor.connection.alias).filter(id=1).delete()


class Migration(migrations.Migration):
    dependencies = [("crm_bridge", "0001_initial")]

    operations = [migrations.RunPython(create_lock_row, delete_lock_row)]

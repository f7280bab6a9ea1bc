"""A Django app that keeps crmkit's records in Django models and runs crmkit's use cases.

``models`` holds one generic ``Record`` table (every crmkit record type, as a JSON document with
its version), a ``RecordTerm`` side table of projected field values for queries, and the
``OutboxEntry`` table; ``store`` implements crmkit's storage ports with the Django ORM;
``services`` builds the CRM with ``crmkit.bootstrap(store=DjangoStore())``; ``views`` serves it.
"""

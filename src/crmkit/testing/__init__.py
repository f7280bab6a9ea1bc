"""Public test helpers for hosts' own test suites.

* :mod:`crmkit.testing.fakes`: ``ManualClock``, ``SequentialIds``, ``RecordingNotifier``,
  ``MemoryStore``.
* :mod:`crmkit.testing.strategies`: hypothesis strategies for crmkit's types (needs the ``test``
  extra).
* :mod:`crmkit.testing.contracts`: the contract suites a host's own adapter can run.

Example:
    >>> from crmkit.testing import fakes
    >>> fakes.SequentialIds().new_id("cus")
    'cus_000001'

.. versionadded:: 0.1.0
"""

__all__: list[str] = []

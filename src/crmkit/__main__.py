"""Run the ``crmkit`` command: ``python -m crmkit demo``.

Example:
    >>> from crmkit.cli import main
    >>> main(["--version"])
    crmkit 0.1.0
    0

.. versionadded:: 0.1.0
"""

from crmkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Access control: who may do what. Grows into roles, ownership rules and audit.

Example:
    >>> AllowAll().check("u1", "customers.register")

.. versionadded:: 0.1.0
"""

from __future__ import annotations

__all__ = ["AllowAll"]


class AllowAll:
    """The permissive default policy: every actor may do everything.

    Example:
        >>> AllowAll().check(None, "customers.register") is None
        True

    .. versionadded:: 0.1.0
    """

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        """Allow everything."""
        return None

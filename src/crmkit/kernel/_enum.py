"""The base of crmkit's text-valued enums."""

from __future__ import annotations

import enum


class StrEnum(str, enum.Enum):
    """An enum whose members are also their text values (``Kind.A == "a"``).

    The serializer keys its enum hooks on this class, which sits before ``str`` in every
    subclass's MRO, so plain ``str`` fields keep cattrs' zero-cost identity path.
    """

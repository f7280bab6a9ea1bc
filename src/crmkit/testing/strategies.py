"""Hypothesis strategies for crmkit's public types."""


def _hypothesis_setup_hook() -> None:
    """Register crmkit's strategies with hypothesis (called through the entry point)."""

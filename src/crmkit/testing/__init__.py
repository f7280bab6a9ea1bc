"""Public test helpers: fakes, hypothesis strategies and contract suites."""

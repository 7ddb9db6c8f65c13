"""Pytest plugins holding the fixtures and hooks shared across test directories; `tests/conftest.py` registers them."""

"""Browser tests. A package, so that ``browser/conftest.py`` does not replace the top-level
``conftest`` module that other test files import from."""

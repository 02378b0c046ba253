"""Territories tests use the shared fixtures of tests/conftest.py (demo, login, erp, api)."""

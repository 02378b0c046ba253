try:  # the API client fixtures live in tests/api/conftest.py, or at the root once shared
    from tests.api.conftest import api, erp  # noqa: F401
except ImportError:
    pass

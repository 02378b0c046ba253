import pytest


@pytest.fixture(autouse=True)
def _fresh_dashboard_reads():
    """Each test starts without the whole-table reads an earlier test's data left in this process."""
    from dashboards import selectors

    selectors._built.clear()

"""territories/sources.py: the readers territory performance calls are all handed in by the
apps above territories when Django starts, so a renamed or forgotten reader fails here
instead of on the first page that needs it."""

import pytest

from territories import sources


def test_every_reader_is_provided_once_the_apps_are_loaded():
    missing = [name for name in sources.NAMES if not callable(vars(sources.READERS).get(name))]
    assert missing == []


def test_an_unknown_reader_is_refused():
    with pytest.raises(ValueError, match="sales_by_planet"):
        sources.provide(sales_by_planet=lambda **kwargs: {})

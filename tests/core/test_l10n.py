"""Numbers in the reader's format: what floatformat|intcomma writes, in one step."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils import formats, translation

from core.l10n import grouped


@pytest.mark.parametrize("language", ["en", "de", "it"])
@pytest.mark.parametrize("value", [0, 7, 999.5, 1234.5, -1234567.891, Decimal("2.5"), 1e9])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_grouped_writes_the_locales_grouped_number(language, value, decimals):
    with translation.override(language):
        expected = formats.number_format(
            Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP),
            decimals,
            use_l10n=True,
            force_grouping=True,
        )
        assert grouped(value, decimals) == expected
        if decimals == 0:  # what the templates wrote before
            assert grouped(value) == intcomma(floatformat(value, 0))


def test_grouped_fixes_floatformat_and_intcomma_with_decimals_in_german():
    with translation.override("de"):
        assert intcomma(floatformat(1234.5, 1)) == "1,234,5"  # Django's pair: a comma too many
        assert grouped(1234.5, 1) == "1.234,5"


def test_grouped_by_hand():
    with translation.override("de"):
        assert grouped(1234.5, 1) == "1.234,5"
        assert grouped(2.5) == "3"  # half up, as floatformat
    with translation.override("en"):
        assert grouped(1234567) == "1,234,567"
    assert grouped(None) == "" and grouped("x") == ""

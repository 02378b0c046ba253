"""The filter backend of every API list (``DEFAULT_FILTER_BACKENDS``)."""

from __future__ import annotations

from django import forms
from django.core import validators
from django_filters.rest_framework import DjangoFilterBackend

BIGINT = 2**63 - 1


class FilterBackend(DjangoFilterBackend):
    """django-filter, with numbers bounded to what a 64-bit integer column holds:
    ``?run_id=1e30`` is a 400 naming the parameter, not an overflow in the database (which a
    streamed ``?format=csv`` would only meet after its 200 had been sent)."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for field in filterset.form.fields.values():
                if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
                    field.validators += [validators.MinValueValidator(-BIGINT), validators.MaxValueValidator(BIGINT)]
        return filterset

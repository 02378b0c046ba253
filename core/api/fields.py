"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from rest_framework import serializers


class NullableKeyField(serializers.CharField):
    """The natural key (code, SKU, username) of an optional related row, ``null`` when the row
    has none: ``NullableKeyField("family.code")``; pass ``read_only=True`` where the app's
    serializers say so."""

    def __init__(self, source: str, **kwargs):
        super().__init__(source=source, allow_null=True, default=None, **kwargs)

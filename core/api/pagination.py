"""Cursor pagination on the primary key: stable while rows are inserted or updated."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

"""Cursor pagination for every list: stable under inserts, capped page size, and a clear 400 for a bad cursor."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

PAGE_SIZE = 50
PAGE_SIZE_MAX = 200
BAD_CURSOR = "This cursor is not valid. Start again from the first page and follow the `next` links."


class NewestFirst(CursorPagination):
    """Newest first by creation time. `?page_size=` up to PAGE_SIZE_MAX; `next`/`previous` are full URLs."""

    ordering = "-created_at"
    page_size = PAGE_SIZE
    max_page_size = PAGE_SIZE_MAX
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        # DRF falls back to the default for "abc" or -1; a caller who asked for something wrong hears so.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({"page_size": [f"Use a whole number from 1 to {PAGE_SIZE_MAX}."]})
        return min(int(raw), self.max_page_size) if raw is not None else self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Results per page, {PAGE_SIZE} by default; more than {PAGE_SIZE_MAX} gives {PAGE_SIZE_MAX}."
                )
        return parameters

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({"cursor": [BAD_CURSOR]}) from exc
        # A hand-made cursor's position goes straight into the WHERE clause: it must be a timestamp,
        # or the database refuses it (a 500 before this check).
        if cursor is not None and cursor.position is not None and not _is_timestamp(cursor.position):
            raise ValidationError({"cursor": [BAD_CURSOR]})
        return cursor


def _is_timestamp(value: str) -> bool:
    try:
        return parse_datetime(value) is not None
    except ValueError:  # well formed, impossible (month 13)
        return False


class ByNumber(NewestFirst):
    """Rows of one import's report, in file order."""

    ordering = "number"

    def decode_cursor(self, request):
        try:
            cursor = CursorPagination.decode_cursor(self, request)
        except NotFound as exc:
            raise ValidationError({"cursor": [BAD_CURSOR]}) from exc
        if cursor is not None and cursor.position is not None and not str(cursor.position).isdigit():
            raise ValidationError({"cursor": [BAD_CURSOR]})
        return cursor

"""Pagination: numbered pages for lists people browse, cursors for event streams."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class EventCursor(CursorPagination):
    """Newest first; stable while new events arrive. Follow ``next`` until it is null."""

    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000
    ordering = ("-occurred_at", "-id")

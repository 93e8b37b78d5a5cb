"""Pagination: the standard {"count", "next", "previous", "results"} envelope everywhere, and a
cursor envelope ({"next", "previous", "results"}) for eventos, which must not COUNT(*) a table of
millions on every page."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PaginacionEstandar(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PaginacionCursorEventos(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-ocurrido_en", "-id")

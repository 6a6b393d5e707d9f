"""What the function-based pages (runs, bills, pulls) share: who may see them, and lists shown a
page at a time, optionally narrowed by a filter form."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404

PAGE_SIZE = 50


def requires(*permissions: str) -> Callable:
    """A view decorator: anonymous people go to the login page; signed-in people without every
    one of `permissions` get 403."""

    def decorate(view):
        return login_required(permission_required(permissions, raise_exception=True)(view))

    return decorate


def page_of(request, rows: QuerySet) -> Page:
    """The page of `rows` the query string's `page` asks for (the last one when past the end)."""
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def filtered_page(request, form_class, rows: Callable[..., QuerySet]) -> dict[str, Any]:
    """A filtered list page's context: the `form` bound to the query string (unbound when there
    is none), the `filters` its filters() method reads from it, the `page` of rows(**filters)
    asked for, and whether anything is `filtered` at all."""
    form = form_class(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    return {
        "form": form,
        "filters": filters,
        "page": page_of(request, rows(**filters)),
        "filtered": any(filters.values()),
    }


def object_or_404(selector: Callable, not_found: str, **lookup):
    """What `selector(**lookup)` reads, or a 404 saying `not_found` when it finds nothing."""
    try:
        return selector(**lookup)
    except ObjectDoesNotExist:
        raise Http404(not_found) from None

"""A bill's page shows its line items a page at a time, however many the bill has."""

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from m3terdata.tests.factories import BillFactory, LineItemFactory

pytestmark = pytest.mark.django_db


def bill_of(lines: int):
    bill = BillFactory()
    LineItemFactory.create_batch(
        lines,
        bill=bill,
        sequence=factory.Iterator(range(1, lines + 1)),
        description=factory.Iterator([f"Line number {n}" for n in range(1, lines + 1)]),
    )
    return bill


def test_the_bill_page_shows_a_page_of_line_items_and_the_way_to_the_next(viewer_client):
    bill = bill_of(120)
    url = reverse("m3terdata:bill_detail", args=[bill.m3ter_id])

    first = viewer_client.get(url).content.decode()
    last = viewer_client.get(url, {"page": 3}).content.decode()

    assert "1–50 of 120" in first
    assert "Line number 50<" in first and "Line number 51<" not in first
    assert "Page 1 of 3" in first
    assert "?page=2" in first
    assert "101–120 of 120" in last
    assert "Line number 120<" in last and "Line number 100<" not in last


def test_the_bill_page_costs_the_same_for_a_bill_of_many_more_lines(viewer_client):
    def page_cost(bill):
        url = reverse("m3terdata:bill_detail", args=[bill.m3ter_id])
        with CaptureQueriesContext(connection) as queries:
            response = viewer_client.get(url)
        return len(queries), len(response.content)

    small_queries, small_bytes = page_cost(bill_of(60))
    big_queries, big_bytes = page_cost(bill_of(600))

    assert big_queries == small_queries
    assert big_bytes < small_bytes * 1.05

"""A bill of many line items is read through the API, and answered when written, as it is written
out, a chunk at a time: the same answer as for a small bill, in memory that does not grow with
the bill."""

import json
import tracemalloc
from decimal import Decimal

import factory
import pytest

from api.tests.conftest import org_url
from api.views import accounts_bills
from m3terdata.models import Bill, LineItem
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory

pytestmark = pytest.mark.django_db


def bill_of(lines: int):
    bill = BillFactory(purchase_order_number="PO-7")
    LineItemFactory.create_batch(lines, bill=bill, sequence=factory.Iterator(range(1, lines + 1)))
    return bill


def bulk_bill(lines: int):
    bill = BillFactory()
    LineItem.objects.bulk_create(
        LineItem(bill=bill, sequence=n, description=f"Line {n}", subtotal=Decimal("1.25"))
        for n in range(1, lines + 1)
    )
    return bill


def read(api, bill):
    response = api.get(org_url(f"bills/{bill.m3ter_id}"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.streaming, json.loads(body)


def test_a_big_bill_streams_the_same_answer_as_a_small_one(api, monkeypatch):
    bill = bill_of(30)
    streamed_not, whole = read(api, bill)
    monkeypatch.setattr(accounts_bills, "STREAM_LINE_ITEMS_OVER", 10)

    streamed, chunked = read(api, bill)

    assert (streamed_not, streamed) == (False, True)
    assert chunked == whole
    assert [item["sequenceNumber"] for item in chunked["lineItems"]] == list(range(1, 31))
    assert chunked["purchaseOrderNumber"] == "PO-7"


def test_reading_a_big_bill_takes_memory_of_a_chunk_not_of_the_bill(api, monkeypatch):
    monkeypatch.setattr(accounts_bills, "STREAM_LINE_ITEMS_OVER", 10)

    def peak(bill):
        response = api.get(org_url(f"bills/{bill.m3ter_id}"))
        tracemalloc.start()
        size = sum(len(part) for part in response.streaming_content)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size, top

    # Both bigger than a chunk (2,000 lines): the peak is a chunk's, whatever the bill's size.
    small_size, small_peak = peak(bulk_bill(2_500))
    big_size, big_peak = peak(bulk_bill(7_500))

    assert big_size > 2.9 * small_size
    assert big_peak < 1.3 * small_peak


@pytest.mark.parametrize("method", ["post", "put"])
def test_a_big_bill_written_is_answered_as_it_is_read(api, monkeypatch, method):
    account = AccountFactory()
    lines = [
        {"lineItemType": "USAGE", "description": f"Meter {n}", "subtotal": 1.25} for n in range(30)
    ]
    body = {"id": "bill-big", "accountId": account.m3ter_id, "currency": "USD", "lineItems": lines}
    monkeypatch.setattr(accounts_bills, "STREAM_LINE_ITEMS_OVER", 10)

    response = getattr(api, method)(
        org_url("bills" if method == "post" else "bills/bill-big"), body
    )

    assert (response.status_code, response.streaming) == (200, True)
    written = json.loads(b"".join(response.streaming_content))
    assert written == read(api, Bill.objects.get(m3ter_id="bill-big"))[1]
    assert [item["description"] for item in written["lineItems"]] == [
        f"Meter {n}" for n in range(30)
    ]

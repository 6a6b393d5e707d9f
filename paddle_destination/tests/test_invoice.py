"""The bill → invoice mapping, as pure functions (unsaved model instances, no database)."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.models import SortLineItemsBy
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import LineItemType
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.invoice import allocate_minor_units, invoice_build
from paddle_destination.tests.payloads import invoice_payload


def make_bill(**kwargs):
    account = kwargs.pop("account", None) or AccountFactory.build()
    return BillFactory.build(account=account, **kwargs)


def lines(bill, *specs):
    """Line items in m3ter order; each spec is a dict of field overrides."""
    return [
        LineItemFactory.build(bill=bill, sequence=i + 1, **spec) for i, spec in enumerate(specs)
    ]


def integration(**kwargs):
    return IntegrationConfigurationFactory.build(**kwargs)


def payload(bill, items, config=None, customer_id="ctm_01", address_id="add_01"):
    return invoice_payload(
        bill=bill,
        line_items=items,
        integration=config or integration(),
        customer_id=customer_id,
        address_id=address_id,
    )


def test_one_manual_draft_transaction_per_bill_without_status():
    bill = make_bill(purchase_order_number="PO-7", version=3)
    config = integration()
    body = payload(bill, lines(bill, {"subtotal": Decimal("12.50")}), config)

    assert "status" not in body
    assert body["collection_mode"] == "manual"
    assert body["currency_code"] == "USD"
    assert body["customer_id"] == "ctm_01"
    assert body["address_id"] == "add_01"
    assert body["billing_details"] == {
        "payment_terms": {"interval": "day", "frequency": 30},
        "purchase_order_number": "PO-7",
    }
    assert body["custom_data"] == {
        "m3ter_bill_id": bill.m3ter_id,
        "bill_version": 3,
        "account_id": bill.account.m3ter_id,
        "integration_id": str(config.id),
    }
    assert body["billing_period"] == {
        "starts_at": "2026-10-01T00:00:00.000000Z",
        "ends_at": "2026-11-01T00:00:00.000000Z",
    }


def test_item_is_a_non_catalog_price_with_quantity_one_and_the_subtotal_in_cents():
    bill = make_bill()
    items = lines(
        bill,
        {
            "subtotal": Decimal("1234.5"),
            "description": "API calls",
            "product_name": "Platform",
            "quantity": Decimal("1000"),
            "units": Decimal("1000"),
            "unit": "calls",
            "line_item_type": LineItemType.USAGE,
        },
    )
    (item,) = payload(bill, items)["items"]

    assert item["quantity"] == 1
    price = item["price"]
    assert price["unit_price"] == {"amount": "123450", "currency_code": "USD"}
    assert price["name"] == "API calls"
    assert price["product"]["name"] == "Platform"
    assert price["product"]["tax_category"] == "standard"
    assert price["description"] == (
        "Usage · quantity 1,000 calls · service period 2026-10-01 to 2026-10-31"
    )
    assert 2 <= len(price["description"]) <= 500
    assert price["custom_data"] == {
        "m3ter_line_item_id": items[0].m3ter_id,
        "line_item_type": "USAGE",
    }


def test_names_fall_back_to_each_other_then_to_the_line_type():
    bill = make_bill()
    items = lines(
        bill,
        {"description": "", "product_name": "Platform"},
        {"description": "Seats", "product_name": ""},
        {"description": "", "product_name": "", "line_item_type": LineItemType.STANDING_CHARGE},
    )
    prices = [i["price"] for i in payload(bill, items)["items"]]

    assert [(p["name"], p["product"]["name"]) for p in prices] == [
        ("Platform", "Platform"),
        ("Seats", "Seats"),
        ("Standing charge", "Standing charge"),
    ]


def test_description_shows_units_when_they_differ_and_is_clipped_to_500():
    bill = make_bill()
    items = lines(
        bill,
        {"quantity": Decimal("2.5"), "units": Decimal("3"), "unit": "GB"},
        {"unit": "x" * 600},
    )
    first, second = (i["price"]["description"] for i in payload(bill, items)["items"])

    assert "quantity 2.5 GB · units 3 ·" in first
    assert len(second) == 500 and second.endswith("…")


@pytest.mark.parametrize(
    ("subtotal", "cents"),
    [
        ("0.005", "1"),  # half-up, not banker's rounding
        ("0.015", "2"),
        ("0.025", "3"),
        ("0.0049", "0"),
        ("10.994999", "1099"),
        ("10.995", "1100"),
        ("99999999.99", "9999999999"),
    ],
)
def test_each_line_is_rounded_half_up_to_the_minor_unit(subtotal, cents):
    bill = make_bill()
    (item,) = payload(bill, lines(bill, {"subtotal": Decimal(subtotal)}))["items"]
    assert item["price"]["unit_price"]["amount"] == cents


def test_items_add_up_to_the_sum_of_the_sent_subtotals():
    # Each 0.005 rounds up on its own, which would invoice 0.03 for 0.015.
    bill = make_bill()
    items = lines(bill, *[{"subtotal": Decimal("0.005")}] * 3)
    amounts = [int(i["price"]["unit_price"]["amount"]) for i in payload(bill, items)["items"]]

    assert sum(amounts) == 2
    assert amounts == [0, 1, 1]  # among equal lines, the first takes the difference


def test_high_precision_values_are_rounded_and_named_for_the_run_log():
    bill = make_bill(currency="USD")
    items = lines(
        bill,
        {"subtotal": Decimal("12.3456"), "description": "API calls"},
        {"subtotal": Decimal("5.50")},
    )

    invoice = invoice_build(bill=bill, line_items=items, integration=integration())

    note = invoice.rounding_note()
    assert note.startswith("High-precision values rounded to 2 decimal places of USD")
    assert "item 1 (API calls) 12.3456 → 12.35" in note
    assert "item 2" not in note


def test_no_rounding_note_when_every_value_fits_the_currency():
    bill = make_bill(currency="GBP")
    items = lines(bill, {"subtotal": Decimal("12.30")})

    assert (
        invoice_build(bill=bill, line_items=items, integration=integration()).rounding_note()
        is None
    )


@given(
    st.lists(
        st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False),
        min_size=1,
        max_size=100,
    )
)
def test_allocation_matches_the_rounded_sum_and_stays_within_a_minor_unit(subtotals):
    amounts = allocate_minor_units(subtotals, 2)

    exact = [s * 100 for s in subtotals]
    assert sum(amounts) == int((sum(exact)).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert all(abs(a - e) < 1 for a, e in zip(amounts, exact, strict=True))
    assert all(a >= 0 for a in amounts)


def test_zero_decimal_currency_table_is_used_for_minor_units():
    assert allocate_minor_units([Decimal("1234.5")], 0) == [1235]
    assert allocate_minor_units([Decimal("1234.5")], 2) == [123450]


def test_zero_subtotal_lines_are_sent_as_zero_amount_items():
    bill = make_bill()
    items = lines(bill, {"subtotal": Decimal("0")}, {"subtotal": Decimal("5")})
    amounts = [i["price"]["unit_price"]["amount"] for i in payload(bill, items)["items"]]
    assert amounts == ["0", "500"]


def test_excluded_line_item_types_are_left_out():
    bill = make_bill()
    items = lines(
        bill,
        {"line_item_type": LineItemType.USAGE, "description": "usage"},
        {"line_item_type": LineItemType.MINIMUM_SPEND, "description": "minimum"},
        {"line_item_type": LineItemType.STANDING_CHARGE, "description": "standing"},
    )
    config = integration(excluded_line_item_types=["MINIMUM_SPEND"])
    names = [i["price"]["name"] for i in payload(bill, items, config)["items"]]
    assert names == ["usage", "standing"]


SORT_SPECS = [
    {"description": "a", "subtotal": Decimal("5"), "aggregation_id": "agg-b"},
    {"description": "b", "subtotal": Decimal("50"), "aggregation_id": ""},
    {"description": "c", "subtotal": Decimal("5"), "aggregation_id": "agg-a"},
    {"description": "d", "subtotal": Decimal("7"), "aggregation_id": "agg-a"},
]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (SortLineItemsBy.NONE, ["a", "b", "c", "d"]),
        # Largest charge first; equal subtotals keep m3ter's order.
        (SortLineItemsBy.SUBTOTAL, ["b", "d", "a", "c"]),
        # Ascending aggregation id, lines without one last, ties in m3ter's order.
        (SortLineItemsBy.AGGREGATION_ID, ["c", "d", "a", "b"]),
    ],
)
def test_sort_line_items_by(sort, expected):
    bill = make_bill()
    items = lines(bill, *SORT_SPECS)
    items.reverse()  # m3ter's order is the sequence, not the order given
    body = payload(bill, items, integration(sort_line_items_by=sort))
    assert [i["price"]["name"] for i in body["items"]] == expected


def test_negative_lines_are_refused_listing_each_and_naming_the_type_to_exclude():
    bill = make_bill()
    items = lines(
        bill,
        {"subtotal": Decimal("100")},
        {
            "subtotal": Decimal("-20"),
            "line_item_type": LineItemType.CREDIT_DEDUCTION,
            "description": "Prepaid credit",
        },
        {
            "subtotal": Decimal("-1.5"),
            "line_item_type": LineItemType.USAGE_CREDIT,
            "description": "Usage credit",
        },
    )
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, items)

    problem = caught.value
    assert problem.kind == PaddleProblemKind.UNSUPPORTED_BILL
    assert "line 2 CREDIT_DEDUCTION 'Prepaid credit' subtotal -20" in problem.message
    assert "line 3 USAGE_CREDIT 'Usage credit' subtotal -1.5" in problem.message
    assert "CREDIT_DEDUCTION, USAGE_CREDIT" in problem.hint
    assert "Excluded Line Item Types" in problem.hint


def test_excluding_the_negative_type_lets_the_bill_through():
    bill = make_bill()
    items = lines(
        bill,
        {"subtotal": Decimal("100")},
        {"subtotal": Decimal("-20"), "line_item_type": LineItemType.CREDIT_DEDUCTION},
    )
    config = integration(excluded_line_item_types=["CREDIT_DEDUCTION"])
    assert len(payload(bill, items, config)["items"]) == 1


@pytest.mark.parametrize("currency", ["JPY", "AUD", "CAD", ""])
def test_currencies_paddle_cannot_invoice_are_refused(currency):
    bill = make_bill(currency=currency)
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, lines(bill, {}))
    assert caught.value.kind == PaddleProblemKind.UNSUPPORTED_BILL
    assert "accept only USD, EUR, GBP" in caught.value.message


@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP", "eur"])
def test_manual_collection_currencies_are_accepted(currency):
    bill = make_bill(currency=currency)
    body = payload(bill, lines(bill, {"subtotal": Decimal("1")}))
    assert body["currency_code"] == currency.upper()
    assert body["items"][0]["price"]["unit_price"]["currency_code"] == currency.upper()


def test_more_than_100_items_are_refused_and_100_are_accepted():
    bill = make_bill()
    assert len(payload(bill, lines(bill, *[{}] * 100))["items"]) == 100
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, lines(bill, *[{}] * 101))
    assert caught.value.kind == PaddleProblemKind.UNSUPPORTED_BILL
    assert "101 line items" in caught.value.message and "at most 100" in caught.value.message


def test_no_items_left_after_exclusion_is_refused():
    bill = make_bill()
    config = integration(excluded_line_item_types=["USAGE"])
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, lines(bill, {"line_item_type": "USAGE"}), config)
    assert "All 1 line items are excluded" in caught.value.message

    with pytest.raises(PaddleProblem) as caught:
        payload(bill, [])
    assert "has no line items" in caught.value.message


def test_every_reason_is_given_at_once():
    bill = make_bill(currency="JPY")
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, lines(bill, {"subtotal": Decimal("-1")}))
    assert "JPY" in caught.value.message and "negative" in caught.value.message


@pytest.mark.parametrize(
    ("bill_date", "due_date", "account_days", "days"),
    [
        (datetime.date(2026, 11, 1), datetime.date(2026, 11, 15), None, 14),
        (datetime.date(2026, 11, 1), datetime.date(2026, 11, 1), None, 1),  # Paddle's minimum
        (datetime.date(2026, 11, 1), None, 45, 45),
        (datetime.date(2026, 11, 1), None, None, 30),
        (None, datetime.date(2026, 11, 1), None, 30),
    ],
)
def test_payment_terms_from_the_due_date(bill_date, due_date, account_days, days):
    account = AccountFactory.build(days_before_bill_due=account_days)
    bill = make_bill(account=account, bill_date=bill_date, due_date=due_date)
    body = payload(bill, lines(bill, {}))
    assert body["billing_details"]["payment_terms"] == {"interval": "day", "frequency": days}


def test_purchase_order_number_falls_back_to_the_account_and_is_left_out_when_empty():
    account = AccountFactory.build(purchase_order_number="ACC-PO")
    bill = make_bill(account=account)
    assert payload(bill, lines(bill, {}))["billing_details"]["purchase_order_number"] == "ACC-PO"

    bill = make_bill()
    assert "purchase_order_number" not in payload(bill, lines(bill, {}))["billing_details"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, datetime.date(2026, 11, 1)),
        (datetime.date(2026, 11, 1), None),
        (datetime.date(2026, 11, 1), datetime.date(2026, 11, 1)),
    ],
)
def test_billing_period_is_left_out_unless_the_end_is_after_the_start(start, end):
    bill = make_bill(start_date=start, end_date=end)
    assert "billing_period" not in payload(bill, lines(bill, {}))


def test_no_address_is_left_out_rather_than_sent_as_null():
    bill = make_bill()
    body = payload(bill, lines(bill, {}), address_id=None)
    assert "address_id" not in body


def test_service_period_ending_mid_day_keeps_its_date():
    bill = make_bill()
    items = lines(
        bill,
        {
            "service_period_start": datetime.datetime(2026, 10, 5, tzinfo=datetime.UTC),
            "service_period_end": datetime.datetime(2026, 10, 6, 12, tzinfo=datetime.UTC),
        },
        {"service_period_start": None, "service_period_end": None},
    )
    first, second = (i["price"]["description"] for i in payload(bill, items)["items"])
    assert first.endswith("service period 2026-10-05 to 2026-10-06")
    assert "service period" not in second


def test_update_operation_carries_the_same_items():
    bill = make_bill()
    invoice = invoice_build(bill=bill, line_items=lines(bill, {}, {}), integration=integration())
    update = invoice.update_operation(customer_id="ctm_01", address_id=None)
    assert len(update.items) == 2
    assert update.items[0].price.unit_price.amount == "1250"
    assert invoice.summary() == {
        "items": 2,
        "currency": "USD",
        "total_minor_units": 2500,
        "payment_terms_days": 30,
    }

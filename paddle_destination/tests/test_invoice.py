"""The bill → invoice mapping, as pure functions (unsaved model instances, no database)."""

import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paddle_billing import Client

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


def labels(body):
    """Each item's price.name without the quantity the invoice adds after the label."""
    return [i["price"]["name"].split(" — ")[0] for i in body["items"]]


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
        "additional_information": f"Billing period: 1–31 Oct 2026. m3ter bill reference: "
        f"{bill.m3ter_id}.",
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
    assert price["name"] == "API calls — 1,000 calls"
    assert price["tax_mode"] == "external"
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

    assert [(p["name"].split(" — ")[0], p["product"]["name"]) for p in prices] == [
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
    assert "item 1 (API calls — 1,000 calls) 12.3456 → 12.35" in note
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
    assert labels(payload(bill, items, config)) == ["usage", "standing"]


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
    assert labels(body) == expected


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
    # The types as the Excluded Line Item Types checkboxes name them.
    assert "line 2 (Credit deduction) 'Prepaid credit' subtotal -20" in problem.message
    assert "line 3 (Usage credit) 'Usage credit' subtotal -1.5" in problem.message
    assert "Add Credit deduction, Usage credit to the integration's Excluded" in problem.hint
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
        "credit_minor_units": 0,
        "bill_total_minor_units": 2500,
        "tax_mode": "EXTERNAL",
        "payment_terms_days": 30,
    }


# --- tax, what the customer reads, credits (issue 10) --------------------------------------------


@pytest.mark.parametrize(
    ("tax_mode", "sent"),
    [("EXTERNAL", "external"), ("INTERNAL", "internal"), ("ACCOUNT_SETTING", "account_setting")],
)
def test_every_price_carries_the_integrations_tax_mode_and_category(tax_mode, sent):
    bill = make_bill()
    config = integration(tax_mode=tax_mode, tax_category="saas")
    prices = [i["price"] for i in payload(bill, lines(bill, {}, {}), config)["items"]]

    assert [p["tax_mode"] for p in prices] == [sent, sent]
    assert [p["product"]["tax_category"] for p in prices] == ["saas", "saas"]


def test_a_line_whose_product_is_mapped_to_paddle_names_that_product():
    bill = make_bill()
    items = lines(bill, {"product_id": "m3ter-prod-1"}, {"product_id": "m3ter-prod-2"})
    body = invoice_payload(
        bill=bill,
        line_items=items,
        integration=integration(),
        customer_id="ctm_01",
        address_id=None,
        product_ids={"m3ter-prod-1": "pro_01hv8wptq8987qeep44cyrewp9"},
    )
    mapped, unmapped = (i["price"] for i in body["items"])

    assert mapped["product_id"] == "pro_01hv8wptq8987qeep44cyrewp9"
    assert "product" not in mapped
    assert mapped["tax_mode"] == "external" and mapped["unit_price"]["amount"] == "1250"
    assert unmapped["product"]["tax_category"] == "standard" and "product_id" not in unmapped


def test_price_name_shows_what_m3ter_shows_on_a_bill_line():
    bill = make_bill()
    items = lines(
        bill,
        {"description": "API calls", "quantity": Decimal("23456"), "unit": "requests"},
        {
            "description": "Platform fee",
            "line_item_type": LineItemType.STANDING_CHARGE,
            "quantity": Decimal("1"),
            "unit": "",
        },
        {
            "description": "Storage",
            "quantity": Decimal("12.5"),
            "unit": "GB",
            "service_period_start": datetime.datetime(2026, 10, 15, tzinfo=datetime.UTC),
        },
    )

    assert [i["price"]["name"] for i in payload(bill, items)["items"]] == [
        "API calls — 23,456 requests",
        "Platform fee",
        "Storage — 12.5 GB (15–31 Oct 2026)",  # not the bill's period, so it is shown
    ]


def test_a_long_price_name_is_shortened_keeping_the_quantity():
    bill = make_bill()
    items = lines(bill, {"description": "Very long product description " * 10, "unit": "calls"})
    (name,) = (i["price"]["name"] for i in payload(bill, items)["items"])

    assert len(name) == 150
    assert name.endswith("… — 1,000 calls")


def test_additional_information_names_the_period_and_m3ters_invoice_number():
    bill = make_bill(
        sequential_invoice_number="INV-0042",
        start_date=datetime.date(2026, 9, 15),
        end_date=datetime.date(2026, 10, 15),
    )
    details = payload(bill, lines(bill, {}))["billing_details"]

    assert details["additional_information"] == (
        "Billing period: 15 Sep – 14 Oct 2026. m3ter bill reference: INV-0042."
    )


CREDIT_SPECS = (
    {"subtotal": Decimal("100.004"), "description": "Usage"},
    {
        "subtotal": Decimal("-20.003"),
        "line_item_type": LineItemType.CREDIT_DEDUCTION,
        "description": "Prepaid credit",
    },
    {"subtotal": Decimal("30"), "description": "Seats"},
    {"subtotal": Decimal("-5"), "line_item_type": LineItemType.USAGE_CREDIT, "description": "x"},
)


def test_with_credit_negative_lines_become_one_flat_discount_and_the_totals_match():
    bill = make_bill()
    config = integration(negative_line_items="CREDIT")
    invoice = invoice_build(bill=bill, line_items=lines(bill, *CREDIT_SPECS), integration=config)
    body = payload(bill, lines(bill, *CREDIT_SPECS), config)

    assert labels(body) == ["Usage", "Seats"]
    assert body["discount"] == {
        "type": "flat",
        "amount": "2500",
        "description": "Credits: Prepaid credit 20.00; x 5.00",
    }
    items_total = sum(int(i["price"]["unit_price"]["amount"]) for i in body["items"])
    # 100.004 - 20.003 + 30 - 5 = 105.001: the invoice before tax is the bill to the cent.
    assert items_total - 2500 == invoice.total == invoice.bill_total == 10500
    assert invoice.total_note == ""


def test_credits_larger_than_the_charges_are_refused_with_the_reason():
    bill = make_bill()
    items = lines(
        bill,
        {"subtotal": Decimal("10")},
        {"subtotal": Decimal("-10.01"), "line_item_type": LineItemType.CREDIT_MEMO},
    )
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, items, integration(negative_line_items="CREDIT"))

    assert "credits (10.01) exceed its charges (10)" in caught.value.message


def test_refused_negative_lines_hint_at_the_credit_option():
    bill = make_bill()
    items = lines(bill, {"subtotal": Decimal("10")}, {"subtotal": Decimal("-1")})
    with pytest.raises(PaddleProblem) as caught:
        payload(bill, items)

    assert "Negative Line Items to Credit" in caught.value.hint


def test_a_bill_sent_again_without_credits_clears_an_earlier_discount_only_in_credit_mode():
    bill = make_bill()
    refuse = invoice_build(bill=bill, line_items=lines(bill, {}), integration=integration())
    credit = invoice_build(
        bill=bill, line_items=lines(bill, {}), integration=integration(negative_line_items="CREDIT")
    )

    assert "discount" not in json.loads(
        Client.serialize_json_payload(refuse.update_operation(customer_id="c", address_id=None))
    )
    assert (
        json.loads(
            Client.serialize_json_payload(credit.update_operation(customer_id="c", address_id=None))
        )["discount"]
        is None
    )


def test_excluded_lines_are_the_stated_difference_between_invoice_and_bill():
    bill = make_bill()
    items = lines(
        bill,
        {"subtotal": Decimal("90")},
        {"subtotal": Decimal("7.5"), "line_item_type": LineItemType.MINIMUM_SPEND},
        {"subtotal": Decimal("2.5"), "line_item_type": LineItemType.MINIMUM_SPEND},
    )
    config = integration(excluded_line_item_types=["MINIMUM_SPEND"])
    invoice = invoice_build(bill=bill, line_items=items, integration=config)

    assert (invoice.total, invoice.bill_total) == (9000, 10000)
    assert invoice.total_note == (
        "The Paddle invoice's total before tax is USD 90.00 and the bill's is USD 100.00: "
        "USD 10.00 less, because Excluded Line Item Types left out 2 Minimum spend lines (10.00)."
    )


@given(
    st.lists(
        st.decimals(min_value=-1000, max_value=10**5, places=4, allow_nan=False),
        min_size=1,
        max_size=60,
    )
)
def test_with_credit_the_invoice_before_tax_is_always_the_bill_to_the_minor_unit(subtotals):
    bill = make_bill()
    items = lines(bill, *({"subtotal": s} for s in subtotals))
    config = integration(negative_line_items="CREDIT")
    try:
        invoice = invoice_build(bill=bill, line_items=items, integration=config)
    except PaddleProblem as problem:
        # Refused only when the credits exceed the charges or nothing is charged.
        charges = [s for s in subtotals if s >= 0]
        assert not charges or -sum(s for s in subtotals if s < 0) > sum(charges), problem
        return
    assert invoice.total == invoice.bill_total
    assert invoice.total_note == ""
    assert all(line.amount >= 0 for line in invoice.lines) and invoice.credit >= 0

"""What the hub sends Paddle, checked against Paddle's own OpenAPI document.

The stand-in is more forgiving than Paddle, so these tests take the requests exactly as the SDK
puts them on the wire (body bytes, query string, path) and validate them with openapi-core
against the request schemas Paddle publishes: bodies, query parameters and path together.

Two documents are used when present: the vendored subset the stand-in ships (always there, cut
from the full document by `python -m standins.paddle.spec`), and the full document in
shared/specs when this checkout has it, which also proves the subset is current.
"""

import datetime
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest
from paddle_billing import Client
from paddle_billing.Resources.Customers.Operations import CreateCustomer

from integrations.models import SortLineItemsBy
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import LineItemType
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from paddle_destination.client import PaddleSession
from paddle_destination.delivery import invoice_deliver
from paddle_destination.invoice import (
    MANUAL_COLLECTION_CURRENCIES,
    MAX_ITEMS,
    invoice_build,
)
from paddle_destination.tests.payloads import invoice_payload
from standins.paddle.pytest_plugin import paddle_client_for
from standins.paddle.spec import SUBSET_PATH, build_subset

FULL_SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "paddle-openapi.yaml"
SOURCES = ["subset"] + (["full"] if FULL_SPEC.exists() else [])
PADDLE_HOST = "https://sandbox-api.paddle.com"  # a server the document lists
CUSTOMER_ID = "ctm_01h8441jn5pcwrfhwh78jqt8hk"
ADDRESS_ID = "add_01h848pep46enq8y372x7maj0p"
TRANSACTION_ID = "txn_01h8441jn5pcwrfhwh78jqt8hk"


@cache
def spec_document(source: str) -> dict:
    if source == "subset":
        return json.loads(SUBSET_PATH.read_text())
    import yaml

    with FULL_SPEC.open() as fh:
        full = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    # Dates become datetimes under YAML; round-trip through JSON as the subset tool does.
    return json.loads(json.dumps(full, default=str))


@cache
def spec_api(source: str) -> OpenAPI:
    # The subset drops prose the OpenAPI meta-schema insists on (response descriptions), so the
    # document itself is not re-validated; its schemas are what matter here.
    return OpenAPI(
        SchemaPath.from_dict(spec_document(source)), config=Config(spec_validator_cls=None)
    )


@pytest.fixture(params=SOURCES)
def api(request) -> OpenAPI:
    return spec_api(request.param)


def as_sent_to_paddle(prepared):
    """The request with its host swapped for Paddle's, so the document's servers match."""
    copy = prepared.copy()
    parts = urlsplit(copy.url)
    copy.url = urlunsplit(("https", urlsplit(PADDLE_HOST).netloc, parts.path, parts.query, ""))
    return copy


def spec_errors(api: OpenAPI, prepared) -> list[str]:
    """Every reason Paddle's document refuses this request (empty when it is accepted)."""
    result = api.unmarshal_request(RequestsOpenAPIRequest(as_sent_to_paddle(prepared)))
    messages = []
    for error in result.errors:
        causes = getattr(error.__cause__, "schema_errors", None) or [error.__cause__ or error]
        for cause in causes:
            where = "/".join(str(p) for p in getattr(cause, "absolute_path", []))
            messages.append(f"{type(error).__name__} {where}: {getattr(cause, 'message', cause)}")
    return messages


def prepared(method: str, path: str, body: dict | None = None, params: dict | None = None):
    import requests

    return requests.Request(
        method,
        PADDLE_HOST + path,
        data=Client.serialize_json_payload(body) if body is not None else None,
        params=params,
        headers={"Authorization": "Bearer pdl_sdbx_apikey_x", "Content-Type": "application/json"},
    ).prepare()


# --- the invoice bodies, for bills that stretch the mapping -----------------------------------


def _bill(currency="USD", account=None, **fields):
    return BillFactory.build(account=account or AccountFactory.build(), currency=currency, **fields)


def _lines(bill, specs):
    return [
        LineItemFactory.build(bill=bill, sequence=i + 1, **spec) for i, spec in enumerate(specs)
    ]


def _rounding():
    bill = _bill()
    return bill, _lines(
        bill,
        [
            {"subtotal": Decimal(s)}
            for s in ("0.005", "0.005", "10.125", "3.3349999", "0", "999999.995")
        ],
    )


def _many_lines():
    bill = _bill()
    return bill, _lines(bill, [{"subtotal": Decimal(i) / 7} for i in range(MAX_ITEMS)])


def _long_texts():
    bill = _bill()
    return bill, _lines(
        bill,
        [
            {
                "description": "D" * 500,
                "product_name": "P" * 200,
                "unit": "u" * 100,
                "quantity": Decimal("12345678901234.1234567891"),
                "units": Decimal("0.0000000001"),
            },
            {"description": "x", "product_name": "y", "unit": ""},
        ],
    )


def _unicode():
    bill = _bill(currency="EUR")
    return bill, _lines(
        bill,
        [
            {"description": "Überweisung – Straße 🚀 " * 30, "product_name": "数据处理" * 60},
            {"description": "e\u0301" * 200, "product_name": "Ωmega\n\ttabs\r\nlines", "unit": "€"},
            {"description": "   ", "product_name": "\n"},  # blank: falls back to the type
            {"description": "", "product_name": "", "line_item_type": "SOMETHING_NEW"},
        ],
    )


def _no_periods():
    bill = _bill(currency="GBP", start_date=None, end_date=None, due_date=None, bill_date=None)
    bill.account.days_before_bill_due = None
    return bill, _lines(
        bill,
        [
            {"service_period_start": None, "service_period_end": None},
            {
                "service_period_start": datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC),
                "service_period_end": None,
            },
        ],
    )


def _due_before_bill_and_max_po():
    bill = _bill(
        bill_date=datetime.date(2026, 11, 1),
        due_date=datetime.date(2026, 10, 1),
        purchase_order_number="P" * 100,
    )
    return bill, _lines(bill, [{}])


def _account_po_and_long_terms():
    account = AccountFactory.build(purchase_order_number="ÄÖÜ-" * 25)
    bill = _bill(
        account=account,
        bill_date=datetime.date(2026, 1, 1),
        due_date=datetime.date(2027, 12, 31),
        start_date=datetime.date(2026, 1, 31),
        end_date=datetime.date(2026, 2, 1),
    )
    return bill, _lines(bill, [{"line_item_type": t} for t in LineItemType.values])


BILLS = {
    "rounding": _rounding,
    "100 lines": _many_lines,
    "longest texts": _long_texts,
    "unicode and blanks in EUR": _unicode,
    "no periods, no due date, GBP": _no_periods,
    "due before bill, PO at max length": _due_before_bill_and_max_po,
    "account PO, long terms, every line type": _account_po_and_long_terms,
}


@pytest.mark.parametrize("address_id", [ADDRESS_ID, None], ids=["with address", "no address"])
@pytest.mark.parametrize("make", BILLS.values(), ids=BILLS.keys())
def test_invoice_bodies_are_valid_paddle_requests(api, make, address_id):
    bill, items = make()
    config = IntegrationConfigurationFactory.build(sort_line_items_by=SortLineItemsBy.SUBTOTAL)
    create = invoice_payload(
        bill=bill,
        line_items=items,
        integration=config,
        customer_id=CUSTOMER_ID,
        address_id=address_id,
    )
    invoice = invoice_build(bill=bill, line_items=items, integration=config)
    update = json.loads(
        Client.serialize_json_payload(
            invoice.update_operation(customer_id=CUSTOMER_ID, address_id=address_id)
        )
    )

    assert spec_errors(api, prepared("POST", "/transactions", create)) == []
    assert spec_errors(api, prepared("PATCH", f"/transactions/{TRANSACTION_ID}", update)) == []
    # The document leaves these to prose; Paddle enforces them all the same.
    assert create["collection_mode"] == "manual"
    assert create["currency_code"] in MANUAL_COLLECTION_CURRENCIES
    assert "billing_details" in create and "status" not in create
    for item in create["items"]:
        price = item["price"]
        assert price["name"].strip() and price["product"]["name"].strip()
        assert price["unit_price"]["currency_code"] == create["currency_code"]
        assert int(price["unit_price"]["amount"]) >= 0
        assert item["quantity"] == 1  # within a non-catalog price's default 1–100
    assert sum(int(i["price"]["unit_price"]["amount"]) for i in create["items"]) == invoice.total


def test_blank_descriptions_fall_back_to_a_name_paddle_accepts(api):
    bill, items = _unicode()
    body = invoice_payload(
        bill=bill,
        line_items=items,
        integration=IntegrationConfigurationFactory.build(),
        customer_id=CUSTOMER_ID,
        address_id=None,
    )
    blank, unnamed = body["items"][2]["price"], body["items"][3]["price"]
    assert (blank["name"].split(" — ")[0], blank["product"]["name"]) == ("Usage", "Usage")
    assert (unnamed["name"].split(" — ")[0], unnamed["product"]["name"]) == ("Something new",) * 2


@pytest.mark.parametrize(
    "breakage, field",
    [
        (lambda b: b["items"][0]["price"].update(name=""), "name"),
        (lambda b: b["items"][0]["price"].update(description="x" * 501), "description"),
        (lambda b: b["items"][0]["price"]["product"].update(tax_category="saas-ish"), "category"),
        (lambda b: b["items"][0].update(quantity=0), "quantity"),
        (lambda b: b["billing_details"].update(purchase_order_number="P" * 101), "purchase"),
        (lambda b: b.update(customer_id="ctm_01"), "customer_id"),
        (lambda b: b.update(items=[]), "items"),
    ],
    ids=[
        "blank name",
        "long description",
        "tax category",
        "quantity 0",
        "long PO",
        "bad id",
        "no items",
    ],
)
def test_the_check_catches_what_paddle_refuses(api, breakage, field):
    bill, items = _due_before_bill_and_max_po()
    body = invoice_payload(
        bill=bill,
        line_items=items,
        integration=IntegrationConfigurationFactory.build(),
        customer_id=CUSTOMER_ID,
        address_id=ADDRESS_ID,
    )
    breakage(body)
    errors = spec_errors(api, prepared("POST", "/transactions", body))
    assert errors, f"a body with a bad {field} passed"


@pytest.mark.parametrize("source", SOURCES)
def test_the_spec_has_the_request_schemas_checked_here(source):
    document = spec_document(source)
    paths = document["paths"]
    for path, method in [
        ("/customers", "post"),
        ("/customers", "get"),
        ("/customers/{customer_id}/addresses", "post"),
        ("/customers/{customer_id}/addresses", "get"),
        ("/transactions", "post"),
        ("/transactions", "get"),
        ("/transactions/{transaction_id}", "patch"),
    ]:
        assert method in paths[path], (method, path)
    if source == "full":
        # The vendored subset is what the stand-in validates with: it must be this document's.
        vendored = json.loads(SUBSET_PATH.read_text())
        regenerated = json.loads(json.dumps(build_subset(document)))
        assert regenerated == vendored, "regenerate with python -m standins.paddle.spec"


# --- every request of real deliveries, as sent --------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """Every request the hub's Paddle sessions put on the wire, in order."""
    requests_sent = []
    original = PaddleSession.send

    def send(self, request, **kwargs):
        requests_sent.append(request.copy())
        return original(self, request, **kwargs)

    monkeypatch.setattr(PaddleSession, "send", send)
    return requests_sent


def _deliver(integration, bill, recorder, **kwargs):
    return invoice_deliver(
        integration=integration,
        bill=bill,
        known_transaction_id=kwargs.get("known"),
        reconcile=kwargs.get("reconcile", False),
        on_transaction_created=recorder.on_transaction_created,
        log=recorder.log,
    )


def _saved_bill(account, *specs, **fields):
    bill = BillFactory(account=account, **fields)
    for i, spec in enumerate(specs):
        LineItemFactory(bill=bill, sequence=i + 1, **spec)
    return bill


def _route(request) -> tuple[str, str]:
    path = urlsplit(request.url).path
    for prefix, name in (
        ("ctm_", "{customer_id}"),
        ("txn_", "{transaction_id}"),
        ("add_", "{address_id}"),
    ):
        path = "/".join(name if part.startswith(prefix) else part for part in path.split("/"))
    return request.method, path


@pytest.mark.django_db
def test_every_request_of_a_delivery_is_valid_for_paddle(api, paddle, integration, recorder, sent):
    # An address as m3ter may send it: a numeric post code, a lower-case alias, padded lines.
    account = AccountFactory(
        name="Ünïcode GmbH & Co. KG",
        address={
            "addressLine1": "  1 Main Street ",
            "addressLine2": "Flat 2",
            "addressLine3": "   ",
            "locality": "London",
            "region": "Greater London",
            "postCode": 10115,
            "country": "uk",
        },
    )
    bill = _saved_bill(
        account,
        {"subtotal": Decimal("10.005"), "description": "Überweisung 🚀"},
        {"subtotal": Decimal("0"), "description": " "},
        currency="GBP",
        purchase_order_number="PO-" + "9" * 97,
    )
    first = _deliver(integration, bill, recorder)
    bill.version = 2
    bill.save()
    _deliver(integration, bill, recorder, known=first.transaction_id)
    # A lost answer: the next attempt looks the transaction up before writing.
    _deliver(integration, bill, recorder, reconcile=True)

    routes = [_route(r) for r in sent]
    assert routes == [
        ("POST", "/customers"),
        ("POST", "/customers/{customer_id}/addresses"),
        ("POST", "/transactions"),
        ("PATCH", "/transactions/{transaction_id}"),
        ("GET", "/transactions"),
        ("PATCH", "/transactions/{transaction_id}"),
    ]
    for request in sent:
        assert spec_errors(api, request) == [], _route(request)
    address = json.loads(sent[1].body)
    assert (address["postal_code"], address["first_line"], address["country_code"]) == (
        "10115",
        "1 Main Street",
        "GB",
    )
    assert paddle.dump()["transactions"][0]["status"] == "ready"


@pytest.mark.django_db
def test_an_existing_customer_and_an_unsupported_country_send_only_valid_requests(
    api, paddle, integration, recorder, sent
):
    account = AccountFactory(address={**AccountFactory.build().address, "country": "XX"})
    paddle_client_for(paddle).customers.create(CreateCustomer(email=account.email, name="Old"))
    bill = _saved_bill(account, {"subtotal": Decimal("1")})

    result = _deliver(integration, bill, recorder)

    assert [_route(r) for r in sent][0] == ("POST", "/customers")
    assert ("POST", "/customers/{customer_id}/addresses") not in [_route(r) for r in sent]
    for request in sent:
        assert spec_errors(api, request) == [], _route(request)
    assert result.status == "draft"
    assert any("country Paddle supports (given: XX)" in m for m in recorder.messages())


@pytest.mark.django_db
def test_bringing_customer_and_address_up_to_date_sends_only_valid_requests(
    api, paddle, integration, recorder, sent
):
    account = AccountFactory()
    paddle_client_for(paddle).customers.create(CreateCustomer(email=account.email))  # nameless
    _deliver(integration, _saved_bill(account, {"subtotal": Decimal("1")}), recorder)
    account.address = {**account.address, "addressLine2": "Suite 5", "postCode": "62702"}
    account.save()
    _deliver(integration, _saved_bill(account, {"subtotal": Decimal("2")}), recorder)

    routes = [_route(r) for r in sent]
    assert ("PATCH", "/customers/{customer_id}") in routes
    assert ("PATCH", "/customers/{customer_id}/addresses/{address_id}") in routes
    for request in sent:
        assert spec_errors(api, request) == [], _route(request)

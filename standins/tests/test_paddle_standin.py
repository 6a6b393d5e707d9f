"""The Paddle stand-in, driven through the official SDK over real HTTP (and `requests` for the
raw wire format). No database."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from paddle_billing.Entities.Shared import (
    CollectionMode,
    CountryCode,
    CurrencyCode,
    CustomData,
    Duration,
    Interval,
    Money,
    TaxCategory,
    TransactionStatus,
)
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Addresses.Operations import CreateAddress
from paddle_billing.Resources.Customers.Operations import CreateCustomer, ListCustomers
from paddle_billing.Resources.Shared.Operations import Comparator, DateComparison, OrderBy, Pager
from paddle_billing.Resources.Transactions.Operations import (
    CreateTransaction,
    ListTransactions,
    UpdateTransaction,
)
from paddle_billing.Resources.Transactions.Operations.Create import (
    CreateBillingDetails,
    TransactionCreateItemWithPrice,
)
from paddle_billing.Resources.Transactions.Operations.Price import (
    TransactionNonCatalogPriceWithProduct,
    TransactionNonCatalogProduct,
)

from standins.paddle import PaddleStandin, make_api_key, spec
from standins.paddle.pytest_plugin import paddle_client_for

PADDLE_ID = re.compile(r"^(ctm|add|txn|pri|pro|txnitm)_[a-z\d]{26}$")


# --- helpers ------------------------------------------------------------------------------------


def sdk_item(amount: str = "1250", quantity: int = 1, currency=CurrencyCode.USD, name="API calls"):
    return TransactionCreateItemWithPrice(
        price=TransactionNonCatalogPriceWithProduct(
            description=f"{name} for March",
            name=name,
            unit_price=Money(amount, currency),
            product=TransactionNonCatalogProduct(name=name, tax_category=TaxCategory.Standard),
        ),
        quantity=quantity,
    )


def raw_item(amount="1250", quantity=1, currency="USD", limits=None):
    return {
        "quantity": quantity,
        "price": {
            "description": "Usage for March",
            "name": "Usage",
            "unit_price": {"amount": amount, "currency_code": currency},
            "product": {"name": "Usage", "tax_category": "standard"},
            **({"quantity": limits} if limits else {}),
        },
    }


def manual_invoice(customer_id=None, address_id=None, items=None, currency=CurrencyCode.USD):
    return CreateTransaction(
        items=items or [sdk_item()],
        customer_id=customer_id,
        address_id=address_id,
        currency_code=currency,
        collection_mode=CollectionMode.Manual,
        billing_details=CreateBillingDetails(payment_terms=Duration(Interval.Day, 30)),
        custom_data=CustomData({"m3ter_bill_id": "bill-1"}),
    )


def make_customer(client, email="ada@example.com", name="Ada Lovelace"):
    return client.customers.create(CreateCustomer(email=email, name=name))


def make_address(client, customer_id, **fields):
    values = {
        "country_code": CountryCode.GB,
        "first_line": "12 Analytical St",
        "city": "London",
        "postal_code": "EC1A 1AA",
        "region": "Greater London",
        **fields,
    }
    return client.addresses.create(customer_id, CreateAddress(**values))


def auth(key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key or make_api_key('sandbox')}"}


class Raw:
    """requests against the stand-in with a sandbox key, for the wire format itself."""

    def __init__(self, standin: PaddleStandin, key: str | None = None) -> None:
        self.url = standin.url
        self.key = key or make_api_key("sandbox")

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture
def client(paddle_standin):
    return paddle_client_for(paddle_standin)


@pytest.fixture
def raw(paddle_standin):
    return Raw(paddle_standin)


def assert_paddle_shape(response: requests.Response, method: str, path: str, query=None):
    """The response passes Paddle's own response schema (the 2025-05 OpenAPI spec)."""
    problems = spec.response_errors(
        method, path, query or {}, response.status_code, response.content, dict(response.headers)
    )
    assert problems == []


# --- customers and addresses --------------------------------------------------------------------


def test_create_customer_returns_a_paddle_customer(client, paddle_standin):
    customer = client.customers.create(
        CreateCustomer(email="ada@example.com", name="Ada", custom_data=CustomData({"k": "v"}))
    )

    assert PADDLE_ID.match(customer.id) and customer.id.startswith("ctm_")
    assert (customer.email, customer.name, customer.locale) == ("ada@example.com", "Ada", "en")
    assert customer.custom_data.data == {"k": "v"}
    assert list(paddle_standin.state.customers) == [customer.id]


def test_duplicate_email_is_409_customer_already_exists_naming_the_existing_id(client, raw):
    first = make_customer(client)

    with pytest.raises(ApiError) as caught:
        client.customers.create(CreateCustomer(email="ADA@example.com", name="Other"))

    assert caught.value.response.status_code == 409
    assert caught.value.error_code == "customer_already_exists"
    assert caught.value.detail == f"customer email conflicts with customer of id {first.id}"
    body = raw("POST", "/customers", json={"email": "ada@example.com"}).json()
    assert body["error"]["type"] == "request_error"
    assert body["error"]["documentation_url"].endswith("/errors/customers/customer_already_exists")
    assert body["meta"]["request_id"]


def test_customers_are_found_by_email(client):
    ada = make_customer(client)
    make_customer(client, email="bob@example.com", name="Bob")

    found = client.customers.list(ListCustomers(emails=["ada@example.com"]))

    assert [c.id for c in found] == [ada.id]


def test_address_is_created_and_listed_for_its_customer(client, raw):
    customer = make_customer(client)

    address = make_address(client, customer.id)

    assert address.id.startswith("add_") and address.customer_id == customer.id
    assert [a.id for a in client.addresses.list(customer.id)] == [address.id]
    missing = raw(
        "POST", "/customers/ctm_01hv8wt8nffez4p2t6typn4a5j/addresses", json={"country_code": "US"}
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


def test_invalid_customer_body_is_400_invalid_field_with_field_errors(raw):
    response = raw("POST", "/customers", json={"email": "not-an-email", "nickname": "x"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_field"
    assert {"field": "email", "message": "must be a valid email"} in error["errors"]


# --- transactions -------------------------------------------------------------------------------


def test_manual_transaction_is_draft_without_address_and_ready_once_it_has_one(client):
    customer = make_customer(client)
    address = make_address(client, customer.id)

    draft = client.transactions.create(manual_invoice(customer.id))
    assert draft.status == TransactionStatus.Draft
    assert PADDLE_ID.match(draft.id) and draft.id.startswith("txn_")
    assert draft.collection_mode == CollectionMode.Manual
    assert draft.billing_details.payment_terms.frequency == 30
    assert draft.custom_data.data == {"m3ter_bill_id": "bill-1"}
    assert draft.details.totals.total == "1250" and draft.details.totals.tax == "0"
    assert draft.items[0].price.id.startswith("pri_")
    assert draft.details.lineItems[0].product.id.startswith("pro_")  # SDK spells it lineItems

    ready = client.transactions.update(draft.id, UpdateTransaction(address_id=address.id))

    assert ready.status == TransactionStatus.Ready
    assert client.transactions.get(draft.id).status == TransactionStatus.Ready


def test_transaction_created_with_customer_and_address_is_ready(client):
    customer = make_customer(client)
    address = make_address(client, customer.id)

    txn = client.transactions.create(manual_invoice(customer.id, address.id))

    assert txn.status == TransactionStatus.Ready


def test_totals_are_computed_from_items(client):
    txn = client.transactions.create(
        manual_invoice(items=[sdk_item("1250", 4), sdk_item("99", 1, name="Seats")])
    )

    assert [li.totals.subtotal for li in txn.details.lineItems] == ["5000", "99"]
    assert (txn.details.totals.subtotal, txn.details.totals.total) == ("5099", "5099")
    assert txn.details.totals.currency_code == CurrencyCode.USD


def test_patch_items_replace_the_whole_list(client, paddle_standin):
    txn = client.transactions.create(manual_invoice(items=[sdk_item("100"), sdk_item("200")]))

    updated = client.transactions.update(
        txn.id, UpdateTransaction(items=[sdk_item("999", 2, name="Only line")])
    )

    assert [i.price.name for i in updated.items] == ["Only line"]
    assert updated.details.totals.total == "1998"
    assert len(paddle_standin.state.transactions[txn.id]["items"]) == 1


def test_transaction_is_immutable_once_billed(client, paddle_standin):
    txn = client.transactions.create(manual_invoice())
    paddle_standin.mark_transaction(txn.id, "billed")

    with pytest.raises(ApiError) as caught:
        client.transactions.update(txn.id, UpdateTransaction(custom_data=CustomData({"a": 1})))

    assert caught.value.response.status_code == 400
    assert caught.value.error_code == "transaction_immutable"
    assert client.transactions.get(txn.id).status == TransactionStatus.Billed


def test_status_billed_is_refused_by_default(client, raw):
    customer = make_customer(client)
    address = make_address(client, customer.id)
    txn = client.transactions.create(manual_invoice(customer.id, address.id))

    with pytest.raises(ApiError) as caught:
        client.transactions.update(txn.id, UpdateTransaction(status=TransactionStatus.Billed))

    assert caught.value.error_code == "invalid_field"
    assert caught.value.field_errors[0].field == "status"
    completed = raw("PATCH", f"/transactions/{txn.id}", json={"status": "completed"})
    assert completed.json()["error"]["code"] == "transaction_invalid_status_change"


def test_billing_like_paddle_when_allowed(client, paddle_standin):
    paddle_standin.configure(refuse_billed=False)
    customer = make_customer(client)
    address = make_address(client, customer.id)
    txn = client.transactions.create(manual_invoice(customer.id, address.id))

    billed = client.transactions.update(txn.id, UpdateTransaction(status=TransactionStatus.Billed))

    assert billed.status == TransactionStatus.Billed
    assert billed.invoice_number and billed.billed_at is not None


def test_manual_collection_refuses_jpy(client):
    with pytest.raises(ApiError) as caught:
        client.transactions.create(
            manual_invoice(
                items=[sdk_item("1000", currency=CurrencyCode.JPY)], currency=CurrencyCode.JPY
            )
        )

    assert caught.value.response.status_code == 400
    assert caught.value.error_code == "transaction_currency_code_not_valid_for_manual"


def test_manual_collection_needs_billing_details(raw):
    response = raw(
        "POST", "/transactions", json={"items": [raw_item()], "collection_mode": "manual"}
    )

    assert response.json()["error"]["code"] == "transaction_billing_details_object_required"


def test_manual_collection_needs_a_named_customer(client):
    nameless = client.customers.create(CreateCustomer(email="x@example.com"))

    with pytest.raises(ApiError) as caught:
        client.transactions.create(manual_invoice(nameless.id))

    assert caught.value.error_code == "transaction_customer_not_suitable_for_collection_mode"


def test_address_must_belong_to_the_customer(client):
    ada = make_customer(client)
    bob = make_customer(client, email="bob@example.com", name="Bob")
    bobs_address = make_address(client, bob.id)

    with pytest.raises(ApiError) as caught:
        client.transactions.create(manual_invoice(ada.id, bobs_address.id))

    assert caught.value.error_code == "invalid_field"
    assert caught.value.field_errors[0].field == "address_id"


def test_101_items_are_refused(raw, paddle_standin):
    body = {"items": [raw_item() for _ in range(101)]}

    response = raw("POST", "/transactions", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_field"
    assert error["errors"][0]["field"] == "items"
    assert paddle_standin.state.transactions == {}
    assert raw("POST", "/transactions", json={"items": [raw_item()] * 100}).status_code == 201


def test_decimal_unit_price_is_refused(raw):
    # The SDK's Money refuses "12.50" before sending; this checks the server side.
    response = raw("POST", "/transactions", json={"items": [raw_item(amount="12.50")]})

    assert response.status_code == 400
    assert response.json()["error"]["errors"] == [
        {
            "field": "items[0].price.unit_price.amount",
            "message": "must be a valid integer amount in the lowest denomination of the currency",
        }
    ]


def test_price_rules_description_currency_and_quantity(raw):
    short = raw_item()
    short["price"]["description"] = "x"
    assert raw("POST", "/transactions", json={"items": [short]}).json()["error"]["errors"] == [
        {
            "field": "items[0].price.description",
            "message": "min length of 2 not met, provided value length 1",
        }
    ]

    mismatch = raw(
        "POST", "/transactions", json={"currency_code": "EUR", "items": [raw_item(currency="USD")]}
    )
    assert (
        mismatch.json()["error"]["errors"][0]["field"] == "items[0].price.unit_price.currency_code"
    )

    too_many = raw("POST", "/transactions", json={"items": [raw_item(quantity=101)]})
    assert too_many.json()["error"]["code"] == "transaction_item_quantity_out_of_range"

    allowed = raw_item(quantity=500, limits={"minimum": 1, "maximum": 1000})
    assert raw("POST", "/transactions", json={"items": [allowed]}).status_code == 201


def test_list_transactions_filters(client):
    ada = make_customer(client)
    bob = make_customer(client, email="bob@example.com", name="Bob")
    address = make_address(client, ada.id)
    ready = client.transactions.create(manual_invoice(ada.id, address.id))
    draft = client.transactions.create(manual_invoice(ada.id))
    bobs = client.transactions.create(manual_invoice(bob.id))

    def ids(**filters):
        return {t.id for t in client.transactions.list(ListTransactions(**filters))}

    assert ids(customer_ids=[ada.id]) == {ready.id, draft.id}
    assert ids(statuses=[TransactionStatus.Ready]) == {ready.id}
    assert ids(statuses=[TransactionStatus.Draft, TransactionStatus.Ready]) == {
        ready.id,
        draft.id,
        bobs.id,
    }
    assert ids(ids=[bobs.id, draft.id]) == {bobs.id, draft.id}
    assert ids(collection_mode=CollectionMode.Automatic) == set()
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert ids(created_at=DateComparison(later, Comparator.LT)) == {ready.id, draft.id, bobs.id}
    assert ids(created_at=DateComparison(later, Comparator.GT)) == set()


def test_list_transactions_paginates_like_paddle(client, raw, paddle_standin):
    made = [client.transactions.create(manual_invoice()).id for _ in range(5)]

    first = raw("GET", "/transactions", params={"per_page": 2}).json()

    pagination = first["meta"]["pagination"]
    assert set(pagination) == {"per_page", "next", "has_more", "estimated_total"}
    assert (pagination["per_page"], pagination["has_more"], pagination["estimated_total"]) == (
        2,
        True,
        5,
    )
    # Default order is id[DESC]: newest first.
    assert [t["id"] for t in first["data"]] == made[::-1][:2]
    assert f"after={made[3]}" in pagination["next"]
    assert pagination["next"].startswith(paddle_standin.url + "/transactions?")

    # The SDK follows `next` on its own while iterating.
    listed = client.transactions.list(
        ListTransactions(pager=Pager(per_page=2, order_by=OrderBy.id_ascending()))
    )
    assert [t.id for t in listed] == made

    # per_page above 30 is capped, not refused (the SDK's Pager sends 50 by default).
    capped = raw("GET", "/transactions", params={"per_page": 50}).json()["meta"]["pagination"]
    assert capped["per_page"] == 30 and capped["has_more"] is False


def test_responses_match_paddles_schema(client, raw):
    customer = make_customer(client)
    address = make_address(client, customer.id)
    txn = client.transactions.create(manual_invoice(customer.id, address.id))

    for method, path, query in [
        ("GET", "/customers", {}),
        ("GET", f"/customers/{customer.id}", {}),
        ("GET", f"/customers/{customer.id}/addresses", {}),
        ("GET", "/transactions", {"include": "customer,address"}),
        ("GET", f"/transactions/{txn.id}", {}),
        ("GET", "/event-types", {}),
        ("GET", "/transactions/txn_01hv8wptq8987qeep44cyrewp9", {}),
    ]:
        assert_paddle_shape(raw(method, path, params=query), method, path, query)
    created = raw("POST", "/transactions", json={"items": [raw_item()]})
    assert_paddle_shape(created, "POST", "/transactions")
    patched = raw("PATCH", f"/transactions/{txn.id}", json={"items": [raw_item("7")]})
    assert_paddle_shape(patched, "PATCH", f"/transactions/{txn.id}")


# --- authentication -----------------------------------------------------------------------------

MALFORMED = "Authentication header included, but incorrectly formatted."


def test_test_connection_call_works(client):
    # The cheap authenticated GET used for "test connection".
    assert len(list(client.event_types.list())) > 0


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "authentication_missing"),
        ({"Authorization": "Basic abc"}, "authentication_malformed"),
        ({"Authorization": "Bearer test_0123456789abcdef"}, "authentication_malformed"),
        ({"Authorization": f"Bearer {make_api_key('production')}"}, "forbidden"),
        # Not shaped like an API key, however it is dressed: malformed, not an unknown key.
        ({"Authorization": "Bearer abc123"}, "authentication_malformed"),
        ({"Authorization": "Bearer pdl_sdbx_apikey_abc123"}, "authentication_malformed"),
        ({"Authorization": f"Bearer {make_api_key('sandbox')[:-1]}"}, "authentication_malformed"),
        ({"Authorization": f"Bearer {'k' * 49}"}, "authentication_malformed"),
    ],
)
def test_authentication_errors_are_403(paddle_standin, headers, code):
    response = requests.get(paddle_standin.url + "/event-types", headers=headers, timeout=10)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == code


def test_sandbox_key_is_refused_in_production_mode():
    with PaddleStandin(mode="production") as production:
        with pytest.raises(ApiError) as caught:
            paddle_client_for(production, make_api_key("sandbox")).event_types.list()
        assert caught.value.error_code == "forbidden"
        assert list(paddle_client_for(production).event_types.list())


def test_valid_and_revoked_keys(paddle_standin):
    good, revoked = make_api_key(), make_api_key()
    paddle_standin.configure(valid_keys=[good, revoked], revoked_keys=[revoked])

    assert list(paddle_client_for(paddle_standin, good).event_types.list())
    for key in (revoked, make_api_key()):
        with pytest.raises(ApiError) as caught:
            paddle_client_for(paddle_standin, key).event_types.list()
        assert (caught.value.response.status_code, caught.value.error_code) == (
            403,
            "invalid_token",
        )
    # Keys without an environment marker (older keys: 50 letters and digits) are accepted when
    # no list is set.
    paddle_standin.configure(valid_keys=None)
    assert list(paddle_client_for(paddle_standin, "0123456789abcdef" * 3 + "AB").event_types.list())


@pytest.mark.parametrize(
    ("key", "code", "detail"),
    [
        ("abc123", "authentication_malformed", MALFORMED),
        (make_api_key(), "invalid_token", "Invalid or revoked API key."),
    ],
    # Named, not shown: the unknown key is new at each collection, and xdist's workers must
    # collect the same test ids.
    ids=["malformed", "well-formed-but-unknown"],
)
def test_a_malformed_key_is_refused_as_paddle_does_and_an_unknown_one_as_invalid(
    paddle_standin, key, code, detail
):
    """Paddle's error reference: a header it cannot understand is 403 authentication_malformed;
    a key of the right shape that is not a key of the account is 403 invalid_token."""
    paddle_standin.configure(valid_keys=[make_api_key()])

    response = requests.get(
        paddle_standin.url + "/event-types", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["type"], error["code"], error["detail"]) == ("request_error", code, detail)
    assert error["documentation_url"] == f"https://developer.paddle.com/errors/shared/{code}"


# --- rate limit and faults ----------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(client, raw, paddle_standin):
    paddle_standin.configure(rate_limit_per_minute=3, block_seconds=30)
    for _ in range(3):
        assert raw("GET", "/event-types").status_code == 200

    response = raw("GET", "/event-types")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"] == {
        "type": "api_error",
        "code": "too_many_requests",
        "detail": "IP address exceeded the allowed rate limit. "
        "Retry after the number of seconds in the Retry-After header.",
        "documentation_url": "https://developer.paddle.com/errors/shared/too_many_requests",
    }
    # Blocked: further requests are refused too (and counted), whatever key they carry: Paddle
    # limits per IP address.
    assert raw("POST", "/customers", json={"email": "a@example.com"}).status_code == 429
    assert Raw(paddle_standin)("GET", "/event-types").status_code == 429
    assert paddle_standin.stats()["rate_limited"] == 3
    with pytest.raises(ApiError) as caught:  # POST is never retried by the SDK
        paddle_client_for(paddle_standin, raw.key).customers.create(
            CreateCustomer(email="b@example.com")
        )
    assert caught.value.error_code == "too_many_requests" and caught.value.retry_after > 0


@pytest.mark.slow
def test_rate_limit_block_ends_after_block_seconds(raw, paddle_standin):
    paddle_standin.configure(rate_limit_per_minute=2, block_seconds=1)
    assert [raw("GET", "/event-types").status_code for _ in range(3)] == [200, 200, 429]

    time.sleep(1.1)

    assert raw("GET", "/event-types").status_code == 200


def test_http_500_fault_changes_nothing(client, paddle_standin):
    paddle_standin.push_fault("http_500", method="POST", path="/customers")

    with pytest.raises(ApiError) as caught:
        make_customer(client)

    assert (caught.value.response.status_code, caught.value.error_code) == (500, "internal_error")
    assert caught.value.error_type == "api_error"
    assert paddle_standin.state.customers == {}
    assert make_customer(client).id in paddle_standin.state.customers  # fired once only


def test_drop_after_write_applies_the_write_but_the_client_sees_a_connection_error(
    client, paddle_standin
):
    paddle_standin.push_fault("drop_after_write", method="POST", path="/transactions")

    with pytest.raises(requests.exceptions.ConnectionError):
        client.transactions.create(manual_invoice())

    [txn] = paddle_standin.state.transactions.values()
    assert txn["custom_data"] == {"m3ter_bill_id": "bill-1"}
    # A reconciling client can find what the lost response would have said.
    assert [t.id for t in client.transactions.list()] == [txn["id"]]


def test_forced_rate_limit_fault(client, paddle_standin):
    paddle_standin.push_fault("rate_limit", method="PATCH", retry_after=7)
    txn = client.transactions.create(manual_invoice())

    with pytest.raises(ApiError) as caught:
        client.transactions.update(txn.id, UpdateTransaction(custom_data=CustomData({"a": 1})))

    assert (caught.value.error_code, caught.value.retry_after) == ("too_many_requests", 7)


@pytest.mark.slow
def test_timeout_fault_lands_the_write_after_the_client_gave_up(paddle_standin):
    paddle_standin.push_fault("timeout", method="POST", delay=1.0)
    impatient = paddle_client_for(paddle_standin, timeout=0.3)

    with pytest.raises(requests.exceptions.ReadTimeout):
        make_customer(impatient)

    assert paddle_standin.state.customers == {}  # still sleeping
    assert paddle_standin.wait_idle(timeout=5)
    assert len(paddle_standin.state.customers) == 1


def test_sdk_retries_a_get_after_one_500(client, paddle_standin):
    # Like production: the SDK retries idempotent requests on 5xx/429 (see standin/sdk.py).
    paddle_standin.push_fault("http_500", method="GET", path="/event-types")

    assert list(client.event_types.list())
    assert paddle_standin.request_count("GET", "/event-types") == 2


def test_sdk_get_that_keeps_failing_raises_retry_error_not_api_error(paddle_standin):
    # Worth knowing when classifying errors: once its retries are spent (even retry_count=0)
    # the SDK raises requests' RetryError for a GET, with no Paddle error code attached.
    paddle_standin.push_fault("http_500", method="GET", path="/event-types", times=None)

    with pytest.raises(requests.exceptions.RetryError):
        paddle_client_for(paddle_standin, retry_count=0).event_types.list()


def test_faults_with_a_probability_fire_for_that_share_of_requests(paddle_standin):
    # Background noise for the benchmark: about 10% 500s and, of the rest, 5% dropped writes.
    paddle_standin.push_fault("http_500", path="/event-types", times=None, probability=0.1)
    paddle_standin.push_fault("rate_limit", path="/event-types", times=None, probability=0.05)
    paddle_standin.configure(rate_limit_per_minute=1_000_000)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {make_api_key('sandbox')}"

    statuses = [session.get(f"{paddle_standin.url}/event-types").status_code for _ in range(400)]

    # Binomial bounds about six standard deviations wide: this does not flake.
    assert 15 <= statuses.count(500) <= 70
    assert 3 <= statuses.count(429) <= 40
    assert statuses.count(200) == 400 - statuses.count(500) - statuses.count(429)


def test_a_fault_probability_must_be_a_share(paddle_standin):
    with pytest.raises(ValueError, match="probability"):
        paddle_standin.push_fault("http_500", probability=0)


def test_latency_is_added(client, paddle_standin):
    paddle_standin.configure(latency=0.2)
    started = time.monotonic()

    client.event_types.list()

    assert time.monotonic() - started >= 0.2


def test_concurrent_writes_get_unique_ordered_ids(paddle_standin):
    client = paddle_client_for(paddle_standin)
    made, failures = [], []

    def work(n):
        try:
            made.append(make_customer(client, email=f"user{n}@example.com").id)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(set(made)) == 20
    assert sorted(paddle_standin.state.customers) == sorted(made)


# --- inspection and admin -----------------------------------------------------------------------


def test_state_dump_and_admin_endpoints(client, paddle_standin):
    txn = client.transactions.create(manual_invoice())
    url = paddle_standin.url

    state = requests.get(url + "/__standin/state", timeout=10).json()
    assert [t["id"] for t in state["transactions"]] == [txn.id]
    assert state["requests"]["total"] == 1
    assert state["requests"]["by_route"] == {"POST /transactions": 1}

    marked = requests.post(
        url + f"/__standin/transactions/{txn.id}/mark", json={"status": "paid"}, timeout=10
    )
    assert marked.json()["data"]["status"] == "paid"
    pushed = requests.post(
        url + "/__standin/faults", json={"kind": "http_500", "path": "/event-types"}, timeout=10
    )
    assert pushed.status_code == 201
    assert requests.get(url + "/event-types", headers=auth(), timeout=10).status_code == 500
    config = requests.post(url + "/__standin/config", json={"latency": 0.01}, timeout=10).json()
    assert config["latency"] == 0.01

    assert requests.post(url + "/__standin/reset", timeout=10).json() == {"ok": True}
    state = requests.get(url + "/__standin/state", timeout=10).json()
    assert (state["transactions"], state["requests"]["total"], state["config"]["latency"]) == (
        [],
        0,
        0.0,
    )


def test_request_log_records_what_the_client_sent(client, paddle_standin):
    client.transactions.create(manual_invoice())

    [entry] = paddle_standin.requests
    assert (entry["method"], entry["route"], entry["status"]) == ("POST", "/transactions", 201)
    assert "status" not in entry["body"]
    assert entry["body"]["collection_mode"] == "manual"

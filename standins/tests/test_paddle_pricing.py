"""The stand-in prices transactions as Paddle does: tax per address country and tax mode,
businesses (B2B reverse charge), non-catalog discounts, catalog products and approved tax
categories. Through the official SDK over HTTP; no database."""

from __future__ import annotations

import pytest
import requests
from paddle_billing.Entities.Discounts.DiscountType import DiscountType
from paddle_billing.Entities.Shared import (
    CollectionMode,
    CountryCode,
    CurrencyCode,
    Duration,
    Interval,
    Money,
    Status,
    TaxCategory,
    TaxMode,
)
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Addresses.Operations import CreateAddress
from paddle_billing.Resources.Businesses.Operations import (
    CreateBusiness,
    ListBusinesses,
    UpdateBusiness,
)
from paddle_billing.Resources.Customers.Operations import CreateCustomer
from paddle_billing.Resources.Transactions.Operations import CreateTransaction, UpdateTransaction
from paddle_billing.Resources.Transactions.Operations.Create import (
    CreateBillingDetails,
    TransactionCreateItemWithPrice,
)
from paddle_billing.Resources.Transactions.Operations.Discount import (
    TransactionNonCatalogDiscount,
)
from paddle_billing.Resources.Transactions.Operations.Price import (
    TransactionNonCatalogPrice,
    TransactionNonCatalogPriceWithProduct,
    TransactionNonCatalogProduct,
)

from standins.paddle import make_api_key, spec
from standins.paddle.pytest_plugin import paddle_client_for


@pytest.fixture
def client(paddle_standin):
    return paddle_client_for(paddle_standin)


def item(amount="1000", tax_mode=TaxMode.External, category=TaxCategory.Standard, product_id=None):
    common = {
        "description": "internal note",
        "name": "API calls",
        "unit_price": Money(amount, CurrencyCode.EUR),
    }
    if tax_mode is not None:
        common["tax_mode"] = tax_mode
    if product_id:
        price = TransactionNonCatalogPrice(product_id=product_id, **common)
    else:
        price = TransactionNonCatalogPriceWithProduct(
            product=TransactionNonCatalogProduct(name="Platform", tax_category=category), **common
        )
    return TransactionCreateItemWithPrice(price=price, quantity=1)


def buyer(client, country=CountryCode.GB, *, vat=None):
    """A customer with an address in `country`, and a business when `vat` is given."""
    customer = client.customers.create(CreateCustomer(email=f"{country}@example.com", name="Ada"))
    address = client.addresses.create(
        customer.id,
        CreateAddress(
            country_code=country,
            first_line="1 Rue",
            city="City",
            postal_code="10115",
            region="Region",
        ),
    )
    business = None
    if vat is not None:
        business = client.businesses.create(
            customer.id, CreateBusiness(name="Analytical Engines Ltd", tax_identifier=vat)
        )
    return customer.id, address.id, business.id if business else None


def invoice(client, items, who=(None, None, None), discount=None, currency=True):
    customer_id, address_id, business_id = who
    operation = CreateTransaction(
        items=items,
        customer_id=customer_id,
        address_id=address_id,
        collection_mode=CollectionMode.Manual,
        billing_details=CreateBillingDetails(payment_terms=Duration(Interval.Day, 30)),
    )
    if currency:
        operation.currency_code = CurrencyCode.EUR
    if business_id:
        operation.business_id = business_id
    if discount:
        operation.discount = discount
    return client.transactions.create(operation)


def totals(txn):
    t = txn.details.totals
    return {"subtotal": t.subtotal, "discount": t.discount, "tax": t.tax, "total": t.total}


def test_external_tax_mode_adds_the_country_rate_on_top(client):
    txn = invoice(client, [item("1000")], buyer(client, CountryCode.GB))

    assert totals(txn) == {"subtotal": "1000", "discount": "0", "tax": "200", "total": "1200"}
    assert txn.details.lineItems[0].tax_rate == "0.2"
    assert txn.details.tax_rates_used[0].tax_rate == "0.2"


def test_internal_tax_mode_carves_tax_out_of_the_price(client):
    txn = invoice(client, [item("1200", TaxMode.Internal)], buyer(client, CountryCode.GB))

    assert totals(txn) == {"subtotal": "1000", "discount": "0", "tax": "200", "total": "1200"}


def test_account_setting_follows_the_account_default_inclusive_unless_configured(
    client, paddle_standin
):
    who = buyer(client, CountryCode.DE)
    # No tax_mode sent at all: Paddle reads it as account_setting.
    inclusive = invoice(client, [item("1190", tax_mode=None)], who)
    paddle_standin.configure(account_tax_mode="external")
    exclusive = invoice(client, [item("1190", TaxMode.AccountSetting)], who)

    assert inclusive.items[0].price.tax_mode == TaxMode.AccountSetting
    assert totals(inclusive) == {"subtotal": "1000", "discount": "0", "tax": "190", "total": "1190"}
    assert totals(exclusive) == {"subtotal": "1190", "discount": "0", "tax": "226", "total": "1416"}


def test_without_an_address_no_tax_is_computed(client):
    txn = invoice(client, [item("1000")])

    assert totals(txn)["tax"] == "0"


def test_an_eu_business_with_a_tax_number_is_reverse_charged(client):
    consumer = invoice(client, [item("1000")], buyer(client, CountryCode.DE))
    business = invoice(client, [item("1000")], buyer(client, CountryCode.FR, vat="FR40303265045"))
    uk_business = invoice(client, [item("1000")], buyer(client, CountryCode.GB, vat="GB123456789"))

    assert totals(consumer)["tax"] == "190"
    assert totals(business)["tax"] == "0"
    assert business.business_id.startswith("biz_")
    assert totals(uk_business)["tax"] == "200"  # UK VAT is charged to UK businesses


def test_patching_address_or_business_prices_the_transaction_again(client):
    customer_id, address_id, _ = buyer(client, CountryCode.DE)
    txn = invoice(client, [item("1000")], (customer_id, None, None))
    assert totals(txn)["tax"] == "0"

    with_address = client.transactions.update(txn.id, UpdateTransaction(address_id=address_id))
    business = client.businesses.create(
        customer_id, CreateBusiness(name="GmbH", tax_identifier="DE123456789")
    )
    with_business = client.transactions.update(txn.id, UpdateTransaction(business_id=business.id))

    assert totals(with_address)["tax"] == "190"
    assert totals(with_business)["tax"] == "0"


def test_flat_discount_comes_off_before_tax_spread_over_the_items(client):
    discount = TransactionNonCatalogDiscount(
        amount="300", description="Usage credit", type=DiscountType.Flat
    )
    txn = invoice(
        client, [item("1000"), item("500")], buyer(client, CountryCode.GB), discount=discount
    )

    assert totals(txn) == {"subtotal": "1500", "discount": "300", "tax": "240", "total": "1440"}
    assert [li.totals.discount for li in txn.details.lineItems] == ["200", "100"]
    assert txn.discount_id.startswith("dsc_")


def test_a_discount_never_takes_the_total_below_zero(client):
    discount = TransactionNonCatalogDiscount(amount="5000", description="x", type=DiscountType.Flat)
    txn = invoice(client, [item("1000")], discount=discount)

    assert totals(txn) == {"subtotal": "1000", "discount": "1000", "tax": "0", "total": "0"}


def test_a_patch_replaces_or_removes_the_discount(client):
    txn = invoice(
        client,
        [item("1000")],
        discount=TransactionNonCatalogDiscount(
            amount="10", description="x", type=DiscountType.Flat
        ),
    )
    changed = client.transactions.update(
        txn.id,
        UpdateTransaction(
            discount=TransactionNonCatalogDiscount(
                amount="25", description="y", type=DiscountType.Percentage
            )
        ),
    )
    removed = client.transactions.update(txn.id, UpdateTransaction(discount=None))

    assert totals(changed)["discount"] == "250"
    assert totals(removed)["discount"] == "0" and removed.discount_id is None


@pytest.mark.parametrize(
    ("discount", "currency", "field"),
    [
        ({"type": "flat", "amount": "12.5", "description": "x"}, True, "discount.amount"),
        ({"type": "flat", "amount": "-1", "description": "x"}, True, "discount.amount"),
        ({"type": "flat", "amount": "100", "description": "x"}, False, "currency_code"),
        ({"type": "percentage", "amount": "101", "description": "x"}, True, "discount.amount"),
        ({"type": "flat", "amount": "100", "description": ""}, True, "discount.description"),
    ],
)
def test_invalid_discounts_are_refused_naming_the_field(paddle_standin, discount, currency, field):
    body = {
        "items": [
            {
                "quantity": 1,
                "price": {
                    "description": "xx",
                    "unit_price": {"amount": "1000", "currency_code": "EUR"},
                    "product": {"name": "P", "tax_category": "standard"},
                },
            }
        ],
        "discount": discount,
        **({"currency_code": "EUR"} if currency else {}),
    }
    response = requests.post(
        paddle_standin.url + "/transactions",
        json=body,
        headers={"Authorization": f"Bearer {make_api_key('sandbox')}"},
        timeout=10,
    )

    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["error"]["errors"]]


def test_a_tax_category_paddle_has_not_approved_is_refused(client, paddle_standin):
    with pytest.raises(ApiError) as caught:
        invoice(client, [item(category=TaxCategory.Saas)])
    assert caught.value.error_code == "product_tax_category_not_approved"

    paddle_standin.configure(approved_tax_categories=["saas"])
    txn = invoice(client, [item(category=TaxCategory.Saas)])
    assert txn.details.lineItems[0].product.tax_category == TaxCategory.Saas


def test_an_item_may_name_a_catalog_product_and_gets_its_tax_category(client, paddle_standin):
    paddle_standin.configure(approved_tax_categories=["saas"])
    product = paddle_standin.add_product("Platform", tax_category="saas")

    txn = invoice(client, [item(product_id=product["id"])])

    assert txn.items[0].price.product_id == product["id"]
    assert txn.details.lineItems[0].product.tax_category == TaxCategory.Saas
    with pytest.raises(ApiError) as caught:
        invoice(client, [item(product_id="pro_01hv8wptq8987qeep44cyrewp9")])
    assert caught.value.error_code == "transaction_product_not_found"


def test_catalog_products_also_need_an_approved_category(paddle_standin):
    with pytest.raises(Exception, match="product_tax_category_not_approved"):
        paddle_standin.add_product("Platform", tax_category="saas")


def test_businesses_are_created_listed_updated_and_archived(client, paddle_standin):
    customer_id, _, business_id = buyer(client, CountryCode.DE, vat="DE1")

    updated = client.businesses.update(
        customer_id, business_id, UpdateBusiness(tax_identifier="DE2", company_number="HRB 1")
    )
    client.businesses.archive(customer_id, business_id)

    assert (updated.tax_identifier, updated.company_number) == ("DE2", "HRB 1")
    assert list(client.businesses.list(customer_id)) == []
    archived = client.businesses.list(customer_id, ListBusinesses(statuses=[Status.Archived]))
    assert [b.id for b in archived] == [business_id]
    assert client.businesses.get(customer_id, business_id).status == Status.Archived


def test_a_business_of_another_customer_is_refused(client):
    _, _, business_id = buyer(client, CountryCode.DE, vat="DE1")
    customer_id, address_id, _ = buyer(client, CountryCode.FR)

    with pytest.raises(ApiError) as caught:
        invoice(client, [item()], (customer_id, address_id, business_id))

    assert caught.value.field_errors[0].field == "business_id"


def test_business_and_priced_transaction_responses_match_paddles_schema(client, paddle_standin):
    customer_id, address_id, business_id = buyer(client, CountryCode.DE, vat="DE1")
    discount = TransactionNonCatalogDiscount(amount="99", description="x", type=DiscountType.Flat)
    txn = invoice(client, [item("999")], (customer_id, address_id, business_id), discount)
    headers = {"Authorization": f"Bearer {make_api_key('sandbox')}"}
    for path in (
        f"/customers/{customer_id}/businesses",
        f"/customers/{customer_id}/businesses/{business_id}",
        f"/transactions/{txn.id}",
    ):
        response = requests.get(paddle_standin.url + path, headers=headers, timeout=10)
        problems = spec.response_errors(
            "GET", path, {}, response.status_code, response.content, dict(response.headers)
        )
        assert problems == []

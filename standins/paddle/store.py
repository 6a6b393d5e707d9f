"""The stand-in's state (customers, addresses, transactions) and Paddle's rules about them.

Entities are kept as the JSON dicts Paddle would return, so the HTTP layer only serialises them
and the state dump shows exactly what a client saw. Every public method takes the store's lock:
the server is threaded and a benchmark sends concurrent writes.

Error codes come from Paddle's error reference; the few it does not cover are marked
"unverified" where they are raised.
"""

from __future__ import annotations

import copy
import re
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from . import errors, tax
from .businesses import BusinessesMixin
from .ids import new_id

MANUAL_CURRENCIES = ("USD", "EUR", "GBP")
# Paddle's defaults for a non-catalog price that sends no `quantity` range.
DEFAULT_QUANTITY = {"minimum": 1, "maximum": 100}
# Statuses Paddle lets a client PATCH a transaction in; anything else is immutable.
MUTABLE_STATUSES = ("draft", "ready")
# Minor-unit digits of the currencies in the spec's currency_code enum (GET /currencies).
CURRENCY_DECIMALS = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "HKD": 2,
    "SGD": 2,
    "SEK": 2,
    "ARS": 2,
    "BRL": 2,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DKK": 2,
    "HUF": 2,
    "ILS": 2,
    "INR": 2,
    "KRW": 0,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "RUB": 2,
    "THB": 2,
    "TRY": 2,
    "TWD": 2,
    "UAH": 2,
    "VND": 0,
    "ZAR": 2,
}
# An address's own text, which a PATCH may change and a list's `search` looks in.
ADDRESS_TEXT_FIELDS = (
    "description",
    "first_line",
    "second_line",
    "city",
    "postal_code",
    "region",
    "country_code",
)
_INTEGER = re.compile(r"^-?\d+$")


def now() -> str:
    """Paddle's timestamp format: RFC 3339, microseconds, `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    """A filter timestamp as Paddle accepts it (with or without zone; naive means UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Store(BusinessesMixin):
    stamp = staticmethod(now)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.customers: dict[str, dict[str, Any]] = {}
            self.addresses: dict[str, dict[str, Any]] = {}
            self.transactions: dict[str, dict[str, Any]] = {}
            self.businesses: dict[str, dict[str, Any]] = {}
            # The catalog: products made in Paddle's dashboard, which an item may name by id.
            self.products: dict[str, dict[str, Any]] = {}
            self.discounts: dict[str, dict[str, Any]] = {}
            self._invoice_seq = 10000

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "customers": list(self.customers.values()),
                    "addresses": list(self.addresses.values()),
                    "businesses": list(self.businesses.values()),
                    "products": list(self.products.values()),
                    "discounts": list(self.discounts.values()),
                    "transactions": list(self.transactions.values()),
                }
            )

    # --- customers ------------------------------------------------------------------------------

    def create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            email = body["email"]
            # Paddle treats e-mail addresses case-insensitively when checking for duplicates.
            for existing in self.customers.values():
                if existing["email"].casefold() == email.casefold():
                    raise errors.customer_already_exists(existing["id"])
            stamp = now()
            customer = {
                "id": new_id("ctm"),
                "status": "active",
                "custom_data": body.get("custom_data"),
                "name": body.get("name"),
                "email": email,
                "marketing_consent": False,
                "locale": body.get("locale") or "en",
                "created_at": stamp,
                "updated_at": stamp,
                "import_meta": None,
            }
            self.customers[customer["id"]] = customer
            return copy.deepcopy(customer)

    def get_customer(self, customer_id: str) -> dict[str, Any]:
        with self.lock:
            if customer_id not in self.customers:
                raise errors.not_found(customer_id)
            return copy.deepcopy(self.customers[customer_id])

    def update_customer(self, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH /customers/{id}: the fields sent replace those held; `status` archives or
        reactivates."""
        with self.lock:
            customer = self._customer(customer_id)
            email = body.get("email")
            if email is not None:
                for existing in self.customers.values():
                    same = existing["email"].casefold() == email.casefold()
                    if same and existing is not customer:
                        raise errors.customer_already_exists(existing["id"])
            for key in ("name", "email", "status", "custom_data", "locale"):
                if key in body:
                    customer[key] = body[key]
            customer["updated_at"] = now()
            return copy.deepcopy(customer)

    def _customer(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise errors.not_found(customer_id)
        return self.customers[customer_id]

    def list_customers(self, query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with self.lock:
            rows = list(self.customers.values())
            ids = query.csv("id")
            emails = {e.casefold() for e in query.csv("email")}
            statuses = query.csv("status") or ["active"]
            search = (query.get("search") or "").casefold()
            rows = [
                c
                for c in rows
                if (not ids or c["id"] in ids)
                and (not emails or c["email"].casefold() in emails)
                and c["status"] in statuses
                and (
                    not search
                    or any(search in (c.get(f) or "").casefold() for f in ("id", "name", "email"))
                )
            ]
            return query.paginate(
                rows, default_per_page=50, max_per_page=200, lookup=self.customers
            )

    # --- addresses ------------------------------------------------------------------------------

    def create_address(self, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if customer_id not in self.customers:
                raise errors.not_found(customer_id)
            stamp = now()
            address = {
                "id": new_id("add"),
                "customer_id": customer_id,
                "description": body.get("description"),
                "first_line": body.get("first_line"),
                "second_line": body.get("second_line"),
                "city": body.get("city"),
                "postal_code": body.get("postal_code"),
                "region": body.get("region"),
                "country_code": body["country_code"],
                "custom_data": body.get("custom_data"),
                "status": "active",
                "created_at": stamp,
                "updated_at": stamp,
                "import_meta": None,
            }
            self.addresses[address["id"]] = address
            return copy.deepcopy(address)

    def get_address(self, customer_id: str, address_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._address(customer_id, address_id))

    def update_address(
        self, customer_id: str, address_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PATCH /customers/{id}/addresses/{id}: the fields sent replace those held; `status`
        archives or reactivates."""
        with self.lock:
            address = self._address(customer_id, address_id)
            for key in (*ADDRESS_TEXT_FIELDS, "custom_data", "status"):
                if key in body:
                    address[key] = body[key]
            address["updated_at"] = now()
            return copy.deepcopy(address)

    def _address(self, customer_id: str, address_id: str) -> dict[str, Any]:
        self._customer(customer_id)
        address = self.addresses.get(address_id)
        if address is None or address["customer_id"] != customer_id:
            raise errors.not_found(address_id)
        return address

    def list_addresses(
        self, customer_id: str, query: ListQuery
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return self.list_of_customer(
            self.addresses, customer_id, query, searched=(*ADDRESS_TEXT_FIELDS, "id")
        )

    def list_of_customer(
        self, collection: dict, customer_id: str, query: ListQuery, *, searched: tuple[str, ...]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """GET /customers/{id}/addresses or /businesses: Paddle filters both by id, status
        (active by default) and a search over `searched`, 50 a page by default, 200 at most."""
        with self.lock:
            if customer_id not in self.customers:
                raise errors.not_found(customer_id)
            ids = query.csv("id")
            statuses = query.csv("status") or ["active"]
            search = (query.get("search") or "").casefold()
            rows = [
                row
                for row in collection.values()
                if row["customer_id"] == customer_id
                and (not ids or row["id"] in ids)
                and row["status"] in statuses
                and (not search or any(search in (row.get(f) or "").casefold() for f in searched))
            ]
            return query.paginate(rows, default_per_page=50, max_per_page=200, lookup=collection)

    # --- catalog --------------------------------------------------------------------------------

    def create_product(self, *, name: str, tax_category: str, pricing: tax.Pricing) -> dict:
        """A product as made in Paddle's dashboard (the stand-in serves no /products API)."""
        with self.lock:
            pricing.check_tax_category(tax_category)
            stamp = now()
            product = {
                "id": new_id("pro"),
                "name": name,
                "description": None,
                "type": "standard",
                "tax_category": tax_category,
                "image_url": None,
                "custom_data": None,
                "status": "active",
                "import_meta": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.products[product["id"]] = product
            return copy.deepcopy(product)

    # --- transactions ---------------------------------------------------------------------------

    def create_transaction(
        self,
        body: dict[str, Any],
        *,
        refuse_billed: bool,
        pricing: tax.Pricing,
        default_payment_link: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            # Paddle makes no transaction, invoices included, until the account has a default
            # payment link, unless the request brings its own checkout URL.
            if not default_payment_link and not (body.get("checkout") or {}).get("url"):
                raise errors.transaction_default_checkout_url_not_set()
            requested_status = body.get("status")
            if requested_status in ("paid", "completed", "past_due"):
                raise errors.transaction_invalid_status_change("draft", requested_status)
            if requested_status == "billed" and refuse_billed:
                raise _refused_billed()
            stamp = now()
            txn: dict[str, Any] = {
                "id": new_id("txn"),
                "status": "draft",
                "customer_id": body.get("customer_id"),
                "address_id": body.get("address_id"),
                "business_id": body.get("business_id"),
                "custom_data": body.get("custom_data"),
                "origin": "api",
                "collection_mode": body.get("collection_mode") or "automatic",
                "subscription_id": None,
                "invoice_id": None,
                "invoice_number": None,
                "billing_details": _billing_details(body.get("billing_details"), None),
                "billing_period": body.get("billing_period"),
                # Without currency_code Paddle takes the currency of the prices on the items.
                "currency_code": body.get("currency_code") or _items_currency(body["items"]),
                "discount_id": None,
                "created_at": stamp,
                "updated_at": stamp,
                "billed_at": None,
                "revised_at": None,
                "items": [],
                "details": {},
                "payments": [],
                "checkout": {"url": (body.get("checkout") or {}).get("url")},
            }
            self._check_transaction(txn, body)
            txn["items"], line_items = self._build_items(
                body["items"], txn["currency_code"], stamp, pricing
            )
            txn["details"] = {"line_items": line_items}
            self._set_discount(txn, body.get("discount"), stamp)
            self._price(txn, pricing)
            txn["status"] = _computed_status(txn)
            if requested_status == "billed":
                self._bill(txn)
            elif requested_status == "canceled":
                txn["status"] = "canceled"
            self.transactions[txn["id"]] = txn
            return copy.deepcopy(txn)

    def preview_transaction(self, body: dict[str, Any], *, pricing: tax.Pricing) -> dict[str, Any]:
        """POST /transactions/preview: the totals a transaction with these items would have,
        computed as create_transaction computes them; nothing is stored."""
        with self.lock:
            _, address = self._customer_and_address(body.get("customer_id"), body.get("address_id"))
            currency = body.get("currency_code") or _items_currency(body["items"])
            self._check_item_currencies(body["items"], currency)
            items, line_items = self._build_items(body["items"], currency, now(), pricing)
            priced: dict[str, Any] = {
                "items": items,
                "details": {"line_items": line_items},
                "address_id": body.get("address_id"),
                "business_id": body.get("business_id"),
                "discount_id": body.get("discount_id"),
                "currency_code": currency,
            }
            self._price(priced, pricing)
            location = body.get("address") or (
                {"country_code": address["country_code"], "postal_code": address["postal_code"]}
                if address
                else None
            )
            return {
                "customer_id": body.get("customer_id"),
                "address_id": body.get("address_id"),
                "business_id": body.get("business_id"),
                "currency_code": currency,
                "discount_id": body.get("discount_id"),
                "customer_ip_address": body.get("customer_ip_address"),
                "address": location,
                "ignore_trials": bool(body.get("ignore_trials")),
                "items": [{**item, "include_in_totals": True} for item in items],
                "details": priced["details"],
                "available_payment_methods": [],
            }

    def _customer_and_address(
        self, customer_id: str | None, address_id: str | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The customer and address a transaction names, both usable, the address the
        customer's."""
        customer = self._usable(self.customers, customer_id, "customer_id")
        if address_id is None:
            return customer, None
        if customer is None:
            raise errors.PaddleError(
                400,
                "transaction_customer_is_required_with_address",
                "customer_id is required for validating an address",
                group="transactions",
            )
        address = self._usable(self.addresses, address_id, "address_id")
        if address["customer_id"] != customer["id"]:
            # Unverified wording and code: Paddle documents no code for this case.
            raise errors.invalid_field(
                [
                    {
                        "field": "address_id",
                        "message": f"address {address['id']} does not belong to "
                        f"customer {customer['id']}",
                    }
                ]
            )
        return customer, address

    def _usable(self, table: dict, entity_id: str | None, field: str) -> dict[str, Any] | None:
        """The entity `field` names, refused when unknown or archived."""
        if entity_id is None:
            return None
        entity = table.get(entity_id)
        if entity is None:
            # Unverified: Paddle's reference has no transaction-specific code for this.
            raise errors.not_found(entity_id)
        if entity["status"] != "active":
            raise errors.archived_entity(field, entity_id)
        return entity

    def get_transaction(self, transaction_id: str) -> dict[str, Any]:
        with self.lock:
            if transaction_id not in self.transactions:
                raise errors.not_found(transaction_id)
            return copy.deepcopy(self.transactions[transaction_id])

    def update_transaction(
        self,
        transaction_id: str,
        body: dict[str, Any],
        *,
        refuse_billed: bool,
        pricing: tax.Pricing,
    ) -> dict[str, Any]:
        with self.lock:
            if transaction_id not in self.transactions:
                raise errors.not_found(transaction_id)
            current = self.transactions[transaction_id]
            requested_status = body.get("status")
            others = {k for k in body if k != "status"}
            if requested_status == "canceled":
                if others:
                    raise errors.PaddleError(
                        400,
                        "transaction_cannot_be_modified_and_canceled",
                        "Transaction cannot be modified and canceled in the same request",
                        group="transactions",
                    )
                # Paddle cancels draft, ready and billed transactions (voiding an invoice).
                if current["status"] not in ("draft", "ready", "billed"):
                    raise errors.transaction_invalid_status_change(current["status"], "canceled")
                current["status"] = "canceled"
                current["updated_at"] = now()
                return copy.deepcopy(current)
            if current["status"] not in MUTABLE_STATUSES:
                raise errors.transaction_immutable()
            if requested_status in ("draft", "ready", "paid", "completed", "past_due"):
                raise errors.transaction_invalid_status_change(current["status"], requested_status)
            if requested_status == "billed" and refuse_billed:
                raise _refused_billed()

            txn = copy.deepcopy(current)
            for key in (
                "customer_id",
                "address_id",
                "custom_data",
                "currency_code",
                "collection_mode",
                "billing_period",
                "business_id",
            ):
                if key in body:
                    txn[key] = body[key]
            if "billing_details" in body:
                txn["billing_details"] = _billing_details(
                    body["billing_details"], current["billing_details"]
                )
            if "checkout" in body:
                txn["checkout"] = {"url": (body.get("checkout") or {}).get("url")}
            if txn["currency_code"] is None:
                txn["currency_code"] = current["currency_code"]
            stamp = now()
            self._check_transaction(txn, body)
            if "items" in body:
                # Paddle replaces the whole list: items not sent are removed.
                txn["items"], line_items = self._build_items(
                    body["items"], txn["currency_code"], stamp, pricing
                )
                txn["details"] = {"line_items": line_items}
            elif "currency_code" in body and body["currency_code"] != current["currency_code"]:
                # Existing prices must still match the (new) transaction currency.
                raw = [{"quantity": i["quantity"], "price": i["price"]} for i in txn["items"]]
                self._check_item_currencies(raw, txn["currency_code"])
            if "discount" in body:
                self._set_discount(txn, body["discount"], stamp)
            # Address, business, items or discount may have changed: Paddle prices afresh.
            self._price(txn, pricing)
            txn["status"] = _computed_status(txn)
            txn["updated_at"] = stamp
            if requested_status == "billed":
                self._bill(txn)
            self.transactions[transaction_id] = txn
            return copy.deepcopy(txn)

    def list_transactions(self, query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with self.lock:
            ids = query.csv("id")
            statuses = query.csv("status")
            customer_ids = query.csv("customer_id")
            invoice_numbers = query.csv("invoice_number")
            subscription_ids = query.csv("subscription_id")
            origins = query.csv("origin")
            collection_mode = query.get("collection_mode")
            time_filters = query.time_filters(("created_at", "updated_at", "billed_at"))
            rows = []
            for t in self.transactions.values():
                if ids and t["id"] not in ids:
                    continue
                if statuses and t["status"] not in statuses:
                    continue
                if customer_ids and t["customer_id"] not in customer_ids:
                    continue
                if invoice_numbers and t["invoice_number"] not in invoice_numbers:
                    continue
                if subscription_ids and t["subscription_id"] not in subscription_ids:
                    continue
                if origins and t["origin"] not in origins:
                    continue
                if collection_mode and t["collection_mode"] != collection_mode:
                    continue
                if not all(check(t) for check in time_filters):
                    continue
                rows.append(t)
            return query.paginate(
                rows,
                default_per_page=30,
                max_per_page=30,
                lookup=self.transactions,
                order_fields=("id", "created_at", "updated_at", "billed_at"),
            )

    def mark_transaction(self, transaction_id: str, status: str) -> dict[str, Any]:
        """What Paddle does out of band: the invoice is issued, paid, completed or voided."""
        with self.lock:
            if transaction_id not in self.transactions:
                raise errors.not_found(transaction_id)
            txn = self.transactions[transaction_id]
            if status == "billed":
                self._bill(txn, force=True)
            else:
                if status in ("paid", "completed", "past_due") and not txn["billed_at"]:
                    # Only an issued invoice is paid or overdue: it gets its number first.
                    self._bill(txn, force=True)
                txn["status"] = status
            txn["updated_at"] = now()
            return copy.deepcopy(txn)

    def includes(self, txn: dict[str, Any], include: list[str]) -> dict[str, Any]:
        """Add `customer` / `address` when asked for with `include=` (other includes ignored)."""
        with self.lock:
            if "customer" in include and txn.get("customer_id") in self.customers:
                txn["customer"] = copy.deepcopy(self.customers[txn["customer_id"]])
            if "address" in include and txn.get("address_id") in self.addresses:
                txn["address"] = copy.deepcopy(self.addresses[txn["address_id"]])
            return txn

    # --- transaction rules ----------------------------------------------------------------------

    def _check_transaction(self, txn: dict[str, Any], body: dict[str, Any]) -> None:
        """Paddle's cross-field rules, on the transaction as it would be after this request."""
        manual = txn["collection_mode"] == "manual"
        if manual and not txn["billing_details"]:
            raise errors.transaction_billing_details_object_required()
        if not manual and txn["billing_details"]:
            raise errors.PaddleError(
                400,
                "transaction_billing_details_must_be_null",
                "billing_details must be null if collection_mode=automatic",
                group="transactions",
            )
        if manual and not txn["billing_details"].get("payment_terms"):
            raise errors.PaddleError(
                400,
                "transaction_payment_terms_object_required",
                "payment_terms must be non null when setting billing_details",
                group="transactions",
            )
        if manual and txn["currency_code"] not in MANUAL_CURRENCIES:
            raise errors.transaction_currency_code_not_valid_for_manual(txn["currency_code"])

        period = txn.get("billing_period") or {}
        if period.get("starts_at") and parse_time(period["starts_at"]) > datetime.now(UTC):
            raise errors.transaction_billing_period_starts_at_greater_than_now()

        customer, address = self._customer_and_address(txn["customer_id"], txn["address_id"])
        if (
            address is not None
            and manual
            and not all(address.get(f) for f in ("first_line", "city", "postal_code", "region"))
        ):
            # Paddle: a manual transaction's address needs country, postal_code, region,
            # city and first_line.
            raise errors.transaction_address_not_suitable_for_collection_mode()
        if manual and customer is not None and not customer.get("name"):
            raise errors.transaction_customer_not_suitable_for_collection_mode()
        if txn["business_id"] is not None:
            business = self.businesses.get(txn["business_id"])
            if business is None:
                raise errors.not_found(txn["business_id"])
            if customer is None or business["customer_id"] != customer["id"]:
                # Unverified wording and code, as for an address of another customer.
                raise errors.invalid_field(
                    [
                        {
                            "field": "business_id",
                            "message": f"business {business['id']} does not belong to "
                            f"customer {txn['customer_id']}",
                        }
                    ]
                )
        if "discount" in body and body["discount"] is not None:
            known = "currency_code" in body or txn["id"] in self.transactions
            tax.check_discount(body["discount"], has_currency=known)
        if "items" in body:
            self._check_item_currencies(body["items"], txn["currency_code"])

    def _check_item_currencies(self, items: list[dict[str, Any]], currency: str) -> None:
        field_errors = []
        for i, item in enumerate(items):
            price = item.get("price") or {}
            price_currency = (price.get("unit_price") or {}).get("currency_code")
            # Stricter than Paddle may be (it can convert): a mismatch here is a product bug.
            if price_currency and price_currency != currency:
                field_errors.append(
                    {
                        "field": f"items[{i}].price.unit_price.currency_code",
                        "message": f"must match the transaction currency_code {currency}, "
                        f"got {price_currency}",
                    }
                )
        if field_errors:
            raise errors.invalid_field(field_errors)

    def _build_items(
        self, raw_items: list[dict[str, Any]], currency: str, stamp: str, pricing: tax.Pricing
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        items, line_items, field_errors = [], [], []
        for i, raw in enumerate(raw_items):
            if "price_id" in raw and "price" in raw:
                raise errors.PaddleError(
                    400,
                    "transaction_both_price_id_and_object_found",
                    "Cannot send both price_id and price object in the same line item",
                    group="transactions",
                )
            if "price_id" in raw:
                # The stand-in has no catalog; the product only sends non-catalog prices.
                raise errors.PaddleError(
                    404,
                    "transaction_price_not_found",
                    f"Price ID {raw['price_id']} cannot be found",
                    group="transactions",
                )
            price_in = raw["price"]
            if "product_id" in price_in and price_in["product_id"] not in self.products:
                raise errors.PaddleError(
                    404,
                    "transaction_product_not_found",
                    f"Product ID {price_in['product_id']} cannot be found",
                    group="transactions",
                )
            amount = price_in["unit_price"]["amount"]
            if not _INTEGER.match(amount):
                field_errors.append(
                    {
                        "field": f"items[{i}].price.unit_price.amount",
                        "message": "must be a valid integer amount in the lowest denomination "
                        "of the currency",
                    }
                )
                continue
            if int(amount) < 0:
                field_errors.append(
                    {
                        "field": f"items[{i}].price.unit_price.amount",
                        "message": "must be greater than or equal to 0",
                    }
                )
                continue
            limits = price_in.get("quantity") or DEFAULT_QUANTITY
            if limits["minimum"] > limits["maximum"]:
                field_errors.append(
                    {
                        "field": f"items[{i}].price.quantity.maximum",
                        "message": "must be greater than or equal to minimum",
                    }
                )
                continue
            quantity = raw["quantity"]
            price_id = new_id("pri")
            if not limits["minimum"] <= quantity <= limits["maximum"]:
                raise errors.PaddleError(
                    400,
                    "transaction_item_quantity_out_of_range",
                    f"quantity for {price_id} must be between {limits['minimum']} and "
                    f"{limits['maximum']}",
                    group="transactions",
                )
            if "product_id" in price_in:
                # A catalog product carries the tax category approved when it was made.
                product = copy.deepcopy(self.products[price_in["product_id"]])
            else:
                product_in = price_in["product"]
                pricing.check_tax_category(product_in["tax_category"])
                product = {
                    "id": new_id("pro"),
                    "name": product_in["name"],
                    "description": product_in.get("description"),
                    "type": "custom",
                    "tax_category": product_in["tax_category"],
                    "image_url": product_in.get("image_url") or None,
                    "custom_data": product_in.get("custom_data"),
                    "status": "active",
                    "import_meta": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            price = {
                "id": price_id,
                "product_id": product["id"],
                "type": "custom",
                "description": price_in["description"],
                "name": price_in.get("name"),
                "billing_cycle": price_in.get("billing_cycle"),
                "trial_period": price_in.get("trial_period"),
                "tax_mode": price_in.get("tax_mode") or "account_setting",
                "unit_price": dict(price_in["unit_price"]),
                "unit_price_overrides": price_in.get("unit_price_overrides") or [],
                "quantity": dict(limits),
                "status": "active",
                "custom_data": price_in.get("custom_data"),
                "import_meta": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
            items.append({"price": price, "quantity": quantity, "proration": None})
            # Totals are filled in by _price, which knows the address and the discount.
            line_items.append(
                {
                    "id": new_id("txnitm"),
                    "price_id": price_id,
                    "quantity": quantity,
                    "proration": None,
                    "product": product,
                }
            )
        if field_errors:
            raise errors.invalid_field(field_errors)
        return items, line_items

    def _set_discount(self, txn: dict[str, Any], discount: dict[str, Any] | None, stamp: str):
        """A non-catalog discount becomes a custom discount entity the transaction points at."""
        if discount is None:
            txn["discount_id"] = None
            return
        entity = {
            "id": new_id("dsc"),
            "status": "active",
            "description": discount["description"],
            "enabled_for_checkout": False,
            "code": None,
            "type": discount["type"],
            "mode": "custom",
            "amount": discount["amount"],
            "currency_code": txn["currency_code"] if discount["type"] != "percentage" else None,
            "recur": bool(discount.get("recur", False)),
            "maximum_recurring_intervals": discount.get("maximum_recurring_intervals"),
            "usage_limit": None,
            "restrict_to": discount.get("restrict_to"),
            "expires_at": None,
            "times_used": 0,
            "custom_data": discount.get("custom_data"),
            "import_meta": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.discounts[entity["id"]] = entity
        txn["discount_id"] = entity["id"]

    def _price(self, txn: dict[str, Any], pricing: tax.Pricing) -> None:
        """Paddle's totals for the transaction as it now stands (address, business, discount)."""
        prices = {item["price"]["id"]: item["price"] for item in txn["items"]}
        line_items = txn["details"]["line_items"]
        for line in line_items:
            price = prices[line["price_id"]]
            line["amount"] = int(price["unit_price"]["amount"])
            line["tax_mode"] = price["tax_mode"]
        rate = tax.tax_rate(
            address=self.addresses.get(txn["address_id"] or ""),
            business=self.businesses.get(txn["business_id"] or ""),
            rates=pricing.tax_rates,
        )
        tax.price_lines(
            line_items,
            rate=rate,
            account_tax_mode=pricing.account_tax_mode,
            discount=self.discounts.get(txn["discount_id"] or ""),
        )
        for line in line_items:
            del line["amount"], line["tax_mode"]
        txn["details"] = tax.details(txn["currency_code"], line_items)

    def _bill(self, txn: dict[str, Any], force: bool = False) -> None:
        if not force and txn["status"] not in ("ready", "billed"):
            raise errors.transaction_invalid_status_change(txn["status"], "billed")
        stamp = now()
        txn["status"] = "billed"
        txn["billed_at"] = txn["billed_at"] or stamp
        txn["updated_at"] = stamp
        if txn["collection_mode"] == "manual" and not txn["invoice_number"]:
            self._invoice_seq += 1
            txn["invoice_number"] = f"325-{self._invoice_seq}"
            txn["invoice_id"] = new_id("inv")


def _refused_billed() -> errors.PaddleError:
    # A deliberate deviation (see PaddleStandin.refuse_billed): Paddle would issue the invoice
    # and e-mail the customer, which the product must never do.
    return errors.invalid_field(
        [
            {
                "field": "status",
                "message": "stand-in refuses status=billed: Paddle would issue this invoice and "
                "e-mail the customer (PaddleStandin(refuse_billed=False) allows it)",
            }
        ]
    )


def _billing_details(new: dict[str, Any] | None, old: dict[str, Any] | None) -> Any:
    """billing_details as stored; on PATCH the fields sent replace those held."""
    if new is None:
        return None
    merged: dict[str, Any] = {"enable_checkout": False, "additional_information": None}
    merged.update(old or {})
    merged.update(new)
    # The spec types purchase_order_number as a non-null string: absent rather than null.
    if merged.get("purchase_order_number") is None:
        merged.pop("purchase_order_number", None)
    return merged


def _items_currency(items: list[dict[str, Any]]) -> str:
    for item in items:
        currency = ((item.get("price") or {}).get("unit_price") or {}).get("currency_code")
        if currency:
            return currency
    return "USD"


def _computed_status(txn: dict[str, Any]) -> str:
    """Paddle sets `ready` once everything needed to bill is present, otherwise `draft`."""
    if txn["status"] not in MUTABLE_STATUSES:
        return txn["status"]
    ready = bool(txn["items"]) and txn["customer_id"] and txn["address_id"]
    if txn["collection_mode"] == "manual":
        ready = ready and bool(txn["billing_details"])
    return "ready" if ready else "draft"


class ListQuery:
    """Query parameters of a list request, and Paddle's cursor pagination over them."""

    def __init__(self, args: dict[str, str], base_url: str) -> None:
        self.args = args
        self.base_url = base_url  # scheme://host/path, for meta.pagination.next

    def get(self, name: str) -> str | None:
        return self.args.get(name)

    def csv(self, name: str) -> list[str]:
        value = self.args.get(name)
        return [v for v in value.split(",") if v] if value else []

    def time_filters(self, fields: tuple[str, ...]):
        """Checks for `created_at=…`, `created_at[LT]=…` and friends."""
        ops = {
            "": lambda a, b: a == b,
            "[LT]": lambda a, b: a < b,
            "[LTE]": lambda a, b: a <= b,
            "[GT]": lambda a, b: a > b,
            "[GTE]": lambda a, b: a >= b,
        }
        checks = []
        for name in fields:
            for suffix, op in ops.items():
                raw = self.args.get(name + suffix)
                if raw is None:
                    continue
                try:
                    bound = parse_time(raw)
                except ValueError:
                    raise errors.PaddleError(
                        400,
                        "invalid_time_query_parameter",
                        f"Unable to parse time query parameter {name}{suffix}: {raw}",
                    ) from None

                def check(t, name=name, op=op, bound=bound):
                    return t.get(name) is not None and op(parse_time(t[name]), bound)

                checks.append(check)
        return checks

    def paginate(
        self,
        rows: list[dict[str, Any]],
        *,
        default_per_page: int,
        max_per_page: int,
        lookup: dict[str, dict[str, Any]],
        order_fields: tuple[str, ...] = ("id",),
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        try:
            per_page = int(self.args.get("per_page") or default_per_page)
        except ValueError:
            raise errors.invalid_field(
                [{"field": "per_page", "message": "must be a valid integer"}]
            ) from None
        if per_page < 1:
            raise errors.invalid_field(
                [{"field": "per_page", "message": "must be greater than or equal to 1"}]
            )
        # Paddle caps, rather than refuses, a per_page above the maximum (the SDK's Pager
        # sends 50 by default, more than transactions allow).
        per_page = min(per_page, max_per_page)

        order_by = self.args.get("order_by") or "id[DESC]"
        # Case-insensitive: the SDK's OrderBy sends `id[asc]`, and Paddle accepts it.
        match = re.fullmatch(r"(\w+)\[(ASC|DESC)\]", order_by, flags=re.IGNORECASE)
        if not match or match.group(1) not in order_fields:
            raise errors.invalid_field(
                [
                    {
                        "field": "order_by",
                        "message": "must be one of "
                        + ", ".join(f"{f}[ASC], {f}[DESC]" for f in order_fields),
                    }
                ]
            )
        field, descending = match.group(1), match.group(2).upper() == "DESC"

        def key(row):
            # Ties (and nulls, e.g. billed_at) are broken by id, itself time-ordered.
            value = row.get(field)
            return (value is not None, value or "", row["id"])

        ordered = sorted(rows, key=key, reverse=descending)
        total = len(ordered)
        after = self.args.get("after")
        if after:
            anchor = lookup.get(after)
            anchor_key = key(anchor) if anchor else (True, after, after)
            ordered = [
                r for r in ordered if (key(r) < anchor_key if descending else key(r) > anchor_key)
            ]
        page = ordered[:per_page]
        has_more = len(ordered) > per_page
        # `next` is always sent, even on the last page: the same query with `after` set to the
        # page's last id (kept as it was when the page is empty).
        next_args = {**self.args, "per_page": str(per_page), "order_by": order_by}
        if page:
            next_args["after"] = page[-1]["id"]
        pagination = {
            "per_page": per_page,
            "next": f"{self.base_url}?{urlencode(next_args)}",
            "has_more": has_more,
            "estimated_total": total,
        }
        return [copy.deepcopy(r) for r in page], pagination

"""Businesses (B2B buyers) under a customer: POST/GET/PATCH /customers/{id}/businesses.

A mixin of the Store: it uses the store's lock, customers, businesses, its list of a customer's
records (`list_of_customer`) and `stamp()` (Paddle's timestamp format).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import errors
from .ids import new_id

if TYPE_CHECKING:
    from .store import ListQuery


class BusinessesMixin:
    def create_business(self, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if customer_id not in self.customers:
                raise errors.not_found(customer_id)
            stamp = self.stamp()
            business = {
                "id": new_id("biz"),
                "customer_id": customer_id,
                "name": body["name"],
                "company_number": body.get("company_number"),
                "tax_identifier": body.get("tax_identifier"),
                "status": "active",
                "contacts": body.get("contacts") or [],
                "custom_data": body.get("custom_data"),
                "created_at": stamp,
                "updated_at": stamp,
                "import_meta": None,
            }
            self.businesses[business["id"]] = business
            return copy.deepcopy(business)

    def get_business(self, customer_id: str, business_id: str) -> dict[str, Any]:
        with self.lock:
            business = self.businesses.get(business_id)
            if business is None or business["customer_id"] != customer_id:
                raise errors.not_found(business_id)
            return copy.deepcopy(business)

    def update_business(
        self, customer_id: str, business_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        with self.lock:
            self.get_business(customer_id, business_id)
            business = self.businesses[business_id]
            for key in ("name", "company_number", "tax_identifier", "contacts", "custom_data",
                        "status"):  # fmt: skip
                if key in body:
                    business[key] = body[key]
            business["updated_at"] = self.stamp()
            return copy.deepcopy(business)

    def list_businesses(
        self, customer_id: str, query: ListQuery
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return self.list_of_customer(
            self.businesses,
            customer_id,
            query,
            searched=("id", "name", "company_number", "tax_identifier"),
        )

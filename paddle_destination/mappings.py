"""The hub's external mappings to Paddle entities: an account's customer, address and business,
and m3ter products mapped to Paddle catalog products."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import F, Q

from m3terdata.models import ExternalMapping
from m3terdata.services import external_mapping_remember

PADDLE_SYSTEM = "Paddle"
ACCOUNT_ENTITY = "Account"
PRODUCT_ENTITY = "Product"
PRODUCT_TABLE = "Product"
PRODUCT_ID = re.compile(r"pro_[a-z\d]{26}")


def _paddle_mappings(*, entity: str, table: str, integration, include_global: bool):
    """This integration's mappings, then (when asked) those for every integration."""
    scope = Q(integration=integration)
    if include_global:
        scope |= Q(integration__isnull=True)
    return ExternalMapping.objects.filter(
        scope,
        m3ter_entity__iexact=entity,
        external_system__iexact=PADDLE_SYSTEM,
        external_table__iexact=table,
    ).order_by(F("integration_id").asc(nulls_last=True))


def account_mapping(*, account, table: str, integration, include_global: bool):
    """The account's mapping to a Paddle entity (Customer, Address, Business), or None."""
    return (
        _paddle_mappings(
            entity=ACCOUNT_ENTITY,
            table=table,
            integration=integration,
            include_global=include_global,
        )
        .filter(m3ter_id=account.m3ter_id)
        .first()
    )


def account_mapping_remember(*, account, table: str, integration, external_id: str) -> None:
    external_mapping_remember(
        m3ter_entity=ACCOUNT_ENTITY,
        m3ter_id=account.m3ter_id,
        external_system=PADDLE_SYSTEM,
        external_table=table,
        external_id=external_id,
        integration_id=integration.id,
    )


def product_mappings(*, integration, product_ids: Iterable[str]) -> tuple[dict[str, str], list]:
    """m3ter product id → Paddle product id (`pro_…`), this integration's mapping first; and
    the mappings whose external id is not a Paddle product id, which are not used. One query."""
    wanted = {p for p in product_ids if p}
    if not wanted:
        return {}, []
    found: dict[str, str] = {}
    unusable = []
    mappings = _paddle_mappings(
        entity=PRODUCT_ENTITY, table=PRODUCT_TABLE, integration=integration, include_global=True
    ).filter(m3ter_id__in=wanted)
    for mapping in mappings:
        if mapping.m3ter_id in found:
            continue
        if PRODUCT_ID.fullmatch(mapping.external_id):
            found[mapping.m3ter_id] = mapping.external_id
        else:
            unusable.append(mapping)
    return found, unusable

"""The mirror's own writes: bills with many lines, and external mappings (the API and Paddle
deliveries call these)."""

import datetime
import hashlib
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from m3terdata.models import ExternalMapping, LineItem
from m3terdata.services import (
    LINE_ITEM_CHUNK,
    NOT_DELIVERED,
    MirrorVersionConflict,
    bill_content_hash,
    bill_upsert,
    external_mapping_create,
    external_mapping_delete,
    external_mapping_update,
)
from m3terdata.tests.factories import AccountFactory, ExternalMappingFactory

pytestmark = pytest.mark.django_db


def mapping_values(**overrides):
    return {
        "m3ter_entity": "Account",
        "m3ter_id": "acc-1",
        "external_system": "Paddle",
        "external_table": "Customer",
        "external_id": "ctm_1",
        **overrides,
    }


def test_external_mapping_create_starts_at_version_one_whatever_is_sent():
    mapping = external_mapping_create(values=mapping_values(version=7))
    assert mapping.version == 1


def test_external_mapping_create_refuses_a_second_mapping_of_the_same_entity():
    external_mapping_create(values=mapping_values())
    with pytest.raises(ValidationError) as caught:
        external_mapping_create(values=mapping_values(external_id="ctm_2"))
    assert "exists already" in " ".join(caught.value.messages)
    assert ExternalMapping.objects.count() == 1


def test_external_mapping_update_counts_the_version_up():
    mapping = ExternalMappingFactory()
    updated = external_mapping_update(
        mapping=mapping,
        values=mapping_values(m3ter_id=mapping.m3ter_id, external_id="ctm_new"),
        expected_version=1,
    )
    assert (updated.external_id, updated.version) == ("ctm_new", 2)


def test_external_mapping_update_refuses_a_stale_version():
    mapping = ExternalMappingFactory()
    ExternalMapping.objects.filter(pk=mapping.pk).update(version=2)
    with pytest.raises(MirrorVersionConflict) as caught:
        external_mapping_update(mapping=mapping, values=mapping_values(), expected_version=1)
    assert caught.value.current_version == 2


def test_external_mapping_delete_removes_it():
    mapping = ExternalMappingFactory()
    external_mapping_delete(mapping=mapping)
    assert not ExternalMapping.objects.exists()


def lines(count: int) -> list[dict]:
    return [
        {
            "sequence": n,
            "line_item_type": "USAGE",
            "description": f"Meter {n}",
            "quantity": Decimal(n),
            "subtotal": Decimal("1.25"),
            "service_period_start": datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC),
            "plan_id": "plan-1",  # not delivered: not in the digest
        }
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [0, 1, 2 * LINE_ITEM_CHUNK + 1])
def test_the_content_hash_taken_a_chunk_at_a_time_is_the_one_stored_bills_carry(count):
    bill_values = {"currency": "USD", "bill_date": datetime.date(2026, 11, 1)}
    # The digest as it was taken of the whole list, which every stored bill carries.
    content = {
        "bill": {
            key: bill_values.get(key)
            for key in (
                "currency",
                "bill_date",
                "due_date",
                "start_date",
                "end_date",
                "purchase_order_number",
                "account_m3ter_id",
            )
        },
        "lines": [
            {key: item.get(key) for key in sorted(item) if key not in NOT_DELIVERED}
            for item in lines(count)
        ],
    }
    stored = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    assert bill_content_hash(bill_values=bill_values, line_items=lines(count)) == stored


def test_a_bill_of_more_lines_than_a_chunk_keeps_them_all_in_order():
    account = AccountFactory()
    values = {"m3ter_id": "bill-1", "account_m3ter_id": account.m3ter_id, "currency": "USD"}
    count = 2 * LINE_ITEM_CHUNK + 1

    bill, outcome = bill_upsert(values=values, line_items=lines(count))
    again, unchanged = bill_upsert(values=values, line_items=lines(count))

    assert (outcome, unchanged, again.pk) == ("created", "unchanged", bill.pk)
    stored = LineItem.objects.filter(bill=bill).order_by("sequence")
    assert list(stored.values_list("description", flat=True)) == [
        f"Meter {n}" for n in range(count)
    ]

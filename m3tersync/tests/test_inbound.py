import copy
import json
from pathlib import Path

import pytest

from m3terdata.export import _as_m3ter, account_as_m3ter, bill_as_m3ter
from m3terdata.models import Account, Bill, BillStatus, ExternalMapping, LineItem
from m3terdata.parsing import EXTERNAL_MAPPING_FIELDS, M3terRecordError
from m3tersync.services.inbound import ImportStopped, m3ter_import

pytestmark = pytest.mark.django_db

SPEC_EXAMPLES = Path(__file__).parent / "data" / "spec_examples.json"


def spec_payload():
    return json.loads(SPEC_EXAMPLES.read_text())


def external_mapping_as_m3ter(mapping) -> dict:
    return _as_m3ter(mapping, EXTERNAL_MAPPING_FIELDS)


def database_snapshot():
    return (
        [account_as_m3ter(a) for a in Account.objects.order_by("m3ter_id")],
        [bill_as_m3ter(b) for b in Bill.objects.select_related("account").order_by("m3ter_id")],
        [external_mapping_as_m3ter(m) for m in ExternalMapping.objects.order_by("id")],
    )


def without_unmirrored_fields(record, kept):
    return {key: value for key, value in record.items() if key in kept}


def test_import_round_trips_the_spec_examples():
    payload = spec_payload()
    result = m3ter_import(payload=payload)
    assert (result.accounts.created, result.bills.created, result.external_mappings.created) == (
        1,
        1,
        2,
    )

    accounts, bills, mappings = database_snapshot()
    source_account = payload["accounts"][0]
    assert accounts[0] == without_unmirrored_fields(source_account, accounts[0].keys())
    assert set(accounts[0]) >= {"id", "code", "name", "emailAddress", "address", "customFields"}

    source_bill = payload["bills"][0]
    assert without_unmirrored_fields(source_bill, set(bills[0]) - {"lineItems"}) == {
        key: value for key, value in bills[0].items() if key != "lineItems"
    }
    assert [
        without_unmirrored_fields(item, set(exported))
        for item, exported in zip(source_bill["lineItems"], bills[0]["lineItems"], strict=True)
    ] == bills[0]["lineItems"]
    assert {m["externalId"] for m in mappings} == {
        "ctm_01hv6y1jedq4p1n0yqn5ba3ky4",
        "cus_00000000000000",
    }


def test_reimporting_the_same_file_changes_nothing():
    m3ter_import(payload=spec_payload())
    before = database_snapshot()
    line_ids = list(LineItem.objects.values_list("id", flat=True))

    result = m3ter_import(payload=spec_payload())

    assert (
        result.accounts.unchanged,
        result.bills.unchanged,
        result.external_mappings.unchanged,
    ) == (
        1,
        1,
        2,
    )
    assert database_snapshot() == before
    assert list(LineItem.objects.values_list("id", flat=True)) == line_ids


def test_an_invalid_record_leaves_the_database_exactly_as_it_was():
    m3ter_import(payload=spec_payload())
    before = database_snapshot()
    payload = spec_payload()
    payload["accounts"][0]["name"] = "Renamed, but never stored"
    broken_bill = copy.deepcopy(payload["bills"][0])
    broken_bill["id"] = "b-second"
    broken_bill["lineItems"][1]["subtotal"] = "twelve"
    payload["bills"].append(broken_bill)

    with pytest.raises(M3terRecordError) as error:
        m3ter_import(payload=payload)

    assert str(error.value) == (
        "bills[1] (id 'b-second'): field 'lineItems[1].subtotal': expected a number, got 'twelve'"
    )
    assert database_snapshot() == before


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda p: p["accounts"][0].pop("code"),
            "accounts[0] (id '4a1e6d3c-7f1b-4b8e-9a57-2f0c9e8d1a01'): field 'code': is required",
        ),
        (
            lambda p: p["bills"][0].update(status="PAID"),
            "field 'status': 'PAID' is not one of PENDING, APPROVED",
        ),
        (
            lambda p: p["bills"][0].update(billDate="01/11/2026"),
            "field 'billDate': expected a date like 2026-11-01",
        ),
        (
            lambda p: p["bills"][0]["lineItems"][0].update(lineItemType="REFUND"),
            "field 'lineItems[0].lineItemType': 'REFUND' is not one of",
        ),
        (
            lambda p: p["externalMappings"][0].update(integrationConfigId="not-a-uuid"),
            "externalMappings[0]",
        ),
        (lambda p: p.update(bills={"id": 1}), "field 'bills': expected a list"),
    ],
)
def test_errors_name_the_record_and_the_field(mutate, message):
    payload = spec_payload()
    mutate(payload)
    with pytest.raises(
        M3terRecordError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        m3ter_import(payload=payload)
    assert not Account.objects.exists()


def test_a_bill_that_cannot_be_written_stops_the_import_keeping_what_went_before():
    payload = spec_payload()
    orphan = copy.deepcopy(payload["bills"][0])
    orphan.update(id="b-orphan", accountId="nobody")
    payload["bills"].append(orphan)

    with pytest.raises(ImportStopped) as stopped:
        m3ter_import(payload=payload)

    assert str(stopped.value) == (
        "bills[1] (id 'b-orphan'): field 'accountId': no account with id 'nobody'; import the "
        "account first"
    )
    assert (stopped.value.result.accounts.created, stopped.value.result.bills.created) == (1, 1)
    assert list(Bill.objects.values_list("m3ter_id", flat=True)) == [payload["bills"][0]["id"]]
    assert LineItem.objects.count() == 2
    assert not ExternalMapping.objects.exists()  # they come after the bills


def test_an_older_bill_version_is_ignored():
    m3ter_import(payload=spec_payload())
    older = spec_payload()
    older["bills"][0]["version"] = 1
    older["bills"][0]["status"] = "PENDING"
    older["bills"][0]["lineItems"] = older["bills"][0]["lineItems"][:1]

    result = m3ter_import(payload=older)

    assert result.bills.ignored_older == 1
    bill = Bill.objects.get()
    assert (bill.version, bill.status, bill.line_items.count()) == (2, BillStatus.APPROVED, 2)


def test_a_newer_bill_version_replaces_its_line_items():
    m3ter_import(payload=spec_payload())
    newer = spec_payload()
    newer["bills"][0]["version"] = 3
    newer["bills"][0]["lineItems"] = newer["bills"][0]["lineItems"][1:]

    result = m3ter_import(payload=newer)

    assert result.bills.updated == 1
    bill = Bill.objects.get()
    assert bill.version == 3
    assert [item.description for item in bill.line_items.all()] == ["API calls"]


def test_a_changed_bill_gets_a_new_content_hash_and_an_unchanged_one_keeps_it():
    m3ter_import(payload=spec_payload())
    first_hash = Bill.objects.get().content_hash
    approved_only = spec_payload()
    approved_only["bills"][0]["version"] = 3
    approved_only["bills"][0]["status"] = "PENDING"
    m3ter_import(payload=approved_only)
    assert Bill.objects.get().content_hash == first_hash

    changed = spec_payload()
    changed["bills"][0]["version"] = 4
    changed["bills"][0]["lineItems"][1]["subtotal"] = 300
    m3ter_import(payload=changed)
    assert Bill.objects.get().content_hash != first_hash


def test_mapping_for_an_unknown_integration_is_refused():
    payload = spec_payload()
    payload["externalMappings"][0]["integrationConfigId"] = "00000000-0000-0000-0000-000000000001"
    with pytest.raises(M3terRecordError, match="integrationConfigId': no integration with id"):
        m3ter_import(payload=payload)


def test_a_file_that_is_not_an_object_is_refused_with_the_expected_shape():
    with pytest.raises(M3terRecordError, match='expected an object like {"accounts"'):
        m3ter_import(payload=[1, 2])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda p: p["accounts"][0].update(name="Acme\x00"),
            "field 'name': contains a NUL character",
        ),
        (
            lambda p: p["accounts"][0].update(customFields={"a": float("nan")}),
            "must be a finite number",
        ),
        (
            lambda p: p["bills"][0].update(billTotal=1e30),
            "field 'billTotal': 1e+30 is out of range",
        ),
        (
            lambda p: p["bills"][0].update(version=2**64),
            "field 'version': expected a whole number from 0",
        ),
    ],
)
def test_values_the_database_cannot_hold_are_refused_with_the_field(mutate, message):
    payload = spec_payload()
    mutate(payload)
    with pytest.raises(M3terRecordError, match=message.replace("(", r"\(").replace("+", r"\+")):
        m3ter_import(payload=payload)


def test_more_decimals_than_the_mirror_keeps_are_rounded_not_refused():
    payload = spec_payload()
    payload["bills"][0]["lineItems"][1]["subtotal"] = "262.123456789012345"
    m3ter_import(payload=payload)
    assert str(LineItem.objects.get(sequence=1).subtotal) == "262.1234567890"


def test_the_import_keeps_m3ters_line_item_fields_and_audit_fields():
    payload = spec_payload()
    del payload["bills"][0]["lineItems"][1]["convertedSubtotal"]
    m3ter_import(payload=payload)

    first, second = LineItem.objects.order_by("sequence")
    account = Account.objects.get()
    assert (first.plan_id, first.currency) == ("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d01", "USD")
    assert (first.average_unit_price, first.conversion_rate) == (1000, 1)
    assert second.converted_subtotal == second.subtotal  # filled where m3ter left it out
    assert account.created_by == "someone@example.com"
    assert account.created_at.isoformat() == "2026-01-01T00:00:00+00:00"
    assert Bill.objects.get().created_at.isoformat() == "2026-11-01T02:00:00+00:00"

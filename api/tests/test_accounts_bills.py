"""Accounts and bills in m3ter's shape; a bill written through the API is a bill event."""

import pytest
from django.urls import reverse

from api.tests.conftest import assert_error, org_url
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import Account, Bill
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from runs.models import IntegrationRun

pytestmark = pytest.mark.django_db

ACCOUNTS = org_url("accounts")
BILLS = org_url("bills")


def account_body(**overrides):
    return {
        "id": "acc-1",
        "version": 3,
        "code": "acme",
        "name": "Acme Ltd",
        "emailAddress": "billing@acme.test",
        "currency": "USD",
        "customFields": {"tier": "gold", "seats": 12},
        "address": {"addressLine1": "1 Main St", "locality": "Springfield", "country": "US"},
        **overrides,
    }


def bill_body(account_id, **overrides):
    return {
        "id": "bill-1",
        "version": 1,
        "accountId": account_id,
        "status": "APPROVED",
        "billDate": "2026-11-01",
        "currency": "USD",
        "lineItems": [
            {"lineItemType": "STANDING_CHARGE", "description": "Platform", "subtotal": 100},
            {
                "lineItemType": "USAGE",
                "description": "API calls",
                "quantity": 1000,
                "subtotal": 12.5,
            },
        ],
        **overrides,
    }


def test_create_an_account_with_m3ters_id_and_read_it_back(api):
    response = api.post(ACCOUNTS, account_body())

    assert response.status_code == 200, response.content
    account = Account.objects.get(m3ter_id="acc-1")
    assert account.custom_fields == {"tier": "gold", "seats": 12}
    body = api.get(org_url("accounts/acc-1")).json()
    sent = {key: value for key, value in account_body().items() if key != "version"}
    assert {key: body[key] for key in sent} == sent
    # A new account is version 1 whatever was sent, as on m3ter, with m3ter's audit fields.
    assert (body["version"], body["createdBy"], body["lastModifiedBy"]) == (
        1,
        "automation",
        "automation",
    )
    assert {"dtCreated", "dtLastModified"} <= set(body)


def test_an_account_without_an_id_gets_one(api):
    body = api.post(ACCOUNTS, account_body(id=None)).json()
    assert Account.objects.get().m3ter_id == body["id"]


def test_creating_an_existing_account_is_a_conflict(api):
    AccountFactory(m3ter_id="acc-1")
    assert_error(api.post(ACCOUNTS, account_body()), 409, contains="PUT")


def test_account_field_problems_name_the_field(api):
    response = api.post(ACCOUNTS, account_body(currency="dollars", code=None))
    body = assert_error(response, 400)
    assert body["errors"][0]["field"] in {"currency", "code"}


def test_an_account_update_counts_the_version_up_by_one_and_refuses_a_stale_one(api):
    api.post(ACCOUNTS, account_body())

    updated = api.put(org_url("accounts/acc-1"), account_body(version=1, name="Acme Inc"))
    stale = api.put(org_url("accounts/acc-1"), account_body(version=1, name="Acme Old"))
    unversioned = api.put(org_url("accounts/acc-1"), account_body(version=None))
    elsewhere = api.put(org_url("accounts/acc-1"), account_body(id="acc-2"))

    assert (updated.json()["name"], updated.json()["version"]) == ("Acme Inc", 2)
    assert_error(stale, 409, contains="version 2")
    assert_error(unversioned, 400, field="version")
    assert_error(elsewhere, 400, field="id")
    assert Account.objects.get().name == "Acme Inc"


def test_a_duplicate_account_code_is_refused(api):
    AccountFactory(code="acme")
    assert_error(api.post(ACCOUNTS, account_body()), 409, contains="acme")
    assert not Account.objects.filter(m3ter_id="acc-1").exists()


def test_unknown_and_search_paths_answer_the_json_error(api):
    search = assert_error(api.get(org_url("bills/search"), {"searchQuery": "x"}), 404)
    assert "does not offer" in search["message"] and search["code"] == "not_offered"
    assert_error(api.get(org_url("accounts/search")), 404, contains="does not offer")
    unknown = api.get(org_url("nowhere/at/all"))
    assert unknown["Content-Type"] == "application/json"
    assert_error(unknown, 404, contains="/api/schema/")


def test_list_accounts_by_ids_and_codes(api):
    first = AccountFactory(code="one")
    AccountFactory(code="two")
    listed = api.get(ACCOUNTS, {"ids": first.m3ter_id}).json()
    by_code = api.get(ACCOUNTS, {"codes": "one,two"}).json()
    assert [a["id"] for a in listed["data"]] == [first.m3ter_id]
    assert len(by_code["data"]) == 2
    assert_error(api.get(org_url("accounts/none")), 404)


def test_a_bill_posted_is_a_bill_event(api):
    account = AccountFactory()
    IntegrationConfigurationFactory(credential=IntegrationCredentialFactory())

    response = api.post(BILLS, bill_body(account.m3ter_id))

    assert response.status_code == 200, response.content
    bill = Bill.objects.get(m3ter_id="bill-1")
    assert [item.description for item in bill.line_items.all()] == ["Platform", "API calls"]
    run = IntegrationRun.objects.get()
    assert (run.bill, run.bill_version) == (bill, 1)
    body = response.json()
    assert body["accountCode"] == account.code
    assert [item["lineItemType"] for item in body["lineItems"]] == ["STANDING_CHARGE", "USAGE"]


def test_a_changed_bill_is_a_new_event_and_an_unchanged_one_is_not(api):
    account = AccountFactory()
    IntegrationConfigurationFactory(credential=IntegrationCredentialFactory())
    api.put(org_url("bills/bill-1"), bill_body(account.m3ter_id))

    same = api.put(org_url("bills/bill-1"), bill_body(account.m3ter_id, version=1))
    assert same.json()["version"] == 2  # every write counts, as on m3ter
    assert IntegrationRun.objects.count() == 1

    changed = bill_body(
        account.m3ter_id, version=2, lineItems=[{"lineItemType": "USAGE", "subtotal": 5}]
    )
    assert api.put(org_url("bills/bill-1"), changed).json()["version"] == 3
    assert IntegrationRun.objects.count() == 2


def test_a_stale_bill_version_is_refused(api):
    account = AccountFactory()
    created = api.post(BILLS, bill_body(account.m3ter_id, version=5)).json()
    response = api.put(org_url("bills/bill-1"), bill_body(account.m3ter_id, version=4))
    assert created["version"] == 1
    assert_error(response, 409, contains="version 1")
    assert Bill.objects.get().version == 1


def test_bill_line_items_carry_m3ters_required_fields(api):
    account = AccountFactory()
    line = {
        "lineItemType": "USAGE",
        "description": "API calls",
        "quantity": 1000,
        "subtotal": 12.5,
        "planId": "plan-1",
        "pricingId": "pricing-1",
        "conversionRate": 0.5,
    }
    body = api.post(BILLS, bill_body(account.m3ter_id, lineItems=[line])).json()
    item = body["lineItems"][0]
    assert (item["currency"], item["conversionRate"], item["convertedSubtotal"]) == (
        "USD",
        0.5,
        12.5,
    )
    assert (item["averageUnitPrice"], item["planId"], item["pricingId"]) == (
        0.0125,
        "plan-1",
        "pricing-1",
    )
    assert {"unit", "units", "description"} <= set(item)


def test_a_bill_written_without_a_total_is_given_its_lines_sum(api, admin_client):
    account = AccountFactory()
    body = bill_body(account.m3ter_id)
    assert "billTotal" not in body

    answer = api.put(org_url("bills/bill-1"), body).json()

    assert answer["billTotal"] == 112.5
    assert api.get(org_url("bills/bill-1")).json()["billTotal"] == 112.5
    page = admin_client.get(reverse("m3terdata:bill_detail", args=["bill-1"]))
    assert "112.50" in page.content.decode()


def test_a_bills_own_total_is_kept(api):
    account = AccountFactory()

    answer = api.put(org_url("bills/bill-1"), bill_body(account.m3ter_id, billTotal=99)).json()

    assert answer["billTotal"] == 99.0
    assert Bill.objects.get().total == 99


def test_bill_filters_with_m3ters_meanings(api):
    locked = BillFactory(locked=True, billing_frequency="MONTHLY")
    LineItemFactory(bill=locked)
    open_bill = BillFactory(locked=False, billing_frequency="ANNUALLY")

    def ids(**params):
        return sorted(b["id"] for b in api.get(BILLS, params).json()["data"])

    assert ids(locked="false") == [open_bill.m3ter_id]
    assert ids(locked="true") == sorted([locked.m3ter_id, open_bill.m3ter_id])
    assert ids(billingFrequency="MONTHLY") == [locked.m3ter_id]
    without = api.get(BILLS, {"excludeLineItems": "true"}).json()["data"]
    assert all("lineItems" not in bill for bill in without)
    assert_error(api.get(BILLS, {"billingFrequency": "HOURLY"}), 400, field="billingFrequency")


def test_bill_problems_name_the_field(api):
    account = AccountFactory()
    unknown_account = api.post(BILLS, bill_body("nobody"))
    bad_line = api.post(
        BILLS, bill_body(account.m3ter_id, lineItems=[{"lineItemType": "FREE", "subtotal": 1}])
    )
    not_an_object = api.post(BILLS, [1, 2])

    assert_error(unknown_account, 400, field="accountId", contains="import the account first")
    assert_error(bad_line, 400, field="lineItems[0].lineItemType")
    assert_error(not_an_object, 400, contains="JSON object")
    assert not Bill.objects.exists()


def test_list_and_get_bills(api):
    line = LineItemFactory(bill=BillFactory(status="APPROVED"))
    other = BillFactory()

    approved = api.get(BILLS, {"status": "APPROVED"}).json()
    by_account = api.get(BILLS, {"accountId": other.account.m3ter_id}).json()
    one = api.get(org_url(f"bills/{line.bill.m3ter_id}")).json()

    assert [b["id"] for b in approved["data"]] == [line.bill.m3ter_id]
    assert [b["id"] for b in by_account["data"]] == [other.m3ter_id]
    assert one["lineItems"][0]["description"] == line.description
    assert_error(api.get(BILLS, {"billDateStart": "soon"}), 400, field="billDateStart")


@pytest.mark.parametrize("path", [ACCOUNTS, BILLS])
@pytest.mark.parametrize("bad_id", ["a\x00b", ["a list"], "x" * 65])
def test_a_malformed_id_is_a_400_before_it_is_looked_up(api, path, bad_id):
    assert_error(api.post(path, {"id": bad_id}), 400, field="id")

"""The m3ter stand-in, driven by the official SDK (no database)."""

import m3ter
import pytest

from standins.m3ter.pytest_plugin import m3ter_account, m3ter_bill


def sdk(standin, **options):
    options.setdefault("max_retries", 0)
    return m3ter.M3ter(
        api_key=standin.api_key,
        api_secret=standin.api_secret,
        org_id=standin.org_id,
        base_url=standin.url,
        **options,
    )


def test_lists_page_with_page_size_and_next_token(m3ter_standin):
    for _ in range(5):
        m3ter_standin.put_account(m3ter_account())

    first = sdk(m3ter_standin).accounts.list(page_size=2)
    every = [account.id for account in sdk(m3ter_standin).accounts.list(page_size=2)]

    assert len(first.data) == 2 and first.next_token
    assert len(every) == 5 and len(set(every)) == 5
    assert m3ter_standin.request_count("list_accounts") == 1 + 3


def test_search_sorts_by_any_field_and_pages_from_a_document(m3ter_standin):
    accounts = [m3ter_standin.put_account(m3ter_account()) for _ in range(3)]
    m3ter_standin.put_account({**accounts[0], "name": "Renamed"})  # now the newest

    newest_first = sdk(m3ter_standin).accounts.search(
        sort_by="dtLastModified", sort_order="DESC", page_size=2
    )
    rest = sdk(m3ter_standin).accounts.search(
        sort_by="dtLastModified", sort_order="DESC", page_size=2, from_document=2
    )

    assert [a.id for a in newest_first.data] == [accounts[0]["id"], accounts[2]["id"]]
    assert [a.id for a in rest.data] == [accounts[1]["id"]]
    assert newest_first.data[0].version == 2


def test_bills_carry_line_items_except_in_search(m3ter_standin):
    account = m3ter_standin.put_account(m3ter_account())
    bill = m3ter_standin.put_bill(m3ter_bill(account))
    client = sdk(m3ter_standin)

    listed = client.bills.list(ids=[bill["id"]]).data[0]
    found = client.bills.search(sort_by="dtLastModified").data[0]
    items = list(client.bills.line_items.list(bill_id=bill["id"]))

    assert len(listed.line_items) == 1
    assert found.id == bill["id"] and found.line_items is None
    assert [item.id for item in items] == [bill["lineItems"][0]["id"]]


def test_a_wrong_secret_is_refused_at_the_token_endpoint(m3ter_standin):
    client = m3ter.M3ter(
        api_key=m3ter_standin.api_key,
        api_secret="wrong",
        org_id=m3ter_standin.org_id,
        base_url=m3ter_standin.url,
        max_retries=0,
    )
    with pytest.raises(m3ter.AuthenticationError):
        client.accounts.list()


def test_another_organization_is_refused(m3ter_standin):
    client = sdk(m3ter_standin)
    with pytest.raises(m3ter.PermissionDeniedError):
        client.accounts.list(org_id="00000000-0000-0000-0000-000000000000")


def test_an_injected_429_is_retried_by_the_sdk_after_retry_after(m3ter_standin):
    m3ter_standin.push_fault("rate_limit", path="/organizations", times=2, retry_after=0.01)

    sdk(m3ter_standin, max_retries=2).accounts.list()

    assert m3ter_standin.request_count("list_accounts", status=429) == 2
    assert m3ter_standin.request_count("list_accounts", status=200) == 1


def test_an_injected_server_error_reaches_the_client(m3ter_standin):
    m3ter_standin.push_fault("http_500", path="/organizations", status=503)
    with pytest.raises(m3ter.InternalServerError):
        sdk(m3ter_standin).accounts.list()

import pytest

from integrations.account_filter import AccountFilterError
from integrations.selectors import account_choices, account_filter_matches, account_search
from m3terdata.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_account_search_matches_name_code_or_id_a_page_at_a_time():
    wanted = AccountFactory(name="Alpha", code="A-1", m3ter_id="acc-0001")
    AccountFactory(name="Beta", code="B-1", m3ter_id="acc-beta")
    assert account_search(query="alp")[0][0].id == wanted.m3ter_id
    assert account_search(query="a-1")[0][0].label == "Alpha (A-1)"
    assert account_search(query="0001")[0][0].id == wanted.m3ter_id

    first, more = account_search(limit=1)
    second, no_more = account_search(offset=1, limit=1)
    assert (first[0].label, more) == ("Alpha (A-1)", True)
    assert (second[0].label, no_more) == ("Beta (B-1)", False)


def test_account_choices_keep_the_order_and_ids_without_an_account():
    second, first = AccountFactory(name="Second", code="2"), AccountFactory(name="First", code="1")
    choices = account_choices(account_ids=[second.m3ter_id, "gone", first.m3ter_id])
    assert [c.label for c in choices] == ["Second (2)", "gone", "First (1)"]


def test_account_filter_matches_counts_and_samples(django_assert_num_queries):
    for n in range(8):
        AccountFactory(name=f"UK {n}", custom_fields={"country": "UK"})
    AccountFactory(name="US", custom_fields={"country": "US"})
    with django_assert_num_queries(1):
        found = account_filter_matches(text="customFields.country == UK", sample_size=3)
    assert (found.matched, found.total) == (8, 9)
    assert [c.label.split(" (")[0] for c in found.sample] == ["UK 0", "UK 1", "UK 2"]


def test_account_filter_matches_raises_for_a_filter_that_does_not_parse():
    with pytest.raises(AccountFilterError) as caught:
        account_filter_matches(text="country == UK")
    assert caught.value.column == 1

"""Records from m3ter: keys and texts of the JSON columns are capped like every other field."""

import pytest

from m3terdata.parsing import ACCOUNT_FIELDS, M3terRecordError, parse_record


def account(**overrides):
    return {"id": "acc-1", "code": "acme", "name": "Acme", **overrides}


def problem_with(record) -> str:
    with pytest.raises(M3terRecordError) as error:
        parse_record(record, ACCOUNT_FIELDS, collection="accounts", index=0)
    return str(error.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"customFields": {"k" * 201: 1}}, "a key 201 characters long; at most 200"),
        ({"customFields": {"note": "x" * 1001}}, "customFields.note is 1001 characters long"),
        ({"customFields": {f"f{n}": n for n in range(201)}}, "201 custom fields; at most 200"),
        ({"address": {"postCode": "9" * 51}}, "address: is 51 characters long; at most 50"),
        ({"address": {"addressLine1": "x" * 201}}, "address: is 201 characters long"),
        ({"name": "n" * 201}, "is 201 characters long; at most 200"),
        ({"daysBeforeBillDue": 2**31}, "expected a whole number from 0 to 2147483647"),
    ],
)
def test_overlong_keys_and_texts_are_refused_saying_the_limit(overrides, message):
    assert message in problem_with(account(**overrides))


def test_values_up_to_the_caps_are_taken():
    values = parse_record(
        account(
            customFields={"k" * 200: "v" * 1000},
            address={"postCode": "9" * 50, "country": "c" * 100},
        ),
        ACCOUNT_FIELDS,
        collection="accounts",
        index=0,
    )
    assert values["address"]["postCode"] == "9" * 50

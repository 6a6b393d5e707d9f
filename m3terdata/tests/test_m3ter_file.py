"""A file in m3ter's API shape read as a stream: the same records as a bill read whole, problems
named as before (and placed as json.loads places them), whatever the order of the file's keys."""

import io
import json
from decimal import Decimal

import pytest

from m3terdata.m3ter_file import LINE_BATCH, MAX_DEPTH, READ_SIZE, M3terFileError, m3ter_file_read
from m3terdata.parsing import M3terRecordError, parse_bill

ACCOUNT = {"id": "acc-1", "code": "acme", "name": "Acme"}


def line(n: int, **overrides) -> dict:
    return {"lineItemType": "USAGE", "description": f"Meter {n}", "subtotal": 1.25, **overrides}


def bill(lines: list, **overrides) -> dict:
    return {
        "id": "bill-1",
        "accountId": "acc-1",
        "currency": "USD",
        "billDate": "2026-11-01",
        "lineItems": lines,
        **overrides,
    }


def read(data) -> dict:
    """What the file hands out, each bill with its lines as a list."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with m3ter_file_read(io.BytesIO(raw)) as file:
        return {
            "accounts": list(file.accounts()),
            "bills": [(index, values, list(lines)) for index, values, lines in file.bills()],
            "externalMappings": list(file.external_mappings()),
        }


def problem(data) -> str:
    with pytest.raises((M3terFileError, M3terRecordError)) as error:
        read(data)
    return str(error.value)


def test_a_bill_reads_as_one_read_whole_whether_its_fields_come_before_or_after_its_lines():
    record = bill([line(n) for n in range(3)])
    lines_last = json.dumps({"bills": [record]})
    lines_first = json.dumps({"bills": [{"lineItems": record["lineItems"], **record}]})
    assert lines_first.index("lineItems") < lines_first.index("accountId")

    expected = [(0, *parse_bill(record, index=0))]
    assert read(lines_last.encode())["bills"] == expected
    assert read(lines_first.encode())["bills"] == expected


def test_a_bill_without_a_total_gets_its_lines_sum_as_a_bill_read_whole_does():
    record = bill([line(n) for n in range(3)])
    lines_first = json.dumps({"bills": [{"lineItems": record["lineItems"], **record}]})

    (_, values, _), (_, no_lines, _) = read(
        {"bills": [record, bill([], id="bill-2", billTotal=7)]}
    )["bills"]

    assert values["total"] == Decimal("3.75") == parse_bill(record)[0]["total"]
    assert read(lines_first.encode())["bills"][0][1]["total"] == Decimal("3.75")
    assert no_lines["total"] == 7


def test_a_missing_total_beyond_the_mirrors_range_names_billtotal():
    record = bill([line(0, subtotal=9 * 10**13), line(1, subtotal=9 * 10**13)])

    expected = (
        "bills[0] (id 'bill-1'): field 'billTotal': is left out, and the line items' subtotals "
        "sum to 180000000000000, beyond the 10^14 amounts must stay below; send billTotal, or "
        "fewer or smaller lines"
    )
    assert problem({"bills": [record]}) == expected
    with pytest.raises(M3terRecordError) as error:
        parse_bill(record, index=0)
    assert str(error.value) == expected


def test_lines_across_many_batches_keep_their_order_and_numbers():
    count = 2 * LINE_BATCH + 500
    numbered = bill([line(n, sequenceNumber=count - n) for n in range(count)])
    unnumbered = bill([line(n) for n in range(count)], id="bill-2")

    (_, _, by_sequence), (_, _, by_order) = read({"bills": [numbered, unnumbered]})["bills"]

    assert [item["sequence"] for item in by_sequence] == list(range(count, 0, -1))
    assert [item["sequence"] for item in by_order] == list(range(count))
    assert [item["description"] for item in by_order] == [f"Meter {n}" for n in range(count)]


def test_a_bad_line_names_its_bill_though_the_bills_id_follows_the_lines():
    data = {"bills": [{"lineItems": [line(0), line(1, subtotal="twelve")], "id": "b-late"}]}
    data["bills"][0].update(accountId="acc-1", currency="USD")

    assert problem(data) == (
        "bills[0] (id 'b-late'): field 'lineItems[1].subtotal': expected a number, got 'twelve'"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bills": [bill([line(0, sequenceNumber=1), line(1, sequenceNumber=1)])]}, "repeat"),
        ({"bills": [bill({"a": 1})]}, "field 'lineItems': expected a list of line items"),
        (b'{"bills": [{"id": "b", "accountId": "a", "currency": "USD", "lineItems": [], '
         b'"lineItems": []}]}', "field 'lineItems': appears twice in the bill"),
        (b'{"bills": [], "bills": []}', "'bills' appears twice"),
        ({"bills": [[1]]}, "bills[0]: field '(record)': expected an object, got list"),
        ({"bills": [bill([line(0, sequenceNumber=2**31)])]}, "from 0 to 2147483647"),
    ],
)  # fmt: skip
def test_bills_the_mirror_cannot_take_are_named(data, message):
    assert message in problem(data)


def test_null_or_missing_line_items_are_no_lines():
    bills = read({"bills": [bill(None), {**bill([]), "id": "b-2"}]})["bills"]
    assert [lines for _, _, lines in bills] == [[], []]


def test_problems_of_the_whole_file_come_before_a_records():
    bad_bill = {"bills": [bill([line(0, subtotal="twelve")])]}

    assert "unknown keys 'invoices'" in problem({**bad_bill, "invoices": []})
    broken_after = json.dumps(bad_bill).encode()[:-1]
    assert "is not valid JSON: premature EOF" in problem(broken_after)


def test_the_first_bad_record_named_is_the_first_written_accounts_before_bills():
    data = {"bills": [bill([line(0, subtotal="twelve")])], "accounts": [{"id": "acc-1"}]}
    assert problem(data) == "accounts[0] (id 'acc-1'): field 'code': is required"


def test_collections_come_out_in_the_order_they_are_written_whatever_the_files():
    data = {
        "externalMappings": [],
        "bills": [bill([line(0)])],
        "accounts": [ACCOUNT],
    }
    records = read(data)
    assert [values["m3ter_id"] for _, values in records["accounts"]] == ["acc-1"]
    assert [values["m3ter_id"] for _, values, _ in records["bills"]] == ["bill-1"]


@pytest.mark.parametrize(
    "text",
    [
        '{"accounts": [',
        '{"accounts": [1,\n 2,, 3]}',
        '{"accounts": []} x',
        "",
        # Past the first chunk the parser reads, on a line of its own and after non-ASCII text.
        '{"accounts": [' + '{"name": "Zoë"},\n' * (READ_SIZE // 10) + '{"name": 1,}]}',
        # The same on one long line, the parser's excerpt cutting a character in two.
        '{"accounts": [' + '{"name": "Zoë"},' * (READ_SIZE // 10) + '{"name": "x",}]}',
    ],
)
def test_json_syntax_errors_are_placed_as_json_loads_places_them(text):
    # (At the character the parser noticed: the end of a longer token that is out of place.)
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(text)

    message = problem(text.encode())

    assert message.startswith("is not valid JSON: ")
    assert message.endswith(f" at line {reference.value.lineno}, column {reference.value.colno}")


def test_bytes_that_are_not_utf8_are_placed_also_past_the_first_chunk():
    # A two-byte character split across the first chunk's end is fine; the bad byte is not.
    padding = b'{"accounts": [{"name": "' + b"x" * (READ_SIZE - 25) + "é".encode()
    assert len(padding) == READ_SIZE + 1
    data = padding + b'"}, {"name": "caf\xe9"}]}'

    assert problem(data) == (
        f"is not UTF-8 text (byte {data.index(b'caf') + 3} is not): export it from m3ter as JSON, "
        "which is UTF-8"
    )


def test_nesting_is_bounded_also_in_fields_that_are_skipped():
    def nested(levels):  # a field of a bill, which is three levels down the file
        return json.loads("[" * (levels - 3) + "]" * (levels - 3))

    assert read({"bills": [bill([], somethingNew=nested(MAX_DEPTH))]})["bills"]
    assert "too deeply" in problem({"bills": [bill([], somethingNew=nested(MAX_DEPTH + 1))]})

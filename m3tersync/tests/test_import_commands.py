import copy
import io
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.db.models import Count

from credentials.models import Destination
from credentials.services import credential_create
from m3terdata import services as mirror_services
from m3terdata.models import Account, Bill, BillStatus, ExternalMapping, LineItem, LineItemType
from m3tersync.tests.test_inbound import SPEC_EXAMPLES
from paddle_destination.models import PaddleStatusSync
from paddle_destination.tests import fixtures
from standins.paddle import make_api_key

pytestmark = pytest.mark.django_db

# The Paddle stand-in with the hub's settings pointed at it.
paddle = fixtures.paddle
ROOT = Path(__file__).resolve().parents[2]


def three_bills() -> dict:
    """The spec's file with two more bills of the same account after its own."""
    payload = json.loads(SPEC_EXAMPLES.read_text())
    first = payload["bills"][0]
    for number in (2, 3):
        payload["bills"].append({**copy.deepcopy(first), "id": f"b-{number}"})
    return payload


def written(tmp_path, payload) -> str:
    path = tmp_path / "m3ter.json"
    path.write_text(json.dumps(payload))
    return str(path)


def test_import_m3ter_reports_what_it_did(capsys):
    call_command("import_m3ter", str(SPEC_EXAMPLES))
    out = capsys.readouterr().out
    assert "Accounts: 1 created, 0 updated, 0 unchanged, 0 ignored as older" in out
    assert "Bills: 1 created" in out
    assert Bill.objects.get().line_items.count() == 2


def test_import_m3ter_gives_a_bill_without_a_total_its_lines_sum(tmp_path):
    payload = three_bills()
    del payload["bills"][1]["billTotal"]
    payload["bills"][2]["billTotal"] = 5

    call_command("import_m3ter", written(tmp_path, payload))

    totals = dict(Bill.objects.values_list("m3ter_id", "total"))
    assert totals == {payload["bills"][0]["id"]: Decimal("1262.35"), "b-2": Decimal("1262.35"),
                      "b-3": Decimal(5)}  # fmt: skip


def test_import_m3ter_names_the_bad_record_and_imports_nothing(tmp_path):
    payload = json.loads(SPEC_EXAMPLES.read_text())
    payload["bills"][0]["currency"] = "dollars"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(payload))
    with pytest.raises(CommandError) as error:
        call_command("import_m3ter", str(bad))
    assert "bills[0] (id 'c3f9a8b7-1e2d-4c5b-8a9f-0e1d2c3b4a01'): field 'currency'" in str(
        error.value
    )
    assert "Nothing was imported" in str(error.value)
    assert not Account.objects.exists()


def test_import_m3ter_explains_broken_json(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"accounts": [')
    with pytest.raises(CommandError, match="is not valid JSON: .* line 1, column"):
        call_command("import_m3ter", str(bad))


def test_seed_demo_covers_what_a_demo_needs_and_is_repeatable(capsys):
    call_command("seed_demo")
    accounts, bills = Account.objects.count(), Bill.objects.count()
    assert accounts >= 24
    assert Account.objects.filter(address={}).exists()
    assert Account.objects.exclude(address={}).exists()
    assert set(Bill.objects.values_list("currency", flat=True)) == {"USD", "EUR", "GBP", "JPY"}
    assert set(LineItem.objects.values_list("line_item_type", flat=True)) == set(
        LineItemType.values
    )
    assert LineItem.objects.filter(subtotal__lt=0).exists()
    assert Bill.objects.filter(status=BillStatus.APPROVED).exists()
    largest = Bill.objects.annotate(lines=Count("line_items")).order_by("-lines").first()
    assert largest.lines > 100
    # What a real SaaS company's bills look like: each line type in one unit that fits it,
    # credits of varied size, whole yen, calendar-month periods, purchase orders where used.
    units = dict(LineItem.objects.values_list("line_item_type", "unit").distinct())
    assert LineItem.objects.values("line_item_type", "unit").distinct().count() == len(units)
    assert (units["USAGE"], units["STANDING_CHARGE"], units["COMMITMENT_CONSUMED"]) == (
        "1,000 requests",
        "month",
        "GB-month",
    )
    credits = LineItem.objects.filter(subtotal__lt=0, currency="USD")
    assert credits.values("subtotal").distinct().count() >= 5
    yen = list(LineItem.objects.filter(currency="JPY").values_list("subtotal", flat=True))
    assert yen and all(amount == amount.to_integral_value() for amount in yen)
    for start, end in Bill.objects.values_list("start_date", "end_date"):
        assert start.day == 1 and (end.year, end.month) in {
            (start.year, start.month + 1),
            (start.year + 1, 1),
        }, (start, end)
    with_po = Bill.objects.exclude(purchase_order_number="")
    assert 0 < with_po.count() < Bill.objects.count()
    names = list(Account.objects.values_list("name", flat=True))
    assert len(set(names)) == len(names) and not any(re.search(r"\d", name) for name in names)

    call_command("seed_demo")
    assert "Bills: 0 created, 0 updated" in capsys.readouterr().out
    assert (Account.objects.count(), Bill.objects.count()) == (accounts, bills)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests arrays and objects too deeply"),
        (b'{"accounts": [{"name": "caf\xe9"}]}', "is not UTF-8 text (byte 27 is not)"),
        (b'{"invoices": []}', "unknown keys 'invoices'; expected {\"accounts\""),
        (b'{"bills": [], "acounts": []}', "unknown keys 'acounts'; expected"),
    ],
)
def test_import_m3ter_explains_a_file_it_cannot_take(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)

    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("import_m3ter", str(bad))

    assert "Nothing was imported" in str(error.value)


def test_a_restarted_demo_points_its_credentials_webhooks_at_the_demo_again(
    paddle, settings, capsys
):
    settings.HUB_PUBLIC_URL = "http://127.0.0.1:8000"
    credential = credential_create(
        name="Demo sandbox key", destination=Destination.PADDLE_SANDBOX, api_key=make_api_key()
    )  # its own set-up is queued on commit, which never comes here: the demo made it earlier

    call_command("seed_demo", "--with-integration", "--history-wait", "0")
    first = PaddleStatusSync.objects.get(credential=credential)
    settings.HUB_PUBLIC_URL = "http://127.0.0.1:8010"  # DEMO_WEB_PORT=8010 this time
    paddle.notifications.reset()  # a stand-in restarted: it keeps transactions, not settings
    call_command("seed_demo", "--with-integration", "--history-wait", "0")

    (setting,) = paddle.notifications.list(None)
    assert first.webhook_url == f"http://127.0.0.1:8000/paddle/webhooks/{credential.pk}/"
    assert setting["destination"] == f"http://127.0.0.1:8010/paddle/webhooks/{credential.pk}/"
    assert PaddleStatusSync.objects.get().notification_setting_id == setting["id"]
    assert f"Paddle sends invoice events to {setting['destination']}" in capsys.readouterr().out


def test_import_m3ter_stops_where_a_bill_cannot_be_written_and_says_what_it_imported(
    tmp_path, capsys
):
    payload = three_bills()
    payload["bills"][1]["accountId"] = "nobody"

    with pytest.raises(CommandError) as error:
        call_command("import_m3ter", written(tmp_path, payload))

    assert str(error.value).startswith(
        "Stopped at bills[1] (id 'b-2'): field 'accountId': no account with id 'nobody'"
    )
    assert "bills[1] and every record after it were not" in str(error.value)
    out = capsys.readouterr().out
    assert "Accounts: 1 created" in out
    assert "Bills: 1 created, 0 updated" in out
    assert list(Bill.objects.values_list("m3ter_id", flat=True)) == [payload["bills"][0]["id"]]
    assert not ExternalMapping.objects.exists()

    payload["bills"][1]["accountId"] = payload["accounts"][0]["id"]
    call_command("import_m3ter", written(tmp_path, payload))
    assert "Bills: 2 created, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_a_bill_the_database_refuses_midway_through_its_lines_leaves_none_of_it(
    tmp_path, monkeypatch, capsys
):
    # The second bill fails on its second chunk of lines: its first chunk is rolled back with it.
    monkeypatch.setattr(mirror_services, "LINE_ITEM_CHUNK", 1)
    chunks = []
    bulk_create = LineItem.objects.bulk_create

    def refusing_the_fourth_chunk(objects, **options):
        chunks.append(objects)
        if len(chunks) == 4:
            raise DatabaseError("disk I/O error")
        return bulk_create(objects, **options)

    monkeypatch.setattr(LineItem.objects, "bulk_create", refusing_the_fourth_chunk)

    with pytest.raises(CommandError) as error:
        call_command("import_m3ter", written(tmp_path, three_bills()))

    assert str(error.value).startswith(
        "Stopped at bills[1] (id 'b-2'): field '(record)': the database refused it: disk I/O error"
    )
    assert "Bills: 1 created" in capsys.readouterr().out
    assert list(Bill.objects.values_list("m3ter_id", flat=True)) == [
        "c3f9a8b7-1e2d-4c5b-8a9f-0e1d2c3b4a01"
    ]
    assert LineItem.objects.count() == 2


def test_import_m3ter_refuses_a_file_broken_halfway_before_importing_anything(tmp_path):
    text = json.dumps(three_bills())
    broken = tmp_path / "broken.json"
    broken.write_text(text[: text.index('"id": "b-3"')])

    with pytest.raises(CommandError, match="is not valid JSON: premature EOF at line 1") as error:
        call_command("import_m3ter", str(broken))

    assert "Nothing was imported" in str(error.value)
    assert not Account.objects.exists()


def test_import_m3ter_reads_standard_input(capsys):
    call_command("import_m3ter", "-", stdin=io.BytesIO(SPEC_EXAMPLES.read_bytes()))
    assert "Bills: 1 created" in capsys.readouterr().out


@pytest.mark.slow
def test_importing_a_big_bill_takes_the_memory_of_a_chunk_not_of_the_bill(tmp_path):
    """manage.py import_m3ter in a process of its own, as bench/import_memory.py runs it: a bill
    of 20,000 lines costs a few MB over what Django itself takes. Read whole, the same file
    cost some 120 MB more."""
    results = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, "bench/import_memory.py", "--only", "big", "--lines", "20000",
         "--json", str(results)],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    big = json.loads(results.read_text())["big"]

    assert "Bills: 1 created" in big["output"]
    assert big["peak_rss_mb"] - big["django_baseline_mb"] < 50

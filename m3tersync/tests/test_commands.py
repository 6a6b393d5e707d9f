import pytest
from django.core.management import CommandError, call_command

from m3terdata.models import Bill
from m3tersync.models import M3terPull, PullTrigger
from m3tersync.services import connection_update
from standins.m3ter.pytest_plugin import m3ter_account, m3ter_bill

pytestmark = pytest.mark.django_db


def test_m3ter_pull_pulls_every_enabled_connection_and_says_what_changed(
    m3ter_standin, m3ter_connection, capsys
):
    account = m3ter_standin.put_account(m3ter_account())
    m3ter_standin.put_bill(m3ter_bill(account))

    call_command("m3ter_pull")

    out = capsys.readouterr().out
    assert f"{m3ter_connection.name}: Succeeded" in out and "bills 1 of 1" in out
    assert M3terPull.objects.get().trigger == PullTrigger.COMMAND
    assert Bill.objects.count() == 1


def test_m3ter_pull_names_one_connection(m3ter_connection, capsys):
    call_command("m3ter_pull", "--connection", str(m3ter_connection.pk))
    assert M3terPull.objects.filter(connection=m3ter_connection).exists()

    with pytest.raises(CommandError, match="No m3ter connection named 'nope'"):
        call_command("m3ter_pull", "--connection", "nope")


def test_m3ter_pull_fails_loudly_when_a_pull_fails(m3ter_connection):
    connection_update(connection=m3ter_connection, api_secret="wrong")

    with pytest.raises(CommandError, match="A pull failed"):
        call_command("m3ter_pull")


def test_m3ter_pull_without_connections_says_what_to_do(db):
    with pytest.raises(CommandError, match="add one in the admin"):
        call_command("m3ter_pull")

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from m3tersync.models import M3terConnection, PullStatus, PullTrigger
from m3tersync.services import is_uuid, pull_run


class Command(BaseCommand):
    help = (
        "Pull accounts, external mappings and bills changed in m3ter since the last pull, for "
        "every enabled connection (or the one named)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", help="The name or id of one connection.")
        parser.add_argument(
            "--time-budget",
            type=float,
            default=None,
            help="Stop after this many seconds (the next pull continues). Default: no limit.",
        )

    def handle(self, *args, connection=None, time_budget=None, **options):
        connections = M3terConnection.objects.filter(enabled=True)
        if connection:
            match = (
                Q(name=connection) | Q(pk=connection) if is_uuid(connection) else Q(name=connection)
            )
            connections = M3terConnection.objects.filter(match)
            if not connections.exists():
                raise CommandError(f"No m3ter connection named {connection!r} (or with that id).")
        elif not connections.exists():
            raise CommandError("No enabled m3ter connection: add one in the admin first.")
        failed = False
        for each in connections:
            pull = pull_run(connection=each, trigger=PullTrigger.COMMAND, time_budget=time_budget)
            if pull is None:
                self.stdout.write(f"{each.name}: skipped, another pull is running.")
                continue
            self.stdout.write(
                f"{each.name}: {pull.get_status_display()}. Accounts {pull.accounts_changed} "
                f"changed of {pull.accounts_fetched} read; mappings "
                f"{pull.external_mappings_changed} of {pull.external_mappings_fetched}; bills "
                f"{pull.bills_changed} of {pull.bills_fetched}; {pull.records_skipped} skipped."
            )
            for problem in pull.problems:
                self.stdout.write(f"  not stored: {problem['message']}")
            if pull.status == PullStatus.FAILED:
                failed = True
                self.stderr.write(f"{each.name}: {pull.error}")
        if failed:
            raise CommandError("A pull failed; see above.")

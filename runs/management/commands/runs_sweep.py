"""`manage.py runs_sweep`: one pass of the run sweep, for a cron job or by hand.

Every `qcluster` already runs it each minute (the django-q2 schedule installed by
runs/migrations/0003_sweep_schedule.py); this is for looking at what it does, or for running
deliveries without a cluster's scheduler."""

from django.core.management.base import BaseCommand

from runs.services import runs_sweep


class Command(BaseCommand):
    help = (
        "Take back runs left STARTED by a dead worker, queue retries that have come due, and "
        "finish backfill runs whose bills are all done."
    )

    def handle(self, *args, **options):
        result = runs_sweep()
        self.stdout.write(
            f"{result.recovered + result.timed_out} runs taken back from dead workers "
            f"({result.timed_out} of them given up), {result.enqueued} queued, "
            f"{result.parents_settled} backfills finished."
        )

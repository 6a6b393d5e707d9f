import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from m3terdata.parsing import M3terRecordError
from m3tersync.services.inbound import m3ter_import


class Command(BaseCommand):
    help = (
        'Import m3ter data in its API shape: {"accounts": [...], "bills": [...], '
        '"externalMappings": [...]}. All or nothing; re-importing changes nothing.'
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A JSON file, or - for standard input.")

    def handle(self, *args, path, **options):
        try:
            text = self.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column "
                f"{error.colno}. Nothing was imported."
            ) from None
        try:
            result = m3ter_import(payload=payload)
        except M3terRecordError as error:
            raise CommandError(f"{error}. Nothing was imported.") from None
        self.stdout.write(f"Accounts: {result.accounts.as_text()}")
        self.stdout.write(f"Bills: {result.bills.as_text()}")
        self.stdout.write(f"External mappings: {result.external_mappings.as_text()}")

import shutil
import sys
import tempfile
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError

from m3terdata.m3ter_file import M3terFileError
from m3terdata.parsing import M3terRecordError
from m3tersync.services.inbound import ImportStopped, m3ter_import_file


class Command(BaseCommand):
    help = (
        'Import m3ter data in its API shape: {"accounts": [...], "bills": [...], '
        '"externalMappings": [...]}. The whole file is checked first, and one with an invalid '
        "record imports nothing; then each record is written in its own transaction. "
        "Re-importing changes nothing."
    )
    # call_command(..., stdin=...) gives the bytes that "-" reads.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("path", help="A JSON file, or - for standard input.")

    def handle(self, *args, path, **options):
        try:
            with _opened(path, options.get("stdin")) as stream:
                result = m3ter_import_file(stream=stream)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        except M3terFileError as error:
            raise CommandError(f"{path} {error}. Nothing was imported.") from None
        except ImportStopped as stopped:
            self._report(stopped.result)
            where = f"{stopped.collection}[{stopped.index}]"
            raise CommandError(
                f"Stopped at {stopped}. The records counted above were imported, each whole; "
                f"{where} and every record after it were not. Fix it and import the file "
                "again: the records already imported come back unchanged."
            ) from None
        except M3terRecordError as error:
            raise CommandError(f"{error}. Nothing was imported.") from None
        self._report(result)

    def _report(self, result):
        self.stdout.write(f"Accounts: {result.accounts.as_text()}")
        self.stdout.write(f"Bills: {result.bills.as_text()}")
        self.stdout.write(f"External mappings: {result.external_mappings.as_text()}")


@contextmanager
def _opened(path, stdin):
    if path != "-":
        with open(path, "rb") as stream:
            yield stream
        return
    # Standard input is kept in a temporary file as it is read: a syntax error is placed by
    # reading again up to it.
    with tempfile.TemporaryFile() as spooled:
        shutil.copyfileobj(stdin or sys.stdin.buffer, spooled)
        spooled.seek(0)
        yield spooled

from django.core.management.base import BaseCommand, CommandError

from credentials.crypto import SecretDecryptionError
from credentials.services import credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS. Put the new "
        "key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        try:
            counts = credentials_rotate()
        except SecretDecryptionError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS("Every stored secret now uses the first key."))

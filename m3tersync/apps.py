from django.apps import AppConfig


class M3terSyncConfig(AppConfig):
    name = "m3tersync"
    verbose_name = "Bills in from m3ter"

    def ready(self):
        # `rotate_secrets` re-encrypts these with the rest when FIELD_ENCRYPTION_KEYS rotate.
        from credentials.services import encrypted_field_register
        from m3tersync.models import M3terConnection

        for field in ("api_secret_encrypted", "webhook_secret_encrypted"):
            encrypted_field_register(model=M3terConnection, field=field)

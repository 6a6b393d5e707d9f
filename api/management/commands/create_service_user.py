"""Make a service user for automation and print its API key id and secret (shown only here)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.services import permissions_from_names, service_user_create
from m3terpaddle.text import sentences


class Command(BaseCommand):
    help = (
        "Create a REST API service user with the given permissions and print its API key id and "
        "secret as M3TER_API_KEY=… and M3TER_API_SECRET=… lines (the m3ter SDK reads these names "
        "from the environment). The secret cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="User name of the service user.")
        parser.add_argument(
            "--permissions",
            nargs="*",
            default=[],
            metavar="APP.CODENAME",
            help="Permissions to grant, e.g. integrations.view_integrationconfiguration, or "
            "integrations.* for all of an app's.",
        )
        parser.add_argument("--description", default="", help="What the service user is for.")

    def handle(self, *args, name, permissions, description, **options):
        try:
            granted = permissions_from_names(permissions)
            service_user, api_key, secret = service_user_create(
                name=name, permissions=granted, description=description
            )
        except ValidationError as error:
            raise CommandError(sentences(*error.messages)) from None
        self.stderr.write(
            f"Created service user {service_user} with {len(granted)} permission(s). "
            "Store the secret now: it cannot be shown again."
        )
        self.stdout.write(f"M3TER_API_KEY={api_key.key_id}")
        self.stdout.write(f"M3TER_API_SECRET={secret}")

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the demo's admin login and print it, with the organization id the REST API's "
        "paths need. An existing user keeps its password, so a password changed in the demo "
        "survives a restart. For the demo only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="m3terpaddle-demo")

    def handle(self, *args, username, password, **options):
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin login: {username} (password unchanged since it was made)")
        else:
            users.create_superuser(
                username=username, email=f"{username}@localhost", password=password
            )
            self.stdout.write(f"Admin login: {username} / {password}")
        # The README's API examples use $M3TER_ORG_ID; any other organization id answers 404.
        self.stdout.write(
            f"m3ter organization id (the API's {{orgId}}, setting M3TER_ORG_ID): "
            f"{settings.M3TER_ORG_ID}. For the README's API examples:\n"
            f"export M3TER_ORG_ID={settings.M3TER_ORG_ID}"
        )

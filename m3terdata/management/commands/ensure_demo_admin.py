from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the demo's admin login and print it. An existing user keeps its password, so a "
        "password changed in the demo survives a restart. For the demo only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="m3terpaddle-demo")

    def handle(self, *args, username, password, **options):
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin login: {username} (password unchanged since it was made)")
            return
        users.create_superuser(username=username, email=f"{username}@localhost", password=password)
        self.stdout.write(f"Admin login: {username} / {password}")

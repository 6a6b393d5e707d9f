"""Install the pull's django-q2 schedule, so any `qcluster` pulls from m3ter with no manual step.
It ticks every minute; each tick pulls the connections that are due by
M3TER_PULL_INTERVAL_MINUTES (read when it runs, so changing the setting needs no migration)."""

from django.db import migrations

SCHEDULE_NAME = "m3tersync: pull"


def install(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "m3tersync.tasks.pulls_due_task",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("m3tersync", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

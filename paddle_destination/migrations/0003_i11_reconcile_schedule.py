"""Install the invoice-status reconciliation's django-q2 schedule, so any `qcluster` runs it with no
manual step. It ticks every minute; each tick reconciles the credentials that are due by
PADDLE_RECONCILE_INTERVAL_MINUTES (read when it runs, so changing the setting needs no migration)."""

from django.db import migrations

SCHEDULE_NAME = "paddle_destination: reconcile invoice statuses"


def install(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "paddle_destination.tasks.reconcile_due_task",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("paddle_destination", "0002_i11_status_sync"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

"""Install the hourly pruning of old webhook events as a django-q2 schedule, so any `qcluster`
runs it with no manual step. WEBHOOK_EVENT_RETENTION_DAYS is read when it runs, so changing it
needs no migration."""

from django.db import migrations

SCHEDULE_NAME = "ops: prune old webhook events"


def install(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "ops.tasks.webhook_events_prune_task",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 60,
            "repeats": -1,
        },
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_i15_heartbeat"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

from django.db import models


class HeartbeatKind(models.TextChoices):
    WORKER = "WORKER", "Worker"
    SWEEP = "SWEEP", "Sweep"


class Heartbeat(models.Model):
    """The last sign of life of a background process, shared by every host through the
    database: each qcluster worker beats every few seconds, the sweep each time it ran."""

    name = models.CharField(max_length=200, primary_key=True)
    kind = models.CharField(max_length=16, choices=HeartbeatKind.choices)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "-seen_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=HeartbeatKind.values), name="heartbeat_kind_valid"
            )
        ]

    def __str__(self):
        return f"{self.name} at {self.seen_at:%H:%M:%S}"

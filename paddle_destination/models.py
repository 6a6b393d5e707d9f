from django.db import models


class RateLimitSlot(models.Model):
    """The shared state of one rate limiter (one Paddle credential): the earliest moment the
    next request may go. Every worker reserves its slot by moving it on, in one row lock."""

    key = models.CharField(max_length=100, primary_key=True)
    # Seconds since the epoch (wall clock, shared by every worker process on every host).
    next_slot_at = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Rate limit {self.key}"


class CircuitState(models.TextChoices):
    CLOSED = "CLOSED", "Closed: Paddle answers"
    OPEN = "OPEN", "Open: Paddle is unavailable"


class PaddleCircuit(models.Model):
    """The circuit breaker of one Paddle host (scheme://host:port), shared by every worker: it
    opens after PADDLE_CIRCUIT_FAILURES failed requests in a row (5xx, timeouts, connection
    errors); while open, requests wait instead of going out, except one probe every
    PADDLE_CIRCUIT_PROBE_SECONDS, whose answer closes it again."""

    host = models.CharField(max_length=200, primary_key=True)
    state = models.CharField(
        max_length=8, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    next_probe_at = models.DateTimeField(null=True, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=CircuitState.values), name="paddlecircuit_state_valid"
            )
        ]

    def __str__(self):
        return f"{self.host}: {self.get_state_display()}"

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


class SentBusiness(models.Model):
    """What the hub last sent Paddle for a business (name, company number, tax number), as a
    digest, and the customer it is under: a bill for a known business then costs no look-up,
    an account whose values changed in m3ter gets its Paddle business updated, and one now
    billed to another Paddle customer gets a business under that customer."""

    business_id = models.CharField(max_length=50, primary_key=True)
    customer_id = models.CharField(max_length=50)
    digest = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Business {self.business_id}"

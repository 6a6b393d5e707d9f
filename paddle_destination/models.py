from django.db import models


class RateLimitSlot(models.Model):
    """The shared state of one rate limiter (one Paddle API host): the earliest moment the
    next request may go. Every worker reserves its slot by moving it on, in one row lock."""

    key = models.CharField(max_length=100, primary_key=True)
    # Seconds since the epoch (wall clock, shared by every worker process on every host).
    next_slot_at = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Rate limit {self.key}"


class PaddleAccountLink(models.Model):
    """What the hub has made sure of, in Paddle, for one account under one integration: that
    `customer_id` is active and named, and that `address_id` is active and holds the account's
    address as it was when its digest was taken. A bill for an account whose customer and
    address are still what is recorded here costs Paddle one request (the transaction); anything
    else is checked and brought up to date first."""

    integration = models.ForeignKey(
        "integrations.IntegrationConfiguration", on_delete=models.CASCADE, related_name="+"
    )
    account_m3ter_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=50)
    address_id = models.CharField(max_length=50, blank=True)
    # sha256 of the address fields sent to Paddle; empty when no address was checked.
    address_digest = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "account_m3ter_id"], name="paddle_account_link_unique"
            )
        ]

    def __str__(self):
        return f"Account {self.account_m3ter_id} → {self.customer_id}"

    def vouches_for_customer(self, customer_id: str) -> bool:
        return bool(customer_id) and customer_id == self.customer_id

    def vouches_for_address(self, address_id: str, digest: str) -> bool:
        """`address_id` is the address checked for this customer, and still holds the account's
        address with `digest`."""
        return bool(address_id) and (address_id, digest) == (self.address_id, self.address_digest)

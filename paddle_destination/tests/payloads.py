"""The JSON body the SDK sends for a bill, for tests that check what reaches Paddle."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from paddle_billing import Client

from paddle_destination.invoice import invoice_build


def invoice_payload(
    *,
    bill,
    line_items: Iterable,
    integration,
    customer_id: str,
    address_id: str | None,
    product_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /transactions for this bill, exactly as the SDK sends it."""
    invoice = invoice_build(
        bill=bill, line_items=line_items, integration=integration, product_ids=product_ids
    )
    operation = invoice.create_operation(customer_id=customer_id, address_id=address_id)
    return json.loads(Client.serialize_json_payload(operation))

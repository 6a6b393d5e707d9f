"""Why a bill cannot become a Paddle invoice: every reason at once, each with what to do.

Pure; invoice_build raises them as one PaddleProblem(UNSUPPORTED_BILL) before any request.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from paddle_destination import invoice_text as text


def bill_refusals(
    *,
    currency: str,
    all_items: Sequence,
    charges: Sequence,
    negatives: Sequence,
    crediting: bool,
    max_items: int,
    currencies: Sequence[str],
) -> tuple[list[str], list[str]]:
    """(problems, hints); both empty when the bill can be sent.

    `charges` are the lines that become items; `negatives` the kept lines below zero (credits
    when `crediting`, refused otherwise).
    """
    problems, hints = [], []
    if currency not in currencies:
        problems.append(
            f"The bill is in {currency or 'no currency'}; Paddle invoices (manual collection) "
            f"accept only {', '.join(currencies)}."
        )
        hints.append("Bill this account in USD, EUR or GBP in m3ter.")

    if negatives and not crediting:
        listed = "; ".join(
            f"line {li.sequence} ({text.type_label(li.line_item_type)}) {text.label(li)!r} "
            f"subtotal {text.number(li.subtotal)}"
            for li in negatives
        )
        types = ", ".join(dict.fromkeys(text.type_label(li.line_item_type) for li in negatives))
        problems.append(f"Paddle invoices cannot have negative lines: {listed}.")
        hints.append(
            f"Add {types} to the integration's Excluded Line Item Types to send this bill "
            "without those lines, or set its Negative Line Items to Credit to send them as a "
            "discount on the invoice."
        )
    credited = -sum((li.subtotal for li in negatives), Decimal(0))
    charged = sum((li.subtotal for li in charges), Decimal(0))
    if crediting and credited > charged:
        problems.append(
            f"The bill's credits ({credited:f}) exceed its charges ({charged:f}); a Paddle "
            "invoice cannot have a negative total."
        )
        hints.append("Settle this bill's credit outside Paddle, or leave this bill out.")

    if not charges:
        if all_items:
            left = "are excluded by the integration's Excluded Line Item Types"
            if crediting and negatives:
                left = "are credits or " + left.removeprefix("are ")
            problems.append(
                f"All {len(all_items)} line items {left}; a Paddle invoice needs at least one item."
            )
            hints.append("Exclude fewer line item types, or leave this bill out.")
        else:
            problems.append("The bill has no line items; a Paddle invoice needs at least one.")
    elif len(charges) > max_items:
        problems.append(
            f"The bill has {len(charges)} line items to send; Paddle accepts at most {max_items} "
            "per invoice."
        )
        hints.append(
            "Edit the integration and add line item types this invoice does not need to Excluded "
            "Line Item Types, to bring it to 100 or fewer."
        )
    return problems, hints

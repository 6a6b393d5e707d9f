"""Realistic demo data in m3ter's API shape, fed through the same import as real data.

Deterministic: the same ids every time, so seeding twice changes nothing."""

import datetime
import random
import uuid
from decimal import Decimal

from m3terdata.models import LineItemType

NAMESPACE = uuid.UUID("6f1c2a4e-4d0b-4c55-9d0e-6a3c1f1e9b10")

COMPANIES = [
    ("Acme Analytics", "US", "USD"),
    ("Borealis Data", "CA", "USD"),
    ("Cobalt Cloud", "GB", "GBP"),
    ("Delta Dynamics", "DE", "EUR"),
    ("Evergreen AI", "US", "USD"),
    ("Fjord Systems", "NO", "EUR"),
    ("Gamma Grid", "FR", "EUR"),
    ("Helix Health", "GB", "GBP"),
    ("Indigo IoT", "US", "USD"),
    ("Juniper Labs", "IE", "EUR"),
    ("Kestrel Logistics", "GB", "GBP"),
    ("Lumen Media", "US", "USD"),
    ("Meridian Maps", "ES", "EUR"),
    ("Nimbus Networks", "US", "USD"),
    ("Orion Ops", "GB", "GBP"),
    ("Pulsar Pay", "NL", "EUR"),
    ("Quartz Quant", "US", "USD"),
    ("Rivet Robotics", "DE", "EUR"),
    ("Sable Security", "GB", "GBP"),
    ("Tidal Telecom", "US", "USD"),
    ("Umbra Underwriting", "IT", "EUR"),
    ("Vertex Vision", "US", "USD"),
    ("Willow Wealth", "GB", "GBP"),
    ("Xenon Exchange", "US", "USD"),
    ("Yarrow Yield", "BE", "EUR"),
    ("Zephyr Zones", "US", "USD"),
    ("Atlas Audio", "GB", "GBP"),
    ("Beacon Bio", "US", "USD"),
    ("Cinder Compute", "FR", "EUR"),
    ("Kyoto Kaizen", "JP", "JPY"),
]

CITIES = {
    "US": ("Austin", "TX", "78701"),
    "CA": ("Toronto", "ON", "M5H 2N2"),
    "GB": ("London", "", "EC1A 1BB"),
    "DE": ("Berlin", "", "10115"),
    "NO": ("Oslo", "", "0150"),
    "FR": ("Paris", "", "75001"),
    "IE": ("Dublin", "", "D02 X285"),
    "ES": ("Madrid", "", "28001"),
    "NL": ("Amsterdam", "", "1012"),
    "IT": ("Milan", "", "20121"),
    "BE": ("Brussels", "", "1000"),
    "JP": ("Kyoto", "", "600-8216"),
}

NEGATIVE_TYPES = {
    LineItemType.CREDIT_DEDUCTION,
    LineItemType.USAGE_CREDIT,
    LineItemType.COUNTER_ADJUSTMENT_CREDIT,
    LineItemType.MINIMUM_SPEND_REFUND,
    LineItemType.CREDIT_MEMO,
}

PRODUCTS = [("Platform", "platform"), ("Data API", "data-api"), ("Storage", "storage")]


def _id(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def _account(index, name, country, currency):
    code = name.lower().replace(" ", "-")
    account = {
        "id": _id("account", code),
        "version": 1,
        "code": code,
        "name": name,
        "emailAddress": f"billing@{code}.example.com",
        "currency": currency,
        "customFields": {"country": "UK" if country == "GB" else country, "tier": index % 3 + 1},
        "daysBeforeBillDue": 30,
    }
    # Every third account is a company with a VAT number: its invoices go to a Paddle business.
    if index % 3 == 0:
        account["customFields"]["companyName"] = f"{name} Ltd"
        account["customFields"]["taxNumber"] = f"{country}{100000000 + index}"
    # Every fifth account has no address, so its invoices stay drafts in Paddle.
    if index % 5 != 4:
        city, region, post_code = CITIES[country]
        account["address"] = {
            "addressLine1": f"{index + 1} Market Street",
            "locality": city,
            "region": region,
            "postCode": post_code,
            "country": country,
        }
    return account


def _line(rng, bill_id, position, line_type, start, end, currency):
    product_name, product_code = PRODUCTS[position % len(PRODUCTS)]
    quantity = Decimal(rng.randrange(1, 50_000))
    price = Decimal(rng.randrange(1, 900)) / Decimal(1000)
    subtotal = (quantity * price).quantize(Decimal("0.001"))
    if line_type in NEGATIVE_TYPES:
        subtotal = -min(subtotal, Decimal("25"))
    return {
        "id": _id("line", bill_id, position),
        "lineItemType": line_type,
        "description": f"{line_type.label} — {product_name}",
        "quantity": float(quantity),
        "units": float(quantity),
        "unit": "requests",
        "subtotal": float(subtotal),
        "currency": currency,
        "averageUnitPrice": float(price),
        "conversionRate": 1,
        "convertedSubtotal": float(subtotal),
        "productId": _id("product", product_code),
        "productName": product_name,
        "productCode": product_code,
        "aggregationId": _id("aggregation", product_code, line_type),
        "servicePeriodStartDate": f"{start.isoformat()}T00:00:00Z",
        "servicePeriodEndDate": f"{end.isoformat()}T00:00:00Z",
        "sequenceNumber": position,
    }


def _bill(rng, account, month_start, line_types, *, status="PENDING", currency=None):
    next_month = (month_start + datetime.timedelta(days=32)).replace(day=1)
    bill_id = _id("bill", account["id"], month_start)
    currency = currency or account["currency"]
    lines = [
        _line(rng, bill_id, position, line_type, month_start, next_month, currency)
        for position, line_type in enumerate(line_types)
    ]
    return {
        "id": bill_id,
        "version": 1,
        "accountId": account["id"],
        "accountCode": account["code"],
        "startDate": month_start.isoformat(),
        "endDate": next_month.isoformat(),
        "billDate": next_month.isoformat(),
        "dueDate": (next_month + datetime.timedelta(days=30)).isoformat(),
        "billingFrequency": "MONTHLY",
        "currency": currency,
        "billTotal": float(sum(Decimal(str(line["subtotal"])) for line in lines)),
        "locked": False,
        "status": status,
        "billJobId": _id("billjob", month_start),
        "purchaseOrderNumber": f"PO-{account['code'][:6].upper()}-{month_start:%Y%m}",
        "lastCalculatedDate": f"{next_month.isoformat()}T02:00:00Z",
        "lineItems": lines,
    }


def demo_payload(*, months: int = 2, today: datetime.date | None = None) -> dict:
    rng = random.Random(20261124)
    today = today or datetime.date.today()
    first_of_month = today.replace(day=1)
    month_starts = []
    cursor = first_of_month
    for _ in range(months):
        cursor = (cursor - datetime.timedelta(days=1)).replace(day=1)
        month_starts.append(cursor)

    accounts = [_account(i, *company) for i, company in enumerate(COMPANIES)]
    positive_types = [t for t in LineItemType if t not in NEGATIVE_TYPES]
    bills = []
    for index, account in enumerate(accounts):
        for month_index, month_start in enumerate(month_starts):
            # Most bills have a few positive lines; some carry credits; every type appears.
            types = rng.sample(positive_types, k=3)
            if index % 4 == 0:
                types.append(rng.choice(sorted(NEGATIVE_TYPES)))
            status = "APPROVED" if month_index > 0 or index % 3 == 0 else "PENDING"
            bills.append(_bill(rng, account, month_start, types, status=status))
    # Every one of the 19 line item types, on one bill.
    bills.append(
        _bill(rng, accounts[0], month_starts[0] - datetime.timedelta(days=62), list(LineItemType))
    )
    # A bill Paddle cannot take in one invoice: more than 100 lines.
    bills.append(
        _bill(
            rng,
            accounts[1],
            month_starts[0] - datetime.timedelta(days=31),
            [LineItemType.USAGE] * 120,
        )
    )

    mappings = [
        {
            "id": _id("mapping", account["id"]),
            "m3terEntity": "Account",
            "m3terId": account["id"],
            "externalSystem": "Paddle",
            "externalTable": "Customer",
            "externalId": "ctm_" + _id("customer", account["id"]).replace("-", "")[:26],
        }
        for account in accounts[:6]
    ]
    return {"accounts": accounts, "bills": bills, "externalMappings": mappings}

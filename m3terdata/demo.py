"""Realistic demo data in m3ter's API shape, fed through the same import as real data: the
customers of a usage-billed SaaS company, each line with a unit that fits its type, amounts in
the currency's minor units (no decimals on JPY), credits of varied size, calendar-month periods
and purchase orders where customers use them.

Deterministic: the same ids and amounts every time, so seeding twice changes nothing."""

import datetime
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal

from m3terdata.models import LineItemType

NAMESPACE = uuid.UUID("6f1c2a4e-4d0b-4c55-9d0e-6a3c1f1e9b10")

# (name, country, currency, purchase order format or "" for customers who use none)
COMPANIES = [
    ("Northwind Analytics Inc.", "US", "USD", "PO-{year}-{n:04d}"),
    ("Brightline Health", "US", "USD", ""),
    ("Copperleaf Software", "CA", "USD", "CL{n:06d}"),
    ("Harbour & Finch Ltd", "GB", "GBP", "HF/{year}/{n:03d}"),
    ("Vogel Logistik GmbH", "DE", "EUR", "45{n:08d}"),
    ("Evergreen Learning", "US", "USD", ""),
    ("Atelier Lumière SAS", "FR", "EUR", "BC-{n:05d}"),
    ("Kestrel Freight Ltd", "GB", "GBP", "PO{n:06d}"),
    ("Tulip Payments B.V.", "NL", "EUR", ""),
    ("Liffey Data Ltd", "IE", "EUR", "LD-PO-{n:04d}"),
    ("Pinecrest Retail Group", "US", "USD", "PO-{year}-{n:04d}"),
    ("Solano Movilidad S.L.", "ES", "EUR", ""),
    ("Redwood Security", "US", "USD", "RS-{n:05d}"),
    ("Thistle Insurance plc", "GB", "GBP", "TI{year}{n:04d}"),
    ("Fenice Assicurazioni S.p.A.", "IT", "EUR", "ODA {n:06d}"),
    ("Sakura Robotics K.K.", "JP", "JPY", "SR-{n:05d}"),
    ("Maple Ridge Media", "CA", "USD", ""),
    ("Bluefin Marketplaces", "US", "USD", "PO-{year}-{n:04d}"),
    ("Oakhaven Property Tech", "GB", "GBP", ""),
    ("Nordlicht Energie AG", "DE", "EUR", "45{n:08d}"),
    ("Quayside Travel Ltd", "GB", "GBP", "QT-{n:05d}"),
    ("Sequoia Clinical", "US", "USD", ""),
    ("Brabant Foods N.V.", "BE", "EUR", "BF/{year}/{n:04d}"),
    ("Hokuto Games K.K.", "JP", "JPY", ""),
    ("Lakeshore Credit Union", "US", "USD", "LCU-{n:06d}"),
    ("Albion Legal LLP", "GB", "GBP", ""),
    ("Cascadia Outdoor Co.", "US", "USD", "PO-{year}-{n:04d}"),
    ("Fjordline Shipping AS", "NO", "EUR", "FS{n:07d}"),
    ("Vantage Ad Systems", "US", "USD", ""),
    ("Meridian Wealth Partners", "GB", "GBP", "MWP-{n:04d}"),
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
    "NL": ("Amsterdam", "", "1012 JS"),
    "IT": ("Milan", "", "20121"),
    "BE": ("Brussels", "", "1000"),
    "JP": ("Kyoto", "", "600-8216"),
}
STREETS = ["Market Street", "King Street", "Harbour Road", "Station Road", "Main Street"]

# Digits after the decimal point (ISO 4217 minor units) of the demo's currencies.
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
# Roughly how many of the currency buy one US dollar's worth, to keep prices plausible.
PRICE_SCALE = {"USD": Decimal(1), "EUR": Decimal("0.92"), "GBP": Decimal("0.79"), "JPY": 150}

# line item type → (product, description, unit, quantity range, unit price in USD). A quantity
# range of (1, 1) is a flat fee; credits are negative lines (NEGATIVE_TYPES).
LINE_KINDS = {
    LineItemType.STANDING_CHARGE: ("Platform", "Platform subscription", "month", (1, 1), "499"),
    LineItemType.USAGE: ("Data API", "API requests", "1,000 requests", (40, 9000), "0.85"),
    LineItemType.COUNTER_RUNNING_TOTAL_CHARGE: ("Platform", "Active seats", "seat", (5, 240), "29"),
    LineItemType.COUNTER_ADJUSTMENT_DEBIT: (
        "Platform", "Seats added mid-period (prorated)", "seat", (1, 12), "14.5",
    ),
    LineItemType.COUNTER_ADJUSTMENT_CREDIT: (
        "Platform", "Seats removed mid-period (prorated)", "seat", (1, 8), "14.5",
    ),
    LineItemType.USAGE_CREDIT: ("Data API", "Free request allowance", "1,000 requests",
                                (50, 500), "0.85"),
    LineItemType.MINIMUM_SPEND: ("Platform", "Minimum monthly spend top-up", "commitment",
                                 (1, 1), "250"),
    LineItemType.MINIMUM_SPEND_REFUND: ("Platform", "Minimum spend refund", "commitment",
                                        (1, 1), "120"),
    LineItemType.CREDIT_DEDUCTION: ("Platform", "Service credit applied", "credit", (1, 1), "75"),
    LineItemType.MANUAL_ADJUSTMENT: ("Platform", "Manual adjustment: extra support hours",
                                     "hour", (2, 10), "150"),
    LineItemType.CREDIT_MEMO: ("Platform", "Credit memo: outage on the 14th", "memo",
                               (1, 1), "200"),
    LineItemType.DEBIT_MEMO: ("Platform", "Debit memo: invoice correction", "memo", (1, 1), "95"),
    LineItemType.COMMITMENT_CONSUMED: ("Storage", "Prepaid commitment drawn down", "GB-month",
                                       (200, 5000), "0.023"),
    LineItemType.COMMITMENT_FEE: ("Platform", "Annual commitment, monthly instalment",
                                  "instalment", (1, 1), "1250"),
    LineItemType.OVERAGE_SURCHARGE: ("Data API", "Requests above plan", "1,000 requests",
                                     (10, 900), "1.10"),
    LineItemType.OVERAGE_USAGE: ("Storage", "Storage above plan", "GB-month", (50, 2000),
                                 "0.03"),
    LineItemType.BALANCE_CONSUMED: ("Data API", "Prepaid balance used", "1,000 requests",
                                    (100, 3000), "0.80"),
    LineItemType.BALANCE_FEE: ("Data API", "Prepaid balance top-up", "top-up", (1, 1), "500"),
    LineItemType.AD_HOC: ("Services", "Onboarding workshop", "session", (1, 2), "800"),
}  # fmt: skip

NEGATIVE_TYPES = {
    LineItemType.CREDIT_DEDUCTION,
    LineItemType.USAGE_CREDIT,
    LineItemType.COUNTER_ADJUSTMENT_CREDIT,
    LineItemType.MINIMUM_SPEND_REFUND,
    LineItemType.CREDIT_MEMO,
}

# What a typical month's bill carries, beyond the credits some customers get.
USUAL_TYPES = [
    LineItemType.STANDING_CHARGE,
    LineItemType.USAGE,
    LineItemType.COUNTER_RUNNING_TOTAL_CHARGE,
    LineItemType.OVERAGE_USAGE,
    LineItemType.COMMITMENT_FEE,
    LineItemType.BALANCE_CONSUMED,
]


def _id(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def _code(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return "-".join(words[:2])


def _money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_UP)


def _account(index, name, country, currency, _po_format):
    code = _code(name)
    account = {
        "id": _id("account", code),
        "version": 1,
        "code": code,
        "name": name,
        "emailAddress": f"accounts.payable@{code.replace('-', '')}.example.com",
        "currency": currency,
        "customFields": {"country": "UK" if country == "GB" else country, "tier": index % 3 + 1},
        "daysBeforeBillDue": (14, 30, 45)[index % 3],
    }
    # Every third account is a company with a VAT number: its invoices go to a Paddle business.
    if index % 3 == 0:
        account["customFields"]["companyName"] = f"{name} Ltd"
        account["customFields"]["taxNumber"] = f"{country}{100000000 + index}"
    # Every fifth account has no address, so its invoices stay drafts in Paddle.
    if index % 5 != 4:
        city, region, post_code = CITIES[country]
        account["address"] = {
            "addressLine1": f"{index * 7 % 180 + 1} {STREETS[index % len(STREETS)]}",
            "locality": city,
            "region": region,
            "postCode": post_code,
            "country": country,
        }
    return account


def _line(rng, bill_id, position, line_type, start, end, currency, size):
    product_name, description, unit, (low, high), usd_price = LINE_KINDS[line_type]
    if low == high:
        quantity = Decimal(low)
    else:
        quantity = Decimal(max(low, round(rng.randint(low, high) * size)))
    usd = Decimal(usd_price)
    if line_type in NEGATIVE_TYPES:
        usd *= Decimal(rng.choice(["0.4", "1", "1.6", "2.5", "4"]))  # credits vary in size
    # Unit prices may be finer than the currency (m3ter's are); the line's amount is not.
    price = (usd * PRICE_SCALE[currency]).quantize(
        Decimal("0.0001") if MINOR_UNITS[currency] else Decimal(1), rounding=ROUND_HALF_UP
    )
    subtotal = _money(quantity * price, currency)
    if line_type in NEGATIVE_TYPES:
        subtotal = -subtotal
    product_code = product_name.lower().replace(" ", "-")
    return {
        "id": _id("line", bill_id, position),
        "lineItemType": line_type,
        "description": description,
        "quantity": float(quantity),
        "units": float(quantity),
        "unit": unit,
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


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _bill(rng, index, account, month_start, line_types, *, status="PENDING"):
    next_month = _next_month(month_start)
    bill_id = _id("bill", account["id"], month_start)
    currency = account["currency"]
    # Bigger customers use more of everything.
    size = (0.2, 1, 3)[index % 3] * rng.uniform(0.6, 1.4)
    lines = [
        _line(rng, bill_id, position, line_type, month_start, next_month, currency, size)
        for position, line_type in enumerate(line_types)
    ]
    po_format = COMPANIES[index][3]
    calculated = datetime.datetime.combine(next_month, datetime.time(2)) + datetime.timedelta(
        minutes=rng.randrange(0, 180)
    )
    return {
        "id": bill_id,
        "version": 1,
        "accountId": account["id"],
        "accountCode": account["code"],
        "startDate": month_start.isoformat(),
        "endDate": next_month.isoformat(),
        "billDate": next_month.isoformat(),
        "dueDate": (next_month + datetime.timedelta(days=account["daysBeforeBillDue"])).isoformat(),
        "billingFrequency": "MONTHLY",
        "currency": currency,
        "billTotal": float(sum(Decimal(str(line["subtotal"])) for line in lines)),
        "locked": False,
        "status": status,
        "billJobId": _id("billjob", month_start),
        # A customer's purchase order covers a year of bills.
        "purchaseOrderNumber": po_format.format(
            year=month_start.year, n=int(_id("po", account["code"], month_start.year)[:6], 16)
        )
        if po_format
        else "",
        "lastCalculatedDate": f"{calculated.isoformat()}Z",
        "lineItems": lines,
    }


def _months_before(day: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the `count` whole months before `day`'s month, newest first."""
    starts, cursor = [], day.replace(day=1)
    for _ in range(count):
        cursor = (cursor - datetime.timedelta(days=1)).replace(day=1)
        starts.append(cursor)
    return starts


def demo_payload(*, months: int = 2, today: datetime.date | None = None) -> dict:
    rng = random.Random(20261124)
    month_starts = _months_before(today or datetime.date.today(), months + 2)
    recent, older = month_starts[:months], month_starts[months:]

    accounts = [_account(i, *company) for i, company in enumerate(COMPANIES)]
    bills = []
    for index, account in enumerate(accounts):
        for month_index, month_start in enumerate(recent):
            types = rng.sample(USUAL_TYPES, k=rng.randint(2, 4))
            # About a third of the customers get a credit or a memo in a month.
            if rng.random() < 0.35:
                types.append(rng.choice(sorted(NEGATIVE_TYPES)))
            if rng.random() < 0.15:
                types.append(rng.choice([LineItemType.AD_HOC, LineItemType.MANUAL_ADJUSTMENT]))
            status = "APPROVED" if month_index > 0 or index % 3 == 0 else "PENDING"
            bills.append(_bill(rng, index, account, month_start, types, status=status))
    # Every one of the 19 line item types, on one bill.
    bills.append(_bill(rng, 0, accounts[0], older[0], list(LineItemType), status="APPROVED"))
    # A bill Paddle cannot take in one invoice: more than 100 lines (usage per data centre).
    bills.append(
        _bill(rng, 2, accounts[2], older[1], [LineItemType.USAGE] * 120, status="APPROVED")
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

import datetime
import uuid
from decimal import Decimal

import factory

from m3terdata.models import Account, Bill, BillStatus, ExternalMapping, LineItem, LineItemType


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    m3ter_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    code = factory.Sequence(lambda n: f"acct-{n:04d}")
    name = factory.Faker("company")
    email = factory.LazyAttribute(lambda o: f"{o.code}@example.com")
    currency = "USD"
    custom_fields = factory.LazyFunction(dict)
    address = factory.LazyFunction(
        lambda: {
            "addressLine1": "1 Main Street",
            "locality": "Springfield",
            "region": "IL",
            "postCode": "62701",
            "country": "US",
        }
    )


class BillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bill

    m3ter_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    version = 1
    account = factory.SubFactory(AccountFactory)
    status = BillStatus.PENDING
    bill_date = datetime.date(2026, 11, 1)
    due_date = datetime.date(2026, 12, 1)
    start_date = datetime.date(2026, 10, 1)
    end_date = datetime.date(2026, 11, 1)
    currency = "USD"
    total = Decimal("0")
    billing_frequency = "MONTHLY"


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    bill = factory.SubFactory(BillFactory)
    m3ter_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    sequence = factory.Sequence(lambda n: n)
    line_item_type = LineItemType.USAGE
    description = "API calls"
    quantity = Decimal("1000")
    units = Decimal("1000")
    unit = "calls"
    subtotal = Decimal("12.50")
    # What the import fills when m3ter leaves them out.
    currency = factory.LazyAttribute(lambda o: o.bill.currency)
    converted_subtotal = factory.LazyAttribute(lambda o: o.subtotal)
    average_unit_price = factory.LazyAttribute(
        lambda o: o.subtotal / o.quantity if o.quantity else Decimal(0)
    )
    product_name = "Platform"
    aggregation_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    service_period_start = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    service_period_end = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


class ExternalMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalMapping

    m3ter_entity = "Account"
    m3ter_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    external_system = "Paddle"
    external_table = "Customer"
    external_id = factory.Sequence(lambda n: f"ctm_{n:026d}")

import pytest
from django.db import IntegrityError, transaction

from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import BillFactory, ExternalMappingFactory, LineItemFactory

pytestmark = pytest.mark.django_db


def test_a_bill_cannot_hold_two_lines_at_the_same_position():
    bill = BillFactory()
    LineItemFactory(bill=bill, sequence=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        LineItemFactory(bill=bill, sequence=0)


def test_one_global_mapping_per_entity_system_and_table():
    mapping = ExternalMappingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalMappingFactory(m3ter_id=mapping.m3ter_id, external_id="ctm_other")


def test_an_integration_may_have_its_own_mapping_beside_the_global_one():
    mapping = ExternalMappingFactory()
    integration = IntegrationConfigurationFactory()
    ExternalMappingFactory(m3ter_id=mapping.m3ter_id, integration=integration)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalMappingFactory(m3ter_id=mapping.m3ter_id, integration=integration)

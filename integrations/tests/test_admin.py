"""The integration's admin page: the same words and rules as the configuration pages."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from integrations.tests.factories import IntegrationConfigurationFactory

pytestmark = pytest.mark.django_db


def test_excluded_line_item_types_are_ticked_by_name_not_typed_as_constants(client):
    client.force_login(User.objects.create_superuser("root", password=None))
    integration = IntegrationConfigurationFactory(excluded_line_item_types=["CREDIT_DEDUCTION"])
    url = reverse("admin:integrations_integrationconfiguration_change", args=[integration.pk])

    page = client.get(url).content.decode()

    assert re.search(
        r'type="checkbox" name="excluded_line_item_types" value="CREDIT_DEDUCTION"[^>]* checked',
        page,
    )
    assert "Minimum spend</label>" in page and "[&quot;CREDIT_DEDUCTION&quot;]" not in page
    form = {
        "name": integration.name,
        "entity_type": integration.entity_type,
        "destination": integration.destination,
        "account_ids": "[]",
        "restricted_account_ids": "[]",
        "excluded_line_item_types": ["MINIMUM_SPEND", "MINIMUM_SPEND_REFUND"],
        "sort_line_items_by": "NONE",
        "tax_mode": "EXTERNAL",
        "tax_category": "standard",
        "negative_line_items": "REFUSE",
        "business_name_field": "companyName",
        "tax_number_field": "taxNumber",
        "company_number_field": "companyNumber",
        "enabled": "on",
    }
    assert client.post(url, form).status_code == 302
    integration.refresh_from_db()
    assert integration.excluded_line_item_types == ["MINIMUM_SPEND", "MINIMUM_SPEND_REFUND"]

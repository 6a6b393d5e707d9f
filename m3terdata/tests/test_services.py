"""The mirror's own writes of external mappings (the API and Paddle deliveries call these)."""

import pytest
from django.core.exceptions import ValidationError

from m3terdata.models import ExternalMapping
from m3terdata.services import (
    MirrorVersionConflict,
    external_mapping_create,
    external_mapping_delete,
    external_mapping_update,
)
from m3terdata.tests.factories import ExternalMappingFactory

pytestmark = pytest.mark.django_db


def mapping_values(**overrides):
    return {
        "m3ter_entity": "Account",
        "m3ter_id": "acc-1",
        "external_system": "Paddle",
        "external_table": "Customer",
        "external_id": "ctm_1",
        **overrides,
    }


def test_external_mapping_create_starts_at_version_one_whatever_is_sent():
    mapping = external_mapping_create(values=mapping_values(version=7))
    assert mapping.version == 1


def test_external_mapping_create_refuses_a_second_mapping_of_the_same_entity():
    external_mapping_create(values=mapping_values())
    with pytest.raises(ValidationError) as caught:
        external_mapping_create(values=mapping_values(external_id="ctm_2"))
    assert "exists already" in " ".join(caught.value.messages)
    assert ExternalMapping.objects.count() == 1


def test_external_mapping_update_counts_the_version_up():
    mapping = ExternalMappingFactory()
    updated = external_mapping_update(
        mapping=mapping,
        values=mapping_values(m3ter_id=mapping.m3ter_id, external_id="ctm_new"),
        expected_version=1,
    )
    assert (updated.external_id, updated.version) == ("ctm_new", 2)


def test_external_mapping_update_refuses_a_stale_version():
    mapping = ExternalMappingFactory()
    ExternalMapping.objects.filter(pk=mapping.pk).update(version=2)
    with pytest.raises(MirrorVersionConflict) as caught:
        external_mapping_update(mapping=mapping, values=mapping_values(), expected_version=1)
    assert caught.value.current_version == 2


def test_external_mapping_delete_removes_it():
    mapping = ExternalMappingFactory()
    external_mapping_delete(mapping=mapping)
    assert not ExternalMapping.objects.exists()

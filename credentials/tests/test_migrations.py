"""Names became unique: credentials that shared one before keep working under numbered names."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from credentials.models import IntegrationCredential

BEFORE = [("credentials", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_credentials_sharing_a_name_are_numbered_before_names_become_unique():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_model = executor.loader.project_state(BEFORE).apps.get_model(
        "credentials", "IntegrationCredential"
    )
    for name in ["Main", "Other", "Main", "Main"]:
        old_model.objects.create(
            name=name, destination="PADDLE", api_key_encrypted="x", api_key_hint="…x"
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    names = sorted(IntegrationCredential.objects.values_list("name", flat=True))
    assert names == ["Main", "Main (2)", "Main (3)", "Other"]

"""A production start without its secrets stops with a message naming what is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SETTINGS_VARIABLES = ("SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS", "DEBUG")


def start_django(**variables):
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_a_required_variable(missing, tmp_path):
    given = {
        "SECRET_KEY": "a-production-secret",
        "ALLOWED_HOSTS": "hub.example.com",
        "FIELD_ENCRYPTION_KEYS": "kqhE3Tq_zcAsrJqaoNA0GN_Ndf4Ra-Q7u4Sn4dcXzX0=",
    }
    del given[missing]
    result = start_django(DEBUG="false", DJANGO_SETTINGS_MODULE="m3terpaddle.settings", **given)
    assert result.returncode != 0
    assert f"The environment variable {missing} is required when DEBUG is off" in result.stderr


def test_development_starts_with_nothing_configured():
    result = start_django(DEBUG="true", DJANGO_SETTINGS_MODULE="m3terpaddle.settings")
    assert result.returncode == 0, result.stderr

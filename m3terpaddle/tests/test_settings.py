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


def documented_production_variables() -> dict:
    """The variables README's "Running behind TLS" block sets, secrets filled in."""
    from cryptography.fernet import Fernet

    readme = (PROJECT / "README.md").read_text()
    block = readme.split("### Running behind TLS", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    variables = dict(
        line.split("=", 1) for line in block.splitlines() if line and not line.startswith("#")
    )
    fillers = {
        "SECRET_KEY": "p" * 20 + "-a-long-random-production-key-" + "q" * 20,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    return {name: fillers.get(name, value) for name, value in variables.items()}


def test_the_documented_production_settings_pass_the_deploy_check():
    variables = documented_production_variables()
    assert variables["HTTPS"] == "true" and variables["DEBUG"] == "false"
    # Only what a production host has: none of the test run's own variables.
    environment = {"PATH": os.environ["PATH"], **variables}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout

"""A production install is `pip install -r requirements.txt`; requirements-dev.txt adds what only
the stand-ins and the tests use. This keeps the split true without a network install: every
product module is imported in a subprocess whose imports of dev-only packages fail, as they
would on a production machine.

Dev-only means: installed because of requirements-dev.txt and not needed by anything that
requirements.txt installs (PyYAML, say, stays importable: drf-spectacular requires it)."""

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(settings.BASE_DIR).resolve()
NOT_PRODUCT = {"standins", "bench", "docs", "static", "templates"}

IMPORT_EVERYTHING = """
import importlib, importlib.abc, json, sys

blocked = set(json.loads(sys.argv[1]))
modules = json.loads(sys.argv[2])


class DevOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ImportError(f"{name} is only in requirements-dev.txt")
        return None


sys.meta_path.insert(0, DevOnly())

import django

django.setup()
failures = {}
for module in modules:
    try:
        importlib.import_module(module)
    except ImportError as error:
        failures[module] = str(error)
try:
    importlib.import_module("standins.paddle.server")
    failures["<blocker>"] = "the stand-in imported though werkzeug is blocked"
except ImportError:
    pass
print(json.dumps(failures))
"""


def requirement_names(path: Path) -> list[Requirement]:
    wanted = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            wanted.append(Requirement(line))
    return wanted


def installed_closure(wanted: list[Requirement]) -> set[str]:
    """Canonical names of the distributions these requirements install, dependencies included."""
    seen: set[str] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in wanted]
    while todo:
        name, extras = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            dependency = Requirement(line)
            if dependency.marker and not any(
                dependency.marker.evaluate({"extra": extra}) for extra in extras | {""}
            ):
                continue
            todo.append((canonicalize_name(dependency.name), frozenset(dependency.extras)))
    return seen


def dev_only_modules() -> set[str]:
    production = installed_closure(requirement_names(ROOT / "requirements.txt"))
    dev = installed_closure(requirement_names(ROOT / "requirements-dev.txt"))
    dev_only = dev - production
    return {
        module
        for module, distributions in metadata.packages_distributions().items()
        if all(canonicalize_name(d) in dev_only for d in distributions)
    }


def product_modules() -> list[str]:
    """Every module of the apps that a production install runs (the tests are not among them)."""
    modules = []
    for package in sorted(ROOT.glob("*/__init__.py")):
        if package.parent.name in NOT_PRODUCT:
            continue
        for path in sorted(package.parent.rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "tests" in parts or not re.fullmatch(r"[\w.]+", ".".join(parts)):
                continue
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_the_dev_only_packages_are_found():
    blocked = dev_only_modules()
    assert {"werkzeug", "openapi_core", "pytest", "factory"} <= blocked
    # Installed for production too (drf-spectacular needs it), so a product module may use it.
    assert "yaml" not in blocked


@pytest.mark.slow
def test_no_product_module_imports_a_dev_only_package():
    modules = product_modules()
    assert {"paddle_destination.client", "m3terpaddle.settings", "runs.services"} <= set(modules)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_EVERYTHING,
            json.dumps(sorted(dev_only_modules())),
            json.dumps(modules),
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "m3terpaddle.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {}

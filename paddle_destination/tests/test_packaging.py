"""paddle-python-sdk's wheel installs top-level packages named `tests` and `examples` into
site-packages. Nothing of ours may be shadowed by them: every app keeps its tests in an
`<app>/tests/` package (with `__init__.py`), so pytest imports them by their dotted path
(`credentials.tests.test_admin`) and never as a bare `tests`, and no code imports `tests` or
`examples` at top level."""

import importlib
import os
import re
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR).resolve()


def project_test_dirs():
    return sorted(p for p in ROOT.glob("*/tests") if p.is_dir())


def test_every_tests_directory_is_a_package_of_its_app():
    dirs = project_test_dirs()
    assert {d.parent.name for d in dirs} >= {"credentials", "paddle_destination", "m3terdata"}
    for tests_dir in dirs:
        assert (tests_dir / "__init__.py").is_file(), f"{tests_dir} needs an __init__.py"
        module = importlib.import_module(f"{tests_dir.parent.name}.tests")
        assert Path(module.__file__).resolve() == tests_dir / "__init__.py"


def test_this_module_was_collected_under_its_package_name():
    assert __name__ == "paddle_destination.tests.test_packaging"
    assert Path(sys.modules[__name__].__file__).resolve().is_relative_to(ROOT)


def test_a_bare_tests_or_examples_import_is_the_sdks_and_nothing_of_ours_uses_it():
    for name in ("tests", "examples"):
        spec = importlib.util.find_spec(name)
        if spec is not None:
            assert "site-packages" in Path(spec.origin).parts
    bare = re.compile(r"^\s*(from|import)\s+(tests|examples)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in project_sources()
        if bare.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def project_sources():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            d for d in dirs if not d.startswith(".") and d not in ("node_modules", "staticfiles")
        ]
        yield from (Path(folder) / f for f in files if f.endswith(".py"))

"""Suite-wide fixtures. Browser tests drive Debian's Chromium (Playwright never downloads one)."""

import os
import shutil

import pytest

pytest_plugins = ["standins.paddle.pytest_plugin", "standins.m3ter.pytest_plugin"]

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def artifacts_dir():
    """Screenshots the browser tests save (the README shows current ones)."""
    from pathlib import Path

    path = Path(__file__).parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path

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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield


def csp_violations(page) -> list[str]:
    """What Chromium reports on the console as blocked by the Content-Security-Policy, from now on
    (the list grows as the page runs)."""
    found = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


@pytest.fixture(autouse=True)
def _no_csp_violation(request):
    """Every browser test fails when a page it opens breaks the Content-Security-Policy."""
    if "page" not in request.fixturenames:
        yield
        return
    violations = csp_violations(request.getfixturevalue("page"))
    yield
    assert not violations, f"Content-Security-Policy violations: {violations}"

"""Browser tests: the bot and its web pages against the emulator, driven in headless Chromium.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it when missing), driven by
Playwright's Python package with ``executable_path``: no browser download. Without it the
tests are skipped locally and fail in CI, as the PostgreSQL store tests do.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import postgres_required
from tests.e2e.conftest import (  # noqa: F401 (fixtures)
    bot_role_position,
    clock,
    community,
    database_url,
    emulator,
    flywheel,
)
from tests.e2e.web_util import web_config

pytestmark = pytest.mark.e2e

CHROMIUM_ENV = "FLYWHEEL_CHROMIUM"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def chromium_path() -> str | None:
    """``$FLYWHEEL_CHROMIUM``, else Debian's ``chromium`` (or ``chromium-browser``) on PATH."""
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def bot_config(emulator, community, database_url):  # noqa: F811
    return web_config(emulator, community, database_url)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    executable = chromium_path()
    problem = None
    if executable is None:
        problem = "Chromium not found: apt-get install chromium (or set FLYWHEEL_CHROMIUM)"
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        problem = "Playwright is not installed: pip install playwright"
    if problem is not None:
        if postgres_required():  # CI: a missing browser is a failure, never a skip
            pytest.fail(problem)
        pytest.skip(problem)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


#: Set to 1 to refresh the README's screenshots (docs/screenshots); otherwise each run's
#: pictures go to its temporary directory, and a test run leaves the checkout as it was.
REFRESH_ENV = "FLYWHEEL_SCREENSHOTS"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = SCREENSHOTS if os.environ.get(REFRESH_ENV) == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder

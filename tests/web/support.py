"""Driving Debian's Chromium with Playwright against a wcsync served on loopback."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.support import TOKEN
from tests.waiting import PATIENCE

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path(os.environ.get("WCSYNC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}
# A common phone today (iPhone 12 to 15): the brief's width for "compact on a phone".
PHONE_390 = {"width": 390, "height": 844}
# A zone far from UTC, so a time shown in UTC would not pass for local time.
TIMEZONE = "Asia/Tokyo"
LOCALE = "en-GB"
# Playwright's waits (each on a condition) in milliseconds: generous for a loaded machine.
PATIENCE_MS = PATIENCE * 1000


def missing_browser_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium); never download a browser"
    return None


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def new_page(
    browser: Browser, base_url: str, *, viewport: dict[str, int] | None = None
) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=base_url,
        # The real HTTPS store of make test-real has a certificate from the kit's local CA, which
        # Chromium's own trust store does not hold (wcsync and WordPress are given the CA).
        ignore_https_errors=base_url.startswith(("https://127.0.0.1:", "https://localhost:")),
        viewport=viewport or DESKTOP,  # type: ignore[arg-type]
        timezone_id=TIMEZONE,
        locale=LOCALE,
        reduced_motion="reduce",
    )
    context.set_default_timeout(PATIENCE_MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        await context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def sign_in(page: Page, token: str = TOKEN) -> None:
    await page.goto("/admin")
    await page.get_by_label("Admin token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_selector("#overview-title")


async def screenshot(page: Page, name: str, *, docs: bool = False, full_page: bool = True) -> Path:
    """Save under tests/artifacts/. With WCSYNC_DOCS_SCREENSHOTS=1, the ones marked `docs` also
    refresh docs/screenshots/ (the README shows them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    if docs and os.environ.get("WCSYNC_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
    return path


def skip_without_browser() -> pytest.MarkDecorator:
    reason = missing_browser_reason()
    return pytest.mark.skipif(reason is not None, reason=reason or "")


async def wait_for_text(page: Page, selector: str, text: str, timeout: float = PATIENCE_MS) -> None:
    await page.wait_for_function(
        "([selector, text]) => { const el = document.querySelector(selector);"
        " return !!el && el.textContent.includes(text); }",
        arg=[selector, text],
        timeout=timeout,
    )


async def text_of(page: Page, selector: str) -> str:
    return (await page.locator(selector).inner_text()).strip()


def api_headers(requests: list[Any]) -> list[dict[str, str]]:
    return [r.headers for r in requests if "/api/" in r.url]

"""The system's headless Chromium (Debian's `chromium` package), driven with Playwright: the
page's tests watch it as a person would, while a job runs. Playwright's own browser download is
never used: it launches the installed Chromium."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from playwright.sync_api import Page, sync_playwright

from tests.test_bench_report import _chromium

VIEWPORT = {"width": 1400, "height": 1000}


@contextlib.contextmanager
def browser_page(token: str | None = None) -> Iterator[Page]:
    """A fresh page (its own profile); with ``token``, the page's saved API token. Console
    errors and CSP refusals are collected on ``page.problems``."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.problems = problems  # type: ignore[attr-defined]
            if token is not None:
                page.add_init_script(f"sessionStorage.setItem('codegen-token', {token!r})")
            yield page
        finally:
            browser.close()

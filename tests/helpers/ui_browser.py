"""Driving Debian's Chromium with Playwright: launched headless with the flags this machine needs, and a
logged-in tab that keeps every console error.

``Tab.screenshot`` writes ``docs/ui/NAME.png`` (the README's pictures) only when ``MAESTRO_UI_SCREENSHOTS=1``,
so a test run leaves the tree clean: ``MAESTRO_UI_SCREENSHOTS=1 pytest tests/ui`` refreshes them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

from helpers.ui import TOKENS

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "ui"
SCREENSHOTS_ENV = "MAESTRO_UI_SCREENSHOTS"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[object]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Tab:
    """One logged-in browser context; every console error and page error is kept."""

    def __init__(self, browser: object, url: str, role: str, *, token: str | None = None) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 800})  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.url = url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{url}/login")
        self.page.fill("input[name=token]", token or TOKENS[role])
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{url}/providers")

    def open(self, path: str) -> object:
        response = self.page.goto(self.url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def post(self, path: str, body: str, headers: dict[str, str] | None = None) -> int:
        """A POST from the page's own origin (as a forged form or script would send it), with the cookie."""
        return int(
            self.page.evaluate(
                """async ([path, body, headers]) => (await fetch(path, {method: "POST", body,
                    headers: {"content-type": "application/x-www-form-urlencoded", ...headers}})).status""",
                [path, body, headers or {}],
            )
        )

    def wait_until(self, function: str, timeout_s: float = 15.0) -> None:
        """Poll ``function`` in the page until it returns true (``wait_for_function`` evaluates a string, which
        the UI's Content-Security-Policy forbids; ``evaluate`` does not)."""
        deadline = time.monotonic() + timeout_s
        while not self.page.evaluate(function):
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout_s} s: {function}")
            time.sleep(0.05)

    def screenshot(self, name: str, *, full_page: bool = False) -> Path | None:
        """Save the page as ``docs/ui/NAME.png`` when ``$MAESTRO_UI_SCREENSHOTS`` is 1; else nothing is written."""
        if os.environ.get(SCREENSHOTS_ENV) != "1":
            return None
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()

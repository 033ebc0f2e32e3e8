"""What the browser tests share: Debian Chromium through Playwright, screenshots, tab switching."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]
LAPTOP, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 844}
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian chromium is not installed (.ci/run installs it)")


def shot(page, name: str) -> None:
    """A full-page screenshot into ``$CLASSITUNE_SCREENSHOT_DIR`` when set (the README's come from here)."""
    folder = os.environ.get("CLASSITUNE_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def field(page, elem_id: str):
    """A text box by its elem_id (Gradio renders one line as an input or a textarea)."""
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first

"""Issue 30 (9): on a phone (390 px) nothing overprints with 30-character labels. The Predict cards are rendered
from the app's own HTML and CSS in Chromium; Publish's options are checked in the running app."""

from __future__ import annotations

import pytest

from browser import CHROMIUM, FLAGS, PHONE, needs_chromium, tab

pytestmark = needs_chromium
LONG = ["card payment was declined abroad", "card payment was declined at home", "top up by bank transfer failed"]


def result(label: str, score: float) -> dict:
    others = [name for name in LONG if name != label]
    return {"label": label, "confidence": score, "top_k": [{"label": label, "score": score},
                                                           *({"label": o, "score": 0.1} for o in others)]}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        opened = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield opened
        opened.close()


def overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] + 0.5 or b["x"] + b["width"] <= a["x"] + 0.5
                or a["y"] + a["height"] <= b["y"] + 0.5 or b["y"] + b["height"] <= a["y"] + 0.5)


def test_predict_cards_with_long_labels_do_not_overprint_and_the_last_card_shows(browser):
    from space.predict_view import results_html
    from space.style import CSS

    texts = [f"text number {i}: my card payment did not go through" for i in range(6)]
    tuned = [result(LONG[i % 3], 0.8) for i in range(6)]
    base = [result(LONG[(i + 1) % 3], 0.6) for i in range(6)]
    page = browser.new_page(viewport=PHONE)
    page.set_content(f"<html><head><style>{CSS}</style></head><body>{results_html(texts, tuned, base)}</body></html>")
    for row in page.locator(".prediction-results tbody tr").all():
        boxes = [row.locator(f"td.{cell}").bounding_box() for cell in ("tuned", "base", "agree")]
        picks = [row.locator(f"td.{cell} .pick").bounding_box() for cell in ("tuned", "base")]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] + 1 for b in boxes + picks)
        assert not overlaps(boxes[0], boxes[1]) and not overlaps(boxes[1], boxes[2])
        assert not overlaps(picks[0], boxes[1]) and not overlaps(picks[1], boxes[2])  # the text stays in its cell
    last = page.locator(".prediction-results tbody tr").last
    last.scroll_into_view_if_needed()
    assert last.locator("td.text").is_visible() and "text number 5" in last.inner_text()
    page.close()


def test_publish_options_keep_a_readable_width_on_a_phone(browser, live_app):
    page = browser.new_page(viewport=PHONE)
    page.goto(live_app["url"])
    tab(page, "Publish")
    private = page.locator("#publish-private")
    private.wait_for(timeout=30000)
    assert private.bounding_box()["width"] >= 150
    for option in ("LoRA adapter only (default: the merged model)", "Use 3 of my validation texts as widget examples"):
        box = page.get_by_text(option, exact=True).first.bounding_box()
        assert box["height"] < 45 and box["x"] + box["width"] <= PHONE["width"], option  # one or two lines, in view
    page.close()

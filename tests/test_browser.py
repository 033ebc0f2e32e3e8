"""The whole path in a real browser (Playwright + Debian Chromium): data, training, charts, prediction, download.

Screenshots of each tab go to ``$CLASSITUNE_SCREENSHOT_DIR`` when set (the README's come from here).
"""

import csv
import re
from pathlib import Path

import pytest

from browser import CHROMIUM, FLAGS, needs_chromium, shot, tab
from conftest import real_slice
from hostile_corpus import corpus

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def page(live_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.goto(live_app["url"])
        yield page
        browser.close()


def test_upload_shows_report_and_chart(page, shared, tmp_path):
    data = real_slice(shared, "sms_spam", 300, tmp_path / "sms.csv")
    page.locator("#dataset-upload input[type=file]").set_input_files(str(data))
    summary = page.locator("#report-summary")
    summary.get_by_text("Ready to train").wait_for(timeout=60000)
    assert "2 classes" in summary.inner_text()
    page.locator("#class-distribution .js-plotly-plot").wait_for(timeout=30000)


def test_hostile_text_is_shown_as_text(page, tmp_path):
    rows = [("<img src=x onerror=\"window.__pwned=1\">", "a"), ("<script>window.__pwned=1</script>", "b")] * 10
    tracker = "![t](http://127.0.0.1:9/track.png) see https://evil.example"  # Markdown, in a conflict warning
    rows += [(tracker, "a"), (tracker, "b"), ("a label that is HTML", '<a href="http://evil.example/">x</a>')] * 3
    path = tmp_path / "hostile.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    page.locator("#dataset-upload input[type=file]").set_input_files(str(path))
    summary = page.locator("#report-summary")
    summary.get_by_text("Ready to train").wait_for(timeout=60000)
    page.locator("#class-distribution .js-plotly-plot").wait_for(timeout=30000)
    assert page.evaluate("window.__pwned === undefined")
    assert "![t](http://127.0.0.1:9/track.png)" in summary.inner_text()  # shown as typed ...
    assert summary.locator("img, a").count() == 0  # ... not rendered as an image or a link
    assert page.locator("#class-distribution svg a").count() == 0 and "evil.example" not in " ".join(requested)


def test_whole_path(page, live_app, tmp_path):
    page.reload()
    page.locator("#use-example").click()
    page.locator("#report-summary").get_by_text("6 classes").wait_for(timeout=60000)
    page.locator("#class-distribution .js-plotly-plot").wait_for(timeout=30000)
    shot(page, "data")

    tab(page, "Train")
    page.locator("#epochs input, #epochs textarea").first.fill("2")
    page.locator("#start-training").click()
    progress = page.locator("#run-progress[data-state='running']")
    progress.wait_for(timeout=60000)
    page.locator("#run-progress[data-state='succeeded']").wait_for(timeout=300000)
    text = page.locator("#run-progress").inner_text()
    assert "Fine-tuned: accuracy" in text and "quick baseline" in text
    shot(page, "train")

    tab(page, "Metrics")
    page.locator("#loss-chart .js-plotly-plot").wait_for(timeout=30000)
    page.locator("#confusion-matrix").get_by_text("Confusion matrix (counts)").wait_for(timeout=30000)
    page.locator("#baseline-comparison").get_by_text("fine-tuned", exact=True).wait_for(timeout=30000)
    page.locator("#choice-note").get_by_text("quick baseline", exact=False).wait_for(timeout=30000)
    page.locator("#training-label-note").get_by_text("not a verdict", exact=False).wait_for(timeout=30000)
    assert "verdict" in page.locator("#validation-disagreements").inner_text()
    shot(page, "metrics")
    page.locator("#model-choice").get_by_text("quick baseline").click()  # the run now predicts with its baseline
    page.locator("#choice-note").get_by_text("Now using the quick baseline").wait_for(timeout=30000)

    tab(page, "Predict")
    hostile = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=1</script>"
    page.locator("#predict-texts textarea").fill(f"my card still has not arrived\nwhat exchange rate do you use?\n"
                                                 f"{hostile}\n=HYPERLINK(\"http://evil\",\"x\")")
    page.wait_for_timeout(1000)
    page.locator("#classify").click()
    page.locator("#predict-note").get_by_text("4 texts classified").wait_for(timeout=60000)
    table = page.locator("#predictions").inner_text()
    assert "card_arrival" in table and "Base model" in table
    assert "<img src=x" in table and page.evaluate("window.__pwned === undefined")  # shown as text, never run
    with page.expect_download() as info:
        page.locator("#predictions-download a").first.click()
    downloaded = list(csv.reader(Path(info.value.path()).open()))
    assert downloaded[0][:2] == ["text", "tuned label"] and downloaded[1][1] == "card_arrival"
    assert downloaded[4][0].startswith("'=HYPERLINK")  # escaped against formula injection
    assert "This run uses its base model" in page.locator("#predict-note").inner_text()
    shot(page, "predict")

    tab(page, "Publish")
    page.wait_for_function("document.querySelector('#publish-run input')?.value.includes('banking77_sample.csv')",
                           timeout=30000)
    shot(page, "publish")

    page.reload()  # the browser keeps its id: its runs are still listed after a reload
    tab(page, "Train")
    page.wait_for_function("document.querySelector('#your-runs input')?.value.includes('banking77_sample.csv')",
                           timeout=30000)


def test_label_errors_panel_ranks_rows_and_loads_the_cleaned_file(page):
    page.reload()
    page.locator("#use-example").click()
    summary = page.locator("#report-summary")
    summary.get_by_text("6 classes").wait_for(timeout=60000)
    before = int(re.search(r"([\d,]+) usable rows", summary.inner_text()).group(1).replace(",", ""))
    page.locator("#label-errors-panel").get_by_text("Likely label errors").first.click()
    page.locator("#find-label-errors").click()
    note = page.locator("#label-errors-note")
    note.get_by_text("look mislabeled").wait_for(timeout=120000)
    flagged, checked = (int(n.replace(",", "")) for n in re.search(r"About ([\d,]+) of ([\d,]+) rows",
                                                                      note.inner_text()).groups())
    assert checked == before and "not a verdict" in note.inner_text()
    assert flagged > 0 and "suggested_label" in page.locator("#label-errors").inner_text()
    assert "after dropping" in page.locator("#drop-effect").inner_text()  # what would go, before anything goes
    page.locator("#use-cleaned").click()
    summary.get_by_text(f"{before - flagged:,} usable rows").wait_for(timeout=60000)
    page.locator("#back-to-original").click()  # the original is one click away
    summary.get_by_text(f"{before:,} usable rows").wait_for(timeout=60000)


def test_another_browser_cannot_see_or_use_the_runs(page, live_app):
    """A second browser (its own storage, so its own id) sees no runs, and a typed-in run id is refused."""
    tab(page, "Train")
    page.wait_for_function("document.querySelector('#run-id textarea, #run-id input')?.value.length > 20",
                           timeout=30000)
    run_id = page.locator("#run-id textarea, #run-id input").first.input_value()
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})  # its own storage
    try:
        other = context.new_page()
        other.goto(live_app["url"])
        tab(other, "Train")
        other.wait_for_timeout(3000)
        assert "banking77" not in other.locator("#your-runs").inner_text()
        tab(other, "Predict")
        other.locator("#predict-model input").fill(run_id)
        other.locator("#predict-model input").press("Enter")
        other.locator("#predict-texts textarea").fill("my card still has not arrived")
        other.wait_for_timeout(1000)
        other.locator("#classify").click()
        other.get_by_text("was not found among your runs").first.wait_for(timeout=30000)
        assert "card_arrival" not in other.locator("#predictions").inner_text()
    finally:
        context.close()
    tab(page, "Predict")  # the first browser still has its run and its model
    page.wait_for_function(f"document.querySelector('#predict-model input')?.value.includes('{run_id[-6:]}')",
                           timeout=30000)


MALFORMED_IN_BROWSER = ("binary", "excel-renamed", "one-class", "ragged-rows", "jsonl-broken-line", "nul-bytes")


def test_malformed_uploads_show_their_own_message(page, tmp_path):
    for case_id, name, body, expected in corpus():
        if case_id not in MALFORMED_IN_BROWSER:
            continue
        path = tmp_path / name
        path.write_bytes(body)
        page.reload()
        page.locator("#dataset-upload input[type=file]").set_input_files(str(path))
        page.get_by_text(re.compile(expected)).first.wait_for(timeout=30000)
        assert "Traceback" not in page.content()

"""What a new user sees, in a real browser at a laptop width (1400 px) and a phone width (390 px).

One browser (so one visitor and their runs) for the module, resized between the two widths; the tests run in
file order and share its runs. Each test names the point of the first-hour review it checks (issue 17), and the
last one walks the multi-label path (issue 14).
"""

import csv
import re
from pathlib import Path

import pytest

from browser import CHROMIUM, FLAGS, LAPTOP, PHONE, field, needs_chromium, shot, tab
from conftest import ROOT

pytestmark = needs_chromium
LONG_TEXT = ("I ordered a new card three weeks ago and it still has not arrived, although the app said it would be "
             "delivered within five working days; I have checked my address twice and nothing is wrong with it, so "
             "please tell me where my card is and when it will finally get here, because I need it for my trip.")


@pytest.fixture(scope="module")
def page(live_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
        page = context.new_page()
        page.goto(live_app["url"])
        yield page
        browser.close()


def within_width(page, locator) -> bool:
    """The element is inside the viewport's width: seen without scrolling sideways."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1


def load_example(page):
    page.reload()
    page.locator("#use-example").click()
    page.locator("#report-summary").get_by_text("6 classes").wait_for(timeout=60000)


def test_train_tab_says_what_it_will_train_and_how_long(page):
    """4: the dataset, task and an estimate before Start; empty fields read "auto", not "0"."""
    load_example(page)
    tab(page, "Train")
    summary = page.locator("#train-summary")
    summary.get_by_text("About to train").wait_for(timeout=30000)
    text = summary.inner_text()
    assert "banking77_sample.csv" in text and "single-label" in text and "6 classes" in text, text
    assert re.search(r"\d+ train / \d+ validation rows", text) and re.search(r"about \d+ (s|min) to \d+ (s|min)", text), text
    for elem_id in ("epochs", "learning-rate", "batch-size", "max-length"):
        assert field(page, elem_id).input_value() == ""
        assert field(page, elem_id).get_attribute("placeholder").startswith("auto")
    assert "Method: full: auto, since 324 training rows would give setfit 12,960 pairs" in text, text
    page.locator("#train-method input[value='setfit']").check()  # issue 13: the third method, its plan in pairs
    summary.get_by_text("steps of 16 pairs").wait_for(timeout=30000)
    assert "Method: set by you" in summary.inner_text()
    page.locator("#train-method input[value='auto']").check()
    summary.get_by_text("full: auto").wait_for(timeout=30000)
    field(page, "learning-rate").fill("fast")
    summary.get_by_text("is not a number").wait_for(timeout=30000)
    field(page, "learning-rate").fill("")
    field(page, "epochs").fill("20")
    summary.get_by_text("20 epochs").wait_for(timeout=30000)
    for elem_id in ("stop-training", "cancel-training", "resume-training"):  # 8: nothing to act on yet
        assert page.locator(f"#{elem_id}").is_disabled()


def test_log_follows_the_tail_and_stop_keeps_the_best_model(page):
    """3: the last activity line is in view while training, in words; 8: "Stop and keep" gives a usable run,
    buttons are enabled only where they can act."""
    page.locator("#start-training").click()
    page.locator("#run-progress[data-state='running']").wait_for(timeout=60000)
    activity = page.locator("#activity-lines")
    page.wait_for_function("/step \\d+\\/\\d+ · epoch/.test(document.querySelector('#activity-lines')?.innerText)",
                           timeout=120000)
    lines = activity.inner_text().splitlines()
    assert re.match(r"step \d+/\d+ · epoch [\d.]+ · loss [\d.]+ · [\d.]+ samples/s$", lines[-1]), lines
    assert not any("=" in line or "Warning" in line for line in lines), lines
    assert page.evaluate("(e => e.scrollHeight <= e.clientHeight + 1)(document.querySelector('#activity-lines'))")
    assert within_width(page, activity) and activity.is_visible()  # all of it, newest line included, is in view
    assert activity.bounding_box()["y"] + activity.bounding_box()["height"] <= page.viewport_size["height"] + 1
    assert page.locator("#stop-training").is_enabled() and page.locator("#resume-training").is_disabled()
    shot(page, "train-running")

    page.locator("#stop-training").click()
    page.locator("#run-progress[data-state='succeeded']").wait_for(timeout=300000)
    progress = page.locator("#run-progress").inner_text()
    assert "Stopped by you at step" in progress and "Fine-tuned: accuracy" in progress and "Next" in progress
    assert activity.inner_text().splitlines()[-1].startswith("✓ finished")
    page.wait_for_function("document.querySelector('#cancel-training').disabled", timeout=10000)
    assert page.locator("#stop-training").is_disabled() and page.locator("#resume-training").is_disabled()
    tab(page, "Predict")  # the stopped run is a finished run: Predict offers it
    page.wait_for_function("document.querySelector('#predict-model input')?.value.startsWith('succeeded')",
                           timeout=30000)


def test_cancel_asks_first(page):
    """8: Cancel discards a run, so it asks; saying no leaves the run training."""
    tab(page, "Train")
    page.locator("#start-training").click()
    page.locator("#run-progress[data-state='running']").wait_for(timeout=60000)
    page.wait_for_function("!document.querySelector('#cancel-training').disabled", timeout=10000)
    page.locator("#cancel-training").click()
    page.locator("#confirm-cancel-no").click()
    page.wait_for_timeout(2000)
    assert page.locator("#run-progress[data-state='running']").count() == 1, page.locator("#run-progress").inner_text()
    assert page.locator("#confirm-cancel").is_hidden()
    page.locator("#cancel-training").click()
    page.locator("#confirm-cancel-yes").click()
    page.locator("#run-progress[data-state='cancelled']").wait_for(timeout=30000)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_predict_shows_labels_and_agreement_without_scrolling(page, viewport, tmp_path):
    """1: the base label and the agreement of a long-text row are in the viewport; the long text is cut, with the
    rest one click away; 10: the input used is the one touched last, and the note says which."""
    page.set_viewport_size(viewport)
    page.reload()
    tab(page, "Predict")
    page.wait_for_function("document.querySelector('#predict-model input')?.value.includes('banking77')",
                           timeout=30000)
    field(page, "predict-texts").fill(f"{LONG_TEXT}\nwhat exchange rate do you use?")
    page.wait_for_timeout(800)
    page.locator("#classify").click()
    page.locator("#predict-note").get_by_text("2 texts classified, from the typed lines").wait_for(timeout=60000)
    row = page.locator("#predictions tbody tr").first
    for cell in ("td.tuned", "td.base", "td.agree"):
        assert within_width(page, row.locator(cell)), cell
    assert row.locator("td.base b").inner_text() and row.locator("td.agree").inner_text() in ("✓ yes", "✗ no")
    assert row.locator("summary").is_visible() and LONG_TEXT[-40:] not in row.inner_text()
    row.locator("summary").click()
    assert LONG_TEXT[-40:] in row.inner_text()
    shot(page, f"predict-{'phone' if viewport == PHONE else 'laptop'}")

    data = tmp_path / "texts.csv"
    data.write_text("text\nmy card was declined\nhow do I top up?\nI lost my card\n")
    page.locator("#predict-upload input[type=file]").set_input_files(str(data))
    page.wait_for_timeout(1500)
    page.locator("#classify").click()
    page.locator("#predict-note").get_by_text("3 texts classified, from the file's column text (the typed text "
                                              "was not used)").wait_for(timeout=60000)
    field(page, "predict-texts").fill("what exchange rate do you use?")
    page.wait_for_timeout(800)
    page.locator("#classify").click()
    page.locator("#predict-note").get_by_text("1 text classified, from the typed lines (the uploaded file was "
                                              "not used)").wait_for(timeout=60000)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_errors_stay_next_to_what_caused_them(page, viewport, tmp_path):
    """2: an error stays on screen, beside its button, until the user acts (15 s later, when a Gradio toast would
    have faded, it is still there)."""
    page.set_viewport_size(viewport)
    page.reload()
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    page.locator("#dataset-upload input[type=file]").set_input_files(str(bad))
    errors = {"data-error": "binary file"}
    page.locator("#data-error").get_by_text("binary file").wait_for(timeout=30000)
    tab(page, "Train")
    page.locator("#start-training").click()
    errors["train-error"] = "Choose a dataset in the Data tab first"
    tab(page, "Predict")
    page.wait_for_function("document.querySelector('#predict-model input')?.value.includes('banking77')",
                           timeout=30000)
    page.locator("#classify").click()
    errors["predict-error"] = "Nothing to classify"
    tab(page, "Publish")
    page.wait_for_function("document.querySelector('#publish-run input')?.value.includes('banking77')",
                           timeout=30000)
    field(page, "publish-repo").fill("someone/model")
    page.locator("#push").click()
    errors["publish-error"] = "No Hugging Face token"
    page.locator("#publish-error").get_by_text("No Hugging Face token").wait_for(timeout=30000)
    if viewport == LAPTOP:  # persistence is the same at any width: wait once; the phone run checks the layout
        page.wait_for_timeout(15000)  # past Gradio's 10-second toasts: ours are not toasts and do not fade
    for name, page_name in (("data-error", "Data"), ("train-error", "Train"), ("predict-error", "Predict"),
                            ("publish-error", "Publish")):
        tab(page, page_name)
        box = page.locator(f"#{name}")
        assert errors[name] in box.inner_text() and box.is_visible() and within_width(page, box), name
    assert "Traceback" not in page.content()


def test_phone_every_tab_and_control_in_reach(page):
    """9: at 390 px every tab is a visible button (none behind a "⋯" menu), and the model and run fields are
    wide enough to read."""
    page.set_viewport_size(PHONE)
    page.reload()
    for name in ("Data", "Train", "Metrics", "Predict", "Publish"):
        assert within_width(page, page.get_by_role("tab", name=name)), name
    tab(page, "Train")
    page.wait_for_function("document.querySelector('#run-id input, #run-id textarea')?.value.length > 20",
                           timeout=30000)
    for elem_id in ("your-runs", "run-id"):
        assert page.locator(f"#{elem_id}").bounding_box()["width"] >= 300, elem_id
    # 3, 4, 8 at this width too: the plan, the run's activity (in words) and the run buttons, none cut off
    for elem_id in ("train-summary", "activity-lines", "start-training", "stop-training", "cancel-training",
                    "resume-training", "run-progress"):
        assert within_width(page, page.locator(f"#{elem_id}")), elem_id
    assert page.locator("#activity-lines").inner_text().splitlines()[-1].startswith("✗ cancelled")
    shot(page, "train-phone")
    tab(page, "Metrics")  # 6, 7 at this width: the charts of the last run, inside the screen
    page.locator("#quality-chart .js-plotly-plot").wait_for(timeout=30000)
    for elem_id in ("metric-runs", "quality-chart", "loss-chart"):
        assert within_width(page, page.locator(f"#{elem_id}")), elem_id
    shot(page, "metrics-phone")
    page.set_viewport_size(LAPTOP)


def test_clearing_the_dataset_clears_its_report(page):
    """10: no report, preview or chart of a file that is no longer there."""
    load_example(page)
    page.locator("#dataset-upload button[aria-label='Clear']").click()
    page.wait_for_function("!document.querySelector('#report-summary')?.innerText.includes('Ready to train')",
                           timeout=30000)
    tab(page, "Train")
    page.locator("#train-summary").get_by_text("Nothing to train yet").wait_for(timeout=30000)


def test_data_warnings_show_their_rows_and_fix_in_one_click(page, shared, tmp_path):
    """5: the rows behind the duplicate and conflict warnings are listed, and one click drops them (the report of
    the new file shows the effect)."""
    rows = list(csv.reader((shared / "trec" / "train.csv").open()))[1:301]
    rows += rows[:4] + [[rows[10][0], "a label nobody else uses"] + rows[10][2:]]
    path = tmp_path / "questions.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["text", "label"], *[r[:2] for r in rows]])
    page.set_viewport_size(LAPTOP)
    page.reload()
    page.locator("#dataset-upload input[type=file]").set_input_files(str(path))
    summary = page.locator("#report-summary")
    summary.get_by_text("1 text appears with different labels").wait_for(timeout=60000)
    assert "['" not in summary.inner_text()  # labels as words, not a Python list
    fixes = page.locator("#data-fix-rows")
    page.wait_for_function("document.querySelector('#data-fix-rows')?.innerText.includes('same text, different "
                           "labels')", timeout=30000)
    assert "a label nobody else uses" in fixes.inner_text()
    usable = int(re.search(r"([\d,]+) usable rows", summary.inner_text()).group(1).replace(",", ""))
    page.locator("#drop-duplicates").click()
    page.locator("#data-fixes-note").get_by_text("Dropped 5 rows").wait_for(timeout=60000)
    summary.get_by_text(f"{usable - 5:,} usable rows").wait_for(timeout=60000)
    assert "appears with different labels" not in summary.inner_text(), summary.inner_text()
    page.locator("#drop-duplicates").wait_for(state="hidden", timeout=30000)
    shot(page, "data-fixes")


def test_multi_label_path_in_the_browser(page):
    """Issue 14: GoEmotions detected as multi-label, a short run, per-label metrics, predicted label sets; 7: the new
    run is shown in Metrics without asking; 6: charts name runs by dataset and keep one colour per run."""
    page.set_viewport_size(LAPTOP)
    page.reload()
    page.locator("#dataset-upload input[type=file]").set_input_files(str(ROOT / "assets" / "go_emotions_sample.csv"))
    summary = page.locator("#report-summary")
    summary.get_by_text("multi-label").first.wait_for(timeout=60000)
    assert re.search(r"Ready to train: \d+ labels", summary.inner_text()) and "Labels per text" in summary.inner_text()
    tab(page, "Train")
    page.locator("#train-summary").get_by_text("multi-label").wait_for(timeout=30000)
    field(page, "epochs").fill("2")
    page.locator("#start-training").click()
    page.locator("#run-progress[data-state='running']").wait_for(timeout=60000)
    tab(page, "Metrics")  # the run just started is plotted, though an older run exists
    page.wait_for_function("document.querySelector('#metric-runs')?.innerText.includes('go_emotions_sample')",
                           timeout=30000)
    tab(page, "Train")
    page.locator("#run-progress[data-state='succeeded']").wait_for(timeout=400000)

    tab(page, "Metrics")
    page.locator("#confusion-matrix").get_by_text("F1 per label").wait_for(timeout=150000)  # a loaded CI machine
    figure = "document.querySelector('#{}-chart .js-plotly-plot')"
    page.wait_for_function(f"{figure.format('quality')}?.data?.length > 0", timeout=30000)
    quality = page.evaluate(f"{figure.format('quality')}.data.map(t => [t.name, t.line.color])")
    loss = page.evaluate(f"{figure.format('loss')}.data.map(t => [t.name, t.line.color])")
    mine = "go_emotions_sample.csv · MiniLM"
    assert any(mine in name for name, _ in quality), quality
    assert {c for n, c in quality if mine in n} == {c for n, c in loss if mine in n}  # one colour per run ...
    assert len({c for n, c in quality if mine in n}) == 1  # ... in every chart (other runs may be plotted too)
    y_range = page.evaluate(f"{figure.format('quality')}._fullLayout.yaxis.range")
    assert y_range != [0, 1]  # the axis fits the values
    shot(page, "metrics-multi-label")

    tab(page, "Predict")
    page.wait_for_function("document.querySelector('#predict-model input')?.value.includes('go_emotions')",
                           timeout=30000)
    page.locator("#predict-threshold").wait_for(state="visible", timeout=30000)
    field(page, "predict-texts").fill("Thank you so much, I love it!\nThis is the worst, I am so angry.")
    page.wait_for_timeout(800)
    page.locator("#classify").click()
    page.locator("#predict-note").get_by_text("2 texts classified").wait_for(timeout=60000)
    with page.expect_download() as info:
        page.locator("#predictions-download a").first.click()
    rows = list(csv.reader(Path(info.value.path()).open()))
    assert rows[0][:2] == ["text", "tuned labels"] and sum(h.startswith("score ") for h in rows[0]) >= 20
    assert "gratitude" in rows[1][1] or "love" in rows[1][1] or "admiration" in rows[1][1], rows[1]
    shot(page, "predict-multi-label")


def test_a_file_over_the_instant_limit_goes_to_a_background_job(page, tmp_path):
    """Issue 29 (2): above the instant bound the Predict tab offers the background job instead of refusing; the job
    shows its progress in words and gives back the whole file. At 390 px, the narrower layout (the path is the same
    at a laptop's width: the browser tests there start the job's panel the same way)."""
    viewport = PHONE
    page.set_viewport_size(viewport)
    page.reload()
    tab(page, "Predict")
    page.wait_for_function("document.querySelector('#predict-model input')?.value.startsWith('succeeded')",
                           timeout=30000)  # any finished run of this browser's
    data = tmp_path / "many.txt"
    rows = 6001
    data.write_text("".join(f"my card number {i} was declined\n" for i in range(rows)))
    page.locator("#predict-upload input[type=file]").set_input_files(str(data))
    page.wait_for_timeout(1500)
    page.locator("#classify").click()
    page.locator("#predict-error").get_by_text("Classify the whole file with a background job").wait_for(timeout=30000)
    page.get_by_role("button", name="Whole files: classify in the background").click()
    page.locator("#batch-start").click()
    page.locator("#batch-status").get_by_text(f"done, {rows:,} rows").wait_for(timeout=300000)
    assert within_width(page, page.locator("#batch-status"))
    page.locator("#batch-result a").first.wait_for(timeout=30000)
    assert "many-predictions" in page.locator("#batch-result").inner_text()
    shot(page, "batch-phone")

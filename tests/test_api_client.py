"""Every named endpoint through ``gradio_client`` against the running app, including isolation between clients."""

import time

import pytest
from gradio_client import Client, handle_file

from conftest import ROOT
from live import wait_for_state

EXAMPLE = ROOT / "assets" / "banking77_sample.csv"


@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app["url"], verbose=False)


def test_endpoints_are_listed(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/validate_dataset", "/find_label_errors", "/start_training", "/run_status", "/cancel_run", "/stop_run",
            "/list_runs", "/predict", "/push_to_hub", "/choose_model"} <= names


def test_validate_dataset(client):
    report = client.predict(handle_file(str(EXAMPLE)), "", "", api_name="/validate_dataset")
    assert report["text_column"] == "text" and len(report["labels"]) == 6
    assert report["split_sizes"]["train"] + report["split_sizes"]["validation"] == 360


def test_find_label_errors(client):
    result = client.predict(handle_file(str(EXAMPLE)), "", "", api_name="/find_label_errors")
    assert result["checked"] == result["total"] > 300 and "not a verdict" in result["note"]
    assert result["rows"] and set(result["rows"][0]) == {"row", "text", "given_label", "suggested_label", "score",
                                                         "flagged"}
    assert sum(r["flagged"] for r in result["rows"]) == min(result["flagged"], len(result["rows"]))


def test_validate_dataset_user_error_is_a_message(client, tmp_path):
    bad = tmp_path / "one.csv"
    bad.write_text("text,label\na,x\nb,x\n")
    with pytest.raises(Exception, match="only one class"):
        client.predict(handle_file(str(bad)), "", "", api_name="/validate_dataset")


def test_train_status_list_predict_and_isolation(client, live_app):
    run_id = client.predict(handle_file(str(EXAMPLE)), "", "", {"epochs": 2, "method": "full"},
                            api_name="/start_training")
    status = client.predict(run_id, api_name="/run_status")
    assert status["state"] in ("queued", "running") and "owner" not in status
    final = wait_for_state(client, run_id, timeout=300)
    assert final["state"] == "succeeded", final.get("error")
    assert final["best"]["accuracy"] > 0.5  # 6 balanced classes: chance is 0.17
    assert final["fraction"] == 1.0 and final["latest_eval"]["accuracy"] is not None
    assert not {"owner", "pid", "pid_start"} & set(final)  # the server's process details are not the visitor's

    assert [r["id"] for r in client.predict(api_name="/list_runs")] == [run_id]
    results = client.predict(["my new card still has not arrived", "what exchange rate do you use?"], run_id, 2, True,
                             api_name="/predict")
    assert [r["label"] for r in results] == ["card_arrival", "exchange_rate"]
    assert len(results[0]["top_k"]) == 2 and "base_label" in results[0]

    # The run says which of its two models is better on validation, and the caller can switch between them.
    assert final["recommended"]["model"] in ("tuned", "baseline") and final["recommended"]["message"]
    texts = ["my card payment was declined", "how do I top up by bank transfer?"]
    confidences = {name: [r["confidence"] for r in client.predict(texts, name, 1, False, api_name="/predict")]
                   for name in (f"tuned:{run_id}", f"base:{run_id}")}
    assert confidences[f"tuned:{run_id}"] != confidences[f"base:{run_id}"]
    for which, name in (("baseline", f"base:{run_id}"), ("tuned", f"tuned:{run_id}")):
        assert client.predict(run_id, which, api_name="/choose_model")["chosen_model"] == which
        used = [r["confidence"] for r in client.predict(texts, run_id, 1, False, api_name="/predict")]
        assert used == confidences[name], which
    with pytest.raises(Exception, match="not one of 'tuned'"):
        client.predict(run_id, "best", api_name="/choose_model")

    with pytest.raises(Exception, match="No Hugging Face token"):
        client.predict(run_id, "alice/model", "", False, False, "apache-2.0", False, api_name="/push_to_hub")

    other = Client(live_app["url"], verbose=False)
    assert other.predict(api_name="/list_runs") == []
    with pytest.raises(Exception, match="not a valid run id|was not found"):
        other.predict(run_id[:-4] + "AAAA", api_name="/run_status")
    with pytest.raises(Exception, match="not a valid run id"):
        other.predict("../../etc", api_name="/cancel_run")
    with pytest.raises(Exception, match="not found among your runs"):
        other.predict(run_id, "baseline", api_name="/choose_model")


def test_cancel_run(client):
    run_id = client.predict(handle_file(str(EXAMPLE)), "", "", {"epochs": 20}, api_name="/start_training")
    wait_for_state(client, run_id, states=("running",), timeout=120)
    started = time.time()
    status = client.predict(run_id, api_name="/cancel_run")
    assert status["state"] == "cancelled" and time.time() - started < 5
    assert client.predict(run_id, api_name="/run_status")["state"] == "cancelled"


def test_stop_run_keeps_the_best_model_so_far(client):
    """"Stop and keep": training ends early, and the run finishes like any other (evaluated, saved, usable)."""
    run_id = client.predict(handle_file(str(EXAMPLE)), "", "", {"epochs": 20}, api_name="/start_training")
    deadline = time.time() + 180
    while (client.predict(run_id, api_name="/run_status").get("progress") or {}).get("step", 0) < 2:
        assert time.time() < deadline, "the run never started training"
        time.sleep(0.5)
    assert client.predict(run_id, api_name="/stop_run")["stop_requested"] is True
    final = wait_for_state(client, run_id, timeout=300)
    assert final["state"] == "succeeded", final.get("error")
    assert final["stopped_at_step"] < final["progress"]["max_steps"]  # it did stop early
    assert final["best"]["accuracy"] > 0.3 and final["baseline"]  # evaluated, with its baseline, as a finished run
    results = client.predict(["my new card still has not arrived"], run_id, 1, False, api_name="/predict")
    assert results[0]["label"] == "card_arrival"  # the head starts from a linear probe: right after a few steps
    with pytest.raises(Exception, match="only a running run can be stopped"):
        client.predict(run_id, api_name="/stop_run")


def test_bad_settings_and_payloads_are_messages(client):
    with pytest.raises(Exception, match="method"):
        client.predict(handle_file(str(EXAMPLE)), "", "", {"method": "qlora"}, api_name="/start_training")
    with pytest.raises(Exception, match="texts must be a list of strings"):
        client.predict({"not": "texts"}, "x", 1, False, api_name="/predict")

"""The base-model catalog and model=auto: measured on the user's data, steered by language, recorded for the user."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tiny import tiny_classifier
from trainer.bodies import catalog
from trainer.bodies.auto import Probe, choose, probe
from trainer.bodies.catalog import CATALOG, REFERENCE, Body, candidates
from trainer.bodies.language import language_of
from trainer.bodies.run_choice import resolve_body
from trainer.config import TrainConfig
from trainer.models import HUB_ID, resolve_model
from trainer.runs.store import Run
from trainer.training.run_progress import Reporter

pytestmark = pytest.mark.quick
ROOT = Path(__file__).resolve().parent.parent
GERMAN = ["Das Paket ist nicht angekommen, obwohl ich vor zwei Wochen bestellt habe.",
          "Ich möchte meine Karte sperren lassen, sie wurde gestohlen.", "Wie kann ich mein Passwort ändern?",
          "Die Überweisung ist noch nicht auf meinem Konto eingegangen.", "Warum wurde meine Zahlung abgelehnt?",
          "Kann ich mein Geld in Euro wechseln?"] * 4


def banking(classes: int = 5, per_class: int = 16) -> tuple[list[str], np.ndarray]:
    frame = pd.read_csv(ROOT / "assets" / "banking77_sample.csv")
    keep = frame["label"].value_counts().index[:classes]
    rows = pd.concat(frame[frame["label"] == label].head(per_class) for label in keep)
    return rows["text"].tolist(), rows["label"].map({label: i for i, label in enumerate(keep)}).to_numpy()


def test_every_catalog_entry_says_what_it_is_for_its_size_licence_and_pooling():
    assert len({b.id for b in CATALOG}) == len(CATALOG)
    for body in CATALOG:
        assert HUB_ID.match(body.id) and body.purpose and body.params_m > 0 and body.max_tokens >= 512
        assert body.license in ("apache-2.0", "mit") and body.pooling in ("mean", "cls", "none")
        assert body.languages in ("en", "multilingual") and body.cost > 0
    for language in ("en", "other"):  # auto has candidates for English and for other languages
        wanted = [b for b in CATALOG if b.auto and (b.languages == "multilingual") == (language != "en")]
        assert len(wanted) >= 2
    assert CATALOG[0].id == REFERENCE and CATALOG[0].cost == 1.0 and CATALOG[0].auto


def test_auto_takes_the_larger_body_only_where_its_probe_wins_clearly_and_the_budget_allows(tmp_path):
    texts, targets = banking()
    tiny = str(tiny_classifier(tmp_path / "tiny"))  # random weights: a cheap body that knows nothing
    measured = [probe(tiny, texts, targets), probe(REFERENCE, texts, targets)]
    assert measured[1].score > measured[0].score + 0.2  # the real encoder separates the classes, the random one not

    def fresh():
        return [Probe(**vars(p)) for p in measured]

    model, why = choose(fresh(), reference_seconds=60, budget_minutes=600)
    assert model == REFERENCE and "chose all-MiniLM-L6-v2" in why and "within the 600-minute budget" in why
    model, why = choose(fresh(), reference_seconds=600, budget_minutes=1)
    assert model == tiny and "over the 1-minute budget" in why
    same = [measured[1], Probe(**{**vars(measured[1]), "model": "copy/of-minilm"})]
    model, why = choose(same, reference_seconds=60, budget_minutes=600)
    assert model == REFERENCE and "within the noise" in why


def test_with_too_few_rows_to_measure_auto_takes_the_largest_body_the_budget_allows(tmp_path):
    texts, targets = banking(per_class=6)
    tiny = str(tiny_classifier(tmp_path / "tiny"))
    few = [probe(tiny, texts, targets), probe(REFERENCE, texts, targets)]
    assert [p.score for p in few] == [None, None] and few[1].seconds > 0  # timed, not scored

    def fresh():
        return [Probe(**vars(p)) for p in few]

    model, why = choose(fresh(), reference_seconds=60, budget_minutes=600)
    assert model == REFERENCE and "Too few rows per class" in why
    assert choose(fresh(), reference_seconds=600, budget_minutes=1)[0] == tiny


def _prepared_run(tmp_path: Path, texts: list[str], targets: np.ndarray) -> tuple[Run, pd.DataFrame, list[str]]:
    labels = [f"class {i}" for i in range(targets.max() + 1)]
    run = Run(tmp_path / "run")
    run.dir.mkdir()
    config = TrainConfig(method="full", max_length=64, time_budget_minutes=1440)  # the random body is ~50x faster
    (run.dir / "config.json").write_text(json.dumps(config.to_dict()))
    run.update_status(state="running")
    return run, pd.DataFrame({"text": texts, "label": targets}), labels  # prepared splits hold label indices


def test_an_auto_run_records_its_choice_in_its_config_status_progress_and_card(tmp_path, monkeypatch):
    from trainer.hub.card import _body_choice
    from trainer.runs.hardware import Hardware

    texts, targets = banking()
    tiny = str(tiny_classifier(tmp_path / "tiny"))
    bodies = [Body(tiny, "a random stand-in", "en", 1, 1, 32, 512, "mit", "cls", auto=True), CATALOG[0]]
    monkeypatch.setattr("trainer.bodies.run_choice.candidates", lambda language: (bodies, []))
    run, train, labels = _prepared_run(tmp_path, texts, targets)
    hw = Hardware("cpu", "CPU", 0.0, 0, False, 2)
    config = resolve_body(Reporter(run, None, False), TrainConfig.from_dict(run.config()), train, 20, labels, hw)
    choice = run.status()["model_choice"]
    assert config.model == REFERENCE == run.config()["model"], choice  # a resumed run, Predict and Publish use it
    assert choice["model"] == REFERENCE and len(choice["probes"]) == 2 and "chose all-MiniLM-L6-v2" in choice["reason"]
    assert any(line.startswith("base model: ") for line in run.activity(50))
    card = _body_choice(choice)
    assert "| candidate body |" in card and "all-MiniLM-L6-v2" in card
    named = TrainConfig.from_dict({**run.config(), "model": "default"})
    assert resolve_body(Reporter(run, None, False), named, train, 20, labels, hw) is named  # a named model stays


def test_non_english_text_is_steered_to_a_multilingual_body(tmp_path, monkeypatch):
    assert language_of(GERMAN) == "other" and language_of(banking()[0]) == "en"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CLASSITUNE_BODIES_DIR", str(tmp_path / "bodies"))
    usable, missing = candidates("other")
    assert not usable and missing and all(b.languages == "multilingual" for b in missing)
    texts, targets = GERMAN, np.arange(len(GERMAN)) % 6
    run, train, labels = _prepared_run(tmp_path, texts, targets)
    from trainer.runs.hardware import Hardware

    hw = Hardware("cpu", "CPU", 0.0, 0, False, 2)
    config = resolve_body(Reporter(run, None, False), TrainConfig.from_dict(run.config()), train, 6, labels, hw)
    assert config.model == REFERENCE and "no multilingual body is on this machine" in run.status()["model_choice"][
        "reason"]
    multilingual = missing[0]  # installed for offline use (scripts/get_mpnet.py does this for mpnet)
    tiny_classifier(tmp_path / "bodies" / multilingual.name)
    assert candidates("other")[0] == [multilingual] and resolve_model(multilingual.id) == str(
        tmp_path / "bodies" / multilingual.name)
    (tmp_path / "second").mkdir()
    run2, _, _ = _prepared_run(tmp_path / "second", texts, targets)
    config = resolve_body(Reporter(run2, None, False), TrainConfig.from_dict(run2.config()), train, 6, labels, hw)
    assert config.model == multilingual.id and catalog.BY_ID[config.model].languages == "multilingual"


def test_an_unreachable_hub_is_asked_once_and_its_candidates_are_named(monkeypatch, tmp_path):
    """Online mode on a machine without internet: the Hub's bodies are set aside after one quick try (the
    library's own retries took about 20 s per candidate), and the user is told which ones needed it."""
    from huggingface_hub import constants

    from live import free_port

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("CLASSITUNE_BODIES_DIR", str(tmp_path / "bodies"))
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setattr(catalog, "_REACHABLE", {})
    started = time.monotonic()
    usable, missing = candidates("en")
    assert [b.id for b in usable] == [REFERENCE] and missing and time.monotonic() - started < 5
    assert list(catalog._REACHABLE.values())[0][1] is False  # remembered: the next run does not ask again


def test_setfit_trains_the_vector_the_exported_classifier_reads(tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer.training.baseline import embed, load_encoder
    from trainer.training.contrastive import sentence_encoder

    texts = ["the film was good", "a dull movie", "my card has not arrived"]
    tiny = str(tiny_classifier(tmp_path / "tiny"))  # no sentence-transformers pooling config: a [CLS] body
    classifier = AutoModelForSequenceClassification.from_pretrained(tiny).eval()
    batch = AutoTokenizer.from_pretrained(tiny)(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        first_token = classifier.bert(**batch).last_hidden_state[:, 0].numpy()
    assert np.allclose(sentence_encoder(tiny, mean=False).encode(texts), first_token, atol=1e-5)
    # a mean-pooling body: the classifier's added layer pools the mean of the encoder's tokens, which setfit trains
    tokenizer, encoder = load_encoder("default")
    assert np.allclose(sentence_encoder(resolve_model("default"), mean=True).encode(texts),
                       embed(texts, encoder, tokenizer, 128), atol=1e-4)

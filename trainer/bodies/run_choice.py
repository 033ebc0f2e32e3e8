"""Resolve ``model=auto`` for a run about to train: language, candidates, probes, the choice, and its record.

The choice is written into the run's ``config.json`` (so a resumed run, Predict, Publish and "Start again" use
the body it trained) and its reason and probe table into the status (``model_choice``), the progress and the card.
Processes of a data-parallel run other than the first wait for the first one's choice.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd

from trainer.bodies.auto import PROBE_ROWS, BodyChoice, choose, probe, probe_sample
from trainer.bodies.catalog import REFERENCE, candidates
from trainer.bodies.language import language_of
from trainer.config import TrainConfig
from trainer.models import AUTO_MODEL
from trainer.runs.store import write_json_atomic
from trainer.tasks import task_of
from trainer.training import cancel


def resolve_body(reporter, config: TrainConfig, train: pd.DataFrame, n_validation: int, labels: list[str],
                 hw) -> TrainConfig:
    """The run's config with ``model`` chosen when it was ``auto``; unchanged otherwise."""
    if config.model != AUTO_MODEL:
        return config
    run = reporter.run
    if not reporter.main:
        while run.config().get("model") == AUTO_MODEL:
            time.sleep(1)
        return replace(config, model=run.config()["model"])
    reporter.phase("choosing model")
    choice = _choice(config, train, n_validation, labels, hw)
    config = replace(config, model=choice.model)
    write_json_atomic(run.path("config.json"), config.to_dict())
    run.update_status(model=choice.model, model_choice=choice.to_dict())
    if reporter.store is not None:  # the run list shows the chosen body from now on
        reporter.store.index(run)
    reporter.say(f"base model: {choice.reason}")
    return config


def _choice(config: TrainConfig, train: pd.DataFrame, n_validation: int, labels: list[str], hw) -> BodyChoice:
    from trainer.runs.estimate import estimate

    texts = train["text"].tolist()
    language = language_of(texts)
    usable, missing = candidates(language)
    unloadable = [b for b in usable if not _loads(b.id)]  # not on the Hub (a stand-in, a mirror) or no access
    usable = [b for b in usable if b not in unloadable]
    absent = (f" ({', '.join(b.name for b in missing)} need the Hub)" if missing else "") + (
        f" ({', '.join(b.name for b in unloadable)} could not be loaded here)" if unloadable else "")
    budget = config.time_budget_minutes
    if not usable:
        return BodyChoice(REFERENCE, f"the texts do not read as English, but no multilingual body is on this machine"
                          f"{absent}: all-MiniLM-L6-v2 (English) trains instead; name a multilingual model, or run "
                          f"where the Hub is reachable", language, budget)
    if len(usable) == 1:
        return BodyChoice(usable[0].id, f"{usable[0].name}: the only candidate that loads here{absent}", language,
                          budget)
    targets = task_of(config.to_dict()).targets(train, len(labels))
    index = probe_sample(targets, config.seed)
    sample = [texts[i] for i in index]
    probes = []
    for body in usable:
        cancel.check()  # a cancelled run stops between candidates
        probes.append(probe(body.id, sample, targets[index]))
    planned = estimate(replace(config, model="default"), len(train), n_validation, config.max_length or 128, hw, [])
    model, reason = choose(probes, planned.seconds or planned.cautious_seconds, budget)
    return BodyChoice(model, reason + absent, language, budget, probes)


def _loads(model_id: str) -> bool:
    """Whether a candidate's config can be read here (cheap: one small file), before any of it is embedded."""
    from transformers import AutoConfig

    from trainer.models import resolve_model

    try:
        AutoConfig.from_pretrained(resolve_model(model_id), trust_remote_code=False)
        return True
    except Exception:  # offline, not found, gated: this candidate is not measured
        return False


def auto_plan(budget_minutes: float) -> str:
    """What ``model=auto`` will do, said before Start."""
    usable, missing = candidates("en")
    if len(usable) <= 1:
        return (f"auto: {REFERENCE.split('/')[-1]}, the only English candidate on this machine"
                + (f" ({', '.join(b.name for b in missing)} need the Hub)" if missing else ""))
    return (f"auto: measures {', '.join(b.name for b in usable)} on up to {PROBE_ROWS:,} of your rows before training "
            f"(multilingual candidates for non-English text) and takes a larger one only when it scores clearly "
            f"higher and fits the {budget_minutes:g}-minute time budget")

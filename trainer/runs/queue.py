"""The training queue: how many runs train at once, which waiting run starts next, and the per-user limits.

Each worker gets one GPU of its own (``CUDA_VISIBLE_DEVICES``) and there is one slot per GPU;
data-parallel training over several GPUs is asked for explicitly (``accelerate launch``, README). A queued
run waits as a run directory (state ``queued``, no process): the app starts its
worker only when a training slot is free, so a hundred queued runs cost disk, not a
hundred 350 MB Python processes. The next run is chosen fairly between users: each
user's runs in the order they were started, users taking turns, a user with fewer runs
training going first; so one visitor's five runs do not push everyone else's back.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections import Counter, defaultdict

from trainer.errors import UserError


def gpu_ids() -> list[str]:
    """The GPUs workers may use: ``CUDA_VISIBLE_DEVICES`` when set, else the ones ``nvidia-smi -L`` lists, else
    none. Asked without torch, so the web server never initialises CUDA."""
    return _gpu_ids(os.environ.get("CUDA_VISIBLE_DEVICES"))


@functools.lru_cache(maxsize=4)
def _gpu_ids(visible: str | None) -> list[str]:
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, _ in enumerate(line for line in listed.splitlines() if line.startswith("GPU "))]


def max_concurrent_runs() -> int:
    """Trainings at once on this machine: ``CLASSITUNE_MAX_CONCURRENT_RUNS``, else one per GPU (each worker sees
    only its own GPU, so its steps, speed and ETA are its own), else 1."""
    value = os.environ.get("CLASSITUNE_MAX_CONCURRENT_RUNS", "").strip()
    return max(1, int(value)) if value else max(1, len(gpu_ids()))


def max_runs_per_user() -> int:
    """Runs one user may have queued or running at once: ``CLASSITUNE_MAX_RUNS_PER_USER``."""
    return max(1, int(os.environ.get("CLASSITUNE_MAX_RUNS_PER_USER", "2")))


def public_app() -> bool:
    """A public deployment (a Space, or ``CLASSITUNE_PUBLIC=1``), where anyone can open as many sessions as they like."""
    return bool(os.environ.get("SPACE_ID")) or os.environ.get("CLASSITUNE_PUBLIC") == "1"


def anonymous_training() -> bool:
    """The operator lets visitors who are not signed in train (``CLASSITUNE_ANONYMOUS_TRAINING=1``)."""
    return os.environ.get("CLASSITUNE_ANONYMOUS_TRAINING") == "1"


def quota_owner(owner: str) -> str:
    """Whose share a run counts against. A browser id or a session can be minted at will on a public app, so
    there all visitors who are not signed in share one share ("anonymous"); a Hugging Face login is its own."""
    return "anonymous" if public_app() and not owner.startswith("hf:") else owner


def check_may_train(owner: str) -> None:
    """On a public app, training needs an identity a visitor cannot mint: a Hugging Face sign-in (or a token)."""
    if public_app() and not owner.startswith("hf:") and not anonymous_training():
        raise UserError("Sign in with Hugging Face (the button at the top of the page, or Client(url, "
                        "oauth_token='hf_...') from a script) to train on this Space: runs share its hardware, so "
                        "each person gets a fair share. Without signing in you can still check data and predict.")


def max_user_minutes() -> float | None:
    """The most estimated training time one user may have queued or running at once
    (``CLASSITUNE_MAX_USER_MINUTES``; unset: no cap)."""
    value = os.environ.get("CLASSITUNE_MAX_USER_MINUTES", "").strip()
    return float(value) if value else None


def check_user_time(estimated_seconds: float, booked_seconds: float) -> None:
    """Refuse a run that would take the user's queued and running estimated time over their share."""
    cap = max_user_minutes()
    if cap is None or booked_seconds + estimated_seconds <= cap * 60:
        return
    raise UserError(f"Your queued and running runs are estimated at about {booked_seconds / 60:.0f} minutes, and "
                    f"this one at {estimated_seconds / 60:.0f} more; one user may book at most {cap:g} minutes of "
                    f"training at once here. Wait for a run to finish or cancel one, or train a smaller run.")


def time_cap_reached(started: float, now: float) -> str | None:
    """Why a run that has trained past the operator's per-run cap must stop now, or None while it may go on."""
    cap = max_run_minutes()
    if cap is None or now - started <= cap * 60:
        return None
    return (f"stopped: this app allows at most {cap:g} minutes per run (CLASSITUNE_MAX_RUN_MINUTES); "
            f"keeping the best model so far")


def max_run_minutes() -> float | None:
    """The most estimated training time one run may ask for (``CLASSITUNE_MAX_RUN_MINUTES``; unset: no cap).
    An operator of a public Space sets it so one visitor cannot book the hardware for a day."""
    value = os.environ.get("CLASSITUNE_MAX_RUN_MINUTES", "").strip()
    return float(value) if value else None


def gpus_needed(config: dict) -> int:
    """Slots a run takes: its ``gpus`` setting (data-parallel over that many GPUs), else one."""
    value = config.get("gpus") if isinstance(config, dict) else None
    return value if isinstance(value, int) and value >= 1 else 1


def check_gpus(requested: int) -> None:
    """A data-parallel run must fit the machine: refused at Start, not left waiting for GPUs that do not exist."""
    available = len(gpu_ids())
    if requested > 1 and requested > available:
        raise UserError(f"This run asks for {requested} GPUs; this machine has {available or 'no'} GPU"
                        f"{'' if available == 1 else 's'}. Set GPUs for this run to 1"
                        + (f" (or up to {available})." if available > 1 else "."))


def fair_order(waiting: list[dict], training: Counter) -> list[dict]:
    """``waiting``: registry rows (``id``, ``owner``, ``created``) of runs with no worker yet; ``training``: runs
    each share (quota_owner) has with a worker. Round-robin between owners: a run's turn is its owner's training count plus
    its place among that owner's waiting runs; ties go to the run started first."""
    by_owner: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(waiting, key=lambda r: (r.get("created") or 0, r["id"])):
        by_owner[quota_owner(row.get("owner") or "")].append(row)
    turns = [(training[owner] + place, row.get("created") or 0, row["id"], row)
             for owner, rows in by_owner.items() for place, row in enumerate(rows)]
    return [turn[-1] for turn in sorted(turns, key=lambda t: t[:3])]


def check_run_time(estimated_seconds: float) -> None:
    """Refuse a run whose estimate (a cautious one where none was measured) is over the operator's cap, saying how
    to fit under it."""
    cap = max_run_minutes()
    if cap is None or estimated_seconds <= cap * 60:
        return
    raise UserError(f"This run is estimated to train for about {estimated_seconds / 60:.0f} minutes; this Space "
                    f"allows at most {cap:g} minutes per run. Train on fewer rows, fewer epochs or a shorter max "
                    f"length, or run ClassiTune on your own machine (README: 'Two commands').")

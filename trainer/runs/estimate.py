"""How long a run will take, said before it starts: the schedule's steps times a measured speed.

The speed is the user's own most recent finished run with the same model and method on this hardware
(its training samples/s, scaled by max length), else a benchmark figure for the embedded default model on
the CPU (BENCHMARKS.md), else nothing: a guess on an unknown GPU or model would mislead more than it helps.
It counts every phase: start-up and loading, the baseline's frozen pass and the label check, the training
steps, the evaluations, saving. It is a range: the low end on an idle machine, the high end while the machine is
busy (a shared Space's CPU often is: a red team measured 3-8x the idle time on a loaded one); early stopping often
ends a run sooner. Once training starts, the Train tab's ETA follows the run's live speed instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from trainer.config import TrainConfig
from trainer.runs.hardware import Hardware
from trainer.training.schedule import plan

# Training samples/s of the default model on 2 CPU cores, SST-2 sentences (BENCHMARKS.md, bench_train/bench_lora;
# setfit: pairs/s of SST-2 sentences in bench_small).
CPU_DEFAULT_SPEED = {"full": 36.0, "lora": 40.0, "setfit": 13.0}
REFERENCE_LENGTH = 64
FROZEN_TEXTS_PER_SECOND = {"cpu": 150.0, "cuda": 3000.0}  # the baseline's and evaluations' forward passes
# Where nothing was measured, the operator's time caps still need a figure: a cautious one, a tenth of the
# default model's CPU speed (a base-size encoder runs at about a sixth of it) or a slow GPU's.
CAUTIOUS_SPEED = {"cpu": 0.1, "cuda": 1.0}  # times CPU_DEFAULT_SPEED
# Start-up, loading the model and data, the label check and saving: seconds outside the steps and frozen passes.
FIXED_SECONDS = {"cpu": 10.0, "cuda": 10.0}  # measured: 4-8 s for a small run on 2 idle CPU cores (bench_estimate)
BUSY_FACTOR = {"cpu": 3.0, "cuda": 1.5}  # the high end: the same run on a busy machine (a shared CPU is often busy)


@dataclass
class Estimate:
    steps: int
    epochs: float
    batch_size: int
    seconds: float | None  # None: no speed known for this model, method and hardware
    basis: str
    method: str = "full"
    method_why: str = "set by you"
    cautious_seconds: float = 0.0  # an upper bound even where nothing was measured: what time caps are checked on
    high_seconds: float | None = None  # the same run on a busy machine

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        plan_text = (f"{self.steps:,} steps of {self.batch_size} pairs" if self.method == "setfit" else
                     f"{self.epochs:g} epochs, {self.steps:,} steps of {self.batch_size}")
        if self.seconds is None:
            return f"{plan_text}; {self.basis}"
        return (f"{plan_text}; about {duration(self.seconds)} to {duration(self.high_seconds or self.seconds)} "
                f"(the low end on an idle machine, the high end while it is busy; {self.basis}; every phase "
                f"included, early stopping may end it sooner, and once training starts the ETA follows its live "
                f"speed)")

    def record(self) -> dict | None:
        """What a run keeps of its estimate, to say at the end how long it took against it."""
        if self.seconds is None:
            return None
        return {"seconds": round(self.seconds), "high_seconds": round(self.high_seconds or self.seconds),
                "basis": self.basis}


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(10, round(seconds / 10) * 10):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def measured_speed(history: list[dict], config: TrainConfig, hw: Hardware) -> tuple[float, int, str] | None:
    """(samples/s, its max length, where it comes from) of the newest matching finished run, if any."""
    for status in history:  # newest first
        run_config = status.get("config") or {}
        if (status.get("state") == "succeeded" and status.get("samples_per_second")
                and run_config.get("model") == config.model and run_config.get("method") == config.method
                and (status.get("hardware") or "").startswith("GPU" if hw.device == "cuda" else "CPU")):
            length = (status.get("config_resolved") or {}).get("max_length") or run_config.get("max_length")
            return float(status["samples_per_second"]), int(length or REFERENCE_LENGTH), "your last run's speed"
    if hw.device == "cpu" and config.model in ("default", "auto"):  # auto: for the default; larger within the budget
        return CPU_DEFAULT_SPEED[config.method], REFERENCE_LENGTH, "benchmark speed of this model on 2 CPU cores"
    return None


def estimate(config: TrainConfig, n_train: int, n_validation: int, max_length: int, hw: Hardware,
             history: list[dict]) -> Estimate:
    schedule = plan(config, n_train, hw)
    speed = measured_speed(history, config, hw)
    cautious = CPU_DEFAULT_SPEED.get(config.method, CPU_DEFAULT_SPEED["setfit"]) * CAUTIOUS_SPEED[hw.device]
    cautious_seconds = _seconds(schedule, cautious, REFERENCE_LENGTH, max_length, n_train, n_validation, hw, 0.1)
    if speed is None:
        return Estimate(schedule.total_steps, schedule.epochs, schedule.batch_size, None,
                        "no time estimate yet: your first run with this model here measures its speed", config.method,
                        cautious_seconds=cautious_seconds)
    samples_per_second, length, basis = speed
    seconds = _seconds(schedule, samples_per_second, length, max_length, n_train, n_validation, hw)
    return Estimate(schedule.total_steps, schedule.epochs, schedule.batch_size, seconds, basis, config.method,
                    cautious_seconds=seconds, high_seconds=seconds * BUSY_FACTOR[hw.device])


def _seconds(schedule, samples_per_second: float, length: int, max_length: int, n_train: int, n_validation: int,
             hw: Hardware, frozen_factor: float = 1.0) -> float:
    """Training steps at the speed scaled by max length, plus the frozen passes (baseline, evaluations), plus the
    fixed phases (start-up, loading, label check, saving)."""
    samples_per_second *= length / max(8, max_length)
    training = schedule.total_steps * schedule.batch_size / samples_per_second
    evaluations = max(1, schedule.total_steps // schedule.eval_steps) * n_validation
    frozen = (n_train + n_validation + evaluations) / (FROZEN_TEXTS_PER_SECOND[hw.device] * frozen_factor)
    return training + frozen + FIXED_SECONDS[hw.device]

"""Which of a run's two models to use: the fine-tuned one, or the quick baseline when it scored higher.

Every run ends with two classifiers scored on the same validation split: the
fine-tuned transformer and the frozen-encoder logistic regression. On small or noisy
data the second can win; the run then says so, and Predict and Publish default to it.
"""

from __future__ import annotations

TUNED, BASELINE = "tuned", "baseline"


SMALL_VALIDATION = 50  # below this many validation rows, one row moves accuracy by 2+ points


def recommend(tuned: dict, baseline: dict, n_validation: int | None = None,
              ranking: tuple[str, str] = ("macro_f1", "accuracy")) -> dict:
    """``{"model": "tuned" | "baseline", "message": ...}``: ranked by validation macro-F1, then accuracy
    (multi-label runs: then micro-F1; the run's task says, ``ranking``)."""
    first, second = ranking
    name = second.replace("_f1", "-F1")

    def key(scores: dict) -> tuple[float, float]:
        return round(scores.get(first, 0.0), 4), round(scores.get(second, 0.0), 4)

    t, b = key(tuned), key(baseline)
    caveat = (f" Validation has only {n_validation} rows, so this comparison is a rough guide: add labeled rows, "
              f"or a validation file, to make it reliable." if n_validation and n_validation < SMALL_VALIDATION else "")
    noise = _noise(n_validation, (t[0] + b[0]) / 2)
    if b > t and b[0] - t[0] <= noise:
        return {"model": TUNED, "message": (
            f"The quick baseline scored a little higher on validation (macro-F1 {b[0]:.3f} vs {t[0]:.3f}), but with "
            f"{n_validation} validation rows a difference under {noise:.2f} is noise, so Predict and Publish use the "
            f"fine-tuned model; choose the baseline if you prefer.{caveat}")}
    if b > t:
        return {"model": BASELINE, "message": (
            f"The quick baseline (frozen encoder + logistic regression) scored higher on validation than the "
            f"fine-tuned model: macro-F1 {b[0]:.3f} vs {t[0]:.3f}, {name} {b[1]:.3f} vs {t[1]:.3f}. "
            f"Predict and Publish use the baseline unless you choose the fine-tuned model.{caveat}")}
    return {"model": TUNED, "message": (
        f"The fine-tuned model is better than or equal to the quick baseline on validation: macro-F1 {t[0]:.3f} vs "
        f"{b[0]:.3f}, {name} {t[1]:.3f} vs {b[1]:.3f}.{caveat}")}


def _noise(n_validation: int | None, score: float) -> float:
    """On a small validation split, the standard error of a difference of two scores (0 on a large one): below
    it, "the baseline scored higher" is a coin toss, and the fine-tuned model (better on average: BENCHMARKS.md)
    is kept."""
    if not n_validation or n_validation >= SMALL_VALIDATION:
        return 0.0
    return (2 * max(score * (1 - score), 0.01) / n_validation) ** 0.5


def chosen_model(status: dict) -> str:
    """The model a run's Predict and Publish use: the user's choice, else the recommendation, else the fine-tuned."""
    return status.get("chosen_model") or (status.get("recommended") or {}).get("model") or TUNED


def check_choice(which: object) -> str:
    from trainer.errors import UserError

    if which not in (TUNED, BASELINE):
        raise UserError(f"Model choice {str(which)[:40]!r} is not one of 'tuned' (the fine-tuned model) or "
                        f"'baseline' (frozen encoder + logistic regression).")
    return which

"""The ``setfit`` method: SetFit's contrastive training of the encoder, then a logistic-regression head.

With tens of labeled rows per class, cross-entropy fine-tuning gets few, noisy steps;
SetFit (Tunstall et al., 2022) instead trains the sentence encoder on pairs of rows
("same label?" as a cosine target), 40 pairs per row, and then fits a logistic
regression on the tuned embeddings. Measured on 8-128 rows per class (BENCHMARKS.md,
``bench/bench_small.py``) it beats our cross-entropy recipe. The pairs come from SetFit's
own sampler (``setfit.sampler.ContrastiveDataset``, its paper setting of 20 iterations)
and the training from sentence-transformers' trainer with ``CosineSimilarityLoss``:
exactly ``setfit.Trainer.train_embeddings``, driven here so that the run's progress
callback, precision and "stop and keep" apply.

The tuned encoder is then copied into the run's ``AutoModelForSequenceClassification``
and its head fitted as a logistic regression on the features it receives, so ``model/``
is the same plain transformers classifier as any other run's: Predict, Publish, the
card and ``pipeline("text-classification")`` need nothing new. A mean-pooling body that
is not a BERT (all-mpnet-base-v2) trains its mean and is saved in SetFit format instead
(sentence_classifier.py), since no stock classifier of its architecture reads the mean.
"""

from __future__ import annotations

import os

import numpy as np

from trainer.training import cancel
from trainer.errors import UserError
from trainer.training.fine_tune import Fitting, record_choices
from trainer.training.run_progress import make_callback
from trainer.runs.store import STOP_REQUEST
from trainer.training.schedule import ITERATIONS
from trainer.training.sentence_classifier import fit_head, reads_mean_as_setfit
from trainer.training.warm_start import refit_head

def _pairs(texts: list[str], targets: np.ndarray, pairs: int, seed: int):
    """SetFit's contrastive pairs as a ``datasets.Dataset`` (sentence_1, sentence_2, label 1.0 / 0.0)."""
    from datasets import Dataset
    from setfit.sampler import ContrastiveDataset

    # SetFit's sampler shuffles the pairs with its own RandomState(42), whatever the seed: the rows are shuffled
    # with the run's seed first, so another seed trains on other pairs in another order.
    order = np.random.default_rng(seed).permutation(len(texts))
    sampler = ContrastiveDataset([texts[i] for i in order], targets[order].tolist(), multilabel=False,
                                 num_iterations=ITERATIONS, max_pairs=max(pairs, 2 * len(texts)))
    return Dataset.from_list(list(sampler)[:pairs])


def _scorer(st_model, train_texts, train_targets, validation_texts, truth, labels, task, balanced):
    """Validation scores of a logistic regression on the encoder's current embeddings (for the live plot)."""
    from trainer.training.baseline import Baseline

    def score() -> dict:
        features = st_model.encode(train_texts + validation_texts, batch_size=128, convert_to_numpy=True,
                                   show_progress_bar=False)
        n = len(train_texts)
        probe = Baseline.fit(features[:n], train_targets, len(labels), balanced, 0, task.name)
        probs = probe.probabilities(features[n:])
        return task.scores(truth, probs, task.thresholds(truth, probs, labels, "per_label"), labels)

    return score


def sentence_encoder(model_path: str, mean: bool, device: str = "cpu"):
    """The base encoder as a sentence-transformer that pools as the exported classifier reads: the mean of the
    token vectors where the run added the mean-pooling layer or saves in SetFit format, else the first token
    (which BERT's pooler and the RoBERTa-style heads read). Any other module the model ships (Dense, Normalize) is
    left out: the classifier has none, and the cosine loss does not see a normalisation."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    transformer = SentenceTransformer(model_path, device=device, trust_remote_code=False)[0]
    pooling = Pooling(transformer.get_embedding_dimension(), "mean" if mean else "cls")
    return SentenceTransformer(modules=[transformer, pooling], device=device)


def _arguments(f: Fitting, device: str):
    """sentence-transformers' training arguments for the pairs: SetFit's, with the run's steps and precision."""
    from sentence_transformers import SentenceTransformerTrainingArguments as Arguments

    schedule = f.schedule
    return Arguments(output_dir=str(f.run.path("checkpoints")), per_device_train_batch_size=schedule.batch_size,
                     max_steps=schedule.total_steps, learning_rate=schedule.learning_rate, warmup_steps=0.1,
                     weight_decay=0.01, seed=f.config.seed, report_to="none", save_strategy="no", eval_strategy="no",
                     logging_steps=max(1, schedule.total_steps // 50), logging_first_step=True,
                     bf16=f.precision == "bf16", fp16=f.precision == "fp16", use_cpu=device == "cpu",
                     disable_tqdm=True, log_level="warning", dataloader_num_workers=0)


def fit_contrastive(f: Fitting):
    """Train a sentence-transformers copy of the base encoder on SetFit's pairs, load its weights into the run's
    classifier and refit the head on the tuned features; return (the classifier, the training summary)."""
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    from transformers import PrinterCallback, TrainerCallback

    if f.task.name != "single":
        raise UserError("The setfit method is for single-label data; use method full (or lora, or auto) for "
                        "multi-label data.")
    schedule, balanced = f.schedule, f.weights is not None
    texts, targets = f.train["text"].tolist(), f.task.targets(f.train, len(f.labels))
    f.reporter.phase("training")
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if f.hw.device == "cuda" else "cpu"
    as_setfit = reads_mean_as_setfit(f.config, f.model_path, f.pooling_layer)
    record_choices(f, head_init="logistic regression on the tuned encoder",
                   **({"pooling": "mean (saved in SetFit format)"} if as_setfit else {}))
    encoder = sentence_encoder(f.model_path, f.pooling_layer is not None or as_setfit, device)
    encoder.max_seq_length = f.max_length
    if f.config.freeze_embeddings:  # as for full fine-tunes: the largest tensor, its AdamW update slows CPU steps
        encoder[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    pairs = _pairs(texts, targets, schedule.total_steps * schedule.batch_size, f.config.seed)
    args = _arguments(f, device)
    score = _scorer(encoder, texts, targets, f.validation["text"].tolist(),
                    f.task.targets(f.validation, len(f.labels)), f.labels, f.task, balanced)
    progress = make_callback(f.reporter, schedule.batch_size, f.started, f.task.eval_keys)

    class Evaluations(TrainerCallback):
        """Every ``eval_steps`` and at the end: validation scores, logged as the other methods' evaluations are."""

        def on_step_end(self, args_, state, control, **kwargs):
            last = state.global_step >= state.max_steps or control.should_training_stop
            if (state.global_step % schedule.eval_steps == 0 or last) and not cancel.requested():
                progress.on_log(args_, state, control, logs={f"eval_{k}": v for k, v in score().items()})
            # "stop and keep" (set by the progress callback) keeps the encoder as it is: no eval split, no checkpoint
            control.should_evaluate = control.should_save = False

    class PairTrainer(SentenceTransformerTrainer):
        def add_model_card_callback(self, *args, **kwargs):
            """No card for the encoder alone (the run writes its own); as setfit.Trainer, skip what it computes."""

    trainer = PairTrainer(model=encoder, args=args, train_dataset=pairs, loss=CosineSimilarityLoss(encoder),
                          callbacks=[progress, Evaluations()])
    trainer.remove_callback(PrinterCallback)
    if f.resume and f.reporter.main:  # no checkpoints (SetFit keeps the last encoder): the pairs start again
        f.run.keep_events_until(0)
    trainer.train()
    if f.run.path(STOP_REQUEST).exists():
        f.reporter.say(f"stopped by you at step {trainer.state.global_step}: keeping the encoder as it is")
    summary = {**progress.summary(trainer.state), "best_checkpoint_step": None, "pairs": len(pairs),
               "stopped_at_step": trainer.state.global_step if f.run.path(STOP_REQUEST).exists() else None}
    f.reporter.phase("fitting head")
    if as_setfit:
        return fit_head(encoder[0].auto_model, f.tokenizer, texts, targets, f.labels, f.max_length, balanced,
                        device), summary
    _copy_encoder(encoder, f.model)
    del trainer, encoder
    refit_head(f.model, f.tokenizer, texts, targets, len(f.labels), f.max_length, balanced, f.config.seed,
               f.pooling_layer, f.task.name)
    return f.model, summary


def _copy_encoder(encoder, model) -> None:
    """The tuned encoder's weights into the classifier's base model. Its pooler is left alone (sentence-transformers
    pools the token vectors and never trains it), and so is the added mean-pooling layer, which it lacks."""
    tuned = {k: v for k, v in encoder[0].auto_model.state_dict().items() if not k.startswith("pooler.")}
    layers = {k.split(".")[2] for k in tuned if k.startswith("encoder.layer.")}
    added = f"encoder.layer.{len(layers)}."  # the mean-pooling layer, when the run added one
    missing, unexpected = model.base_model.load_state_dict(tuned, strict=False)
    if unexpected or any(not (k.startswith("pooler.") or k.startswith(added)) for k in missing):
        raise RuntimeError(f"The tuned encoder does not match the classifier: missing {missing[:3]}, "
                           f"unexpected {unexpected[:3]}")

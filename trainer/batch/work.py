"""The batch worker: classify a job's input chunk by chunk, one Parquet part per chunk, then write the output.

It runs at a lower CPU priority than the web process (``nice``), so the app's instant Predict
answers promptly while a job runs. A chunk whose part exists is skipped: a job stopped by a
restart, a crash or a killed machine resumes where it left off and never recomputes
finished rows. The output is the input's rows, in order, with the model's columns added.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

from trainer.batch.spec import CANCELLED, FAILED, SUCCEEDED, BatchJob, batch_limits
from trainer.errors import UserError
from trainer.intake.spreadsheet import safe_cell

TOKEN_ENV = "CLASSITUNE_BATCH_HUB_TOKEN"  # a Hub dataset's reader token: in this process's memory only
MAX_TEXT_CHARS = 2400  # keeps a chunk under Predict's per-request characters (predict.MAX_CHARS_PER_REQUEST)


def read_input(job: BatchJob) -> tuple[pd.DataFrame, list[str], str]:
    """(the input rows, their texts, the delimiter of a delimited file) within the batch bounds."""
    from trainer.intake.reading import read_lines, read_table

    spec, limits = job.spec(), batch_limits()
    if spec.hub_dataset and not job.input_path.exists():
        from trainer.intake.hub_data import fetch_hub_dataset

        fetched = fetch_hub_dataset(spec.hub_dataset, spec.split, job.dir, limits.max_rows,
                                    os.environ.pop(TOKEN_ENV, None), limits.max_bytes)
        fetched.rename(job.input_path)
    if spec.format == "txt":
        texts = read_lines(job.input_path, limits)
        return pd.DataFrame({"text": texts}), texts, ","
    frame, info, _ = read_table(job.input_path, limits)
    if spec.text_column not in frame.columns:
        raise UserError(f"No column {spec.text_column!r} in {spec.input_name or spec.hub_dataset!r}; its columns "
                        f"are: {', '.join(map(str, frame.columns))}. Start the job again with the text column.")
    if len(frame) > limits.max_rows:
        raise UserError(f"{len(frame):,} rows, over the {limits.max_rows:,}-row bound of a batch job "
                        f"(CLASSITUNE_BATCH_MAX_ROWS); split the file.")
    texts = frame[spec.text_column].fillna("").astype(str).tolist()
    return frame, texts, getattr(info, "delimiter", None) or ","


def load_model(job: BatchJob):
    from trainer.predict import Classifier, run_classifier

    spec = job.spec()
    if spec.which:
        return run_classifier(Path(spec.model_path), spec.which)[0]
    return Classifier(spec.model_path)


def prediction_columns(results: list[dict]) -> pd.DataFrame:
    """label and score (multi-label: the label set, "|"-joined as by the predict command, and one score column per label)."""
    if results and "labels" in results[0]:
        frame = pd.DataFrame({"predicted_labels": ["|".join(r["labels"]) for r in results]})
        scores = pd.DataFrame([{f"score_{k}": round(v, 4) for k, v in r["scores"].items()} for r in results])
        return pd.concat([frame, scores], axis=1)
    return pd.DataFrame({"predicted_label": [r["label"] for r in results],
                         "score": [round(float(r["confidence"]), 4) for r in results]})


def run_batch(job: BatchJob, say=print) -> dict:
    """Classify every chunk not yet done, then write the output; return the final status."""
    try:
        os.nice(10)  # the web process (instant Predict, the UI) comes first
    except OSError:
        pass
    try:
        frame, texts, delimiter = read_input(job)
        classifier, size = load_model(job), job.spec().chunk_rows
        chunks = (len(texts) + size - 1) // size
        done = sum(job.part(i).exists() for i in range(chunks))
        job.update(rows_total=len(texts), rows_done=min(len(texts), done * size), resumed_chunks=done)
        if done:
            say(f"resuming: {done} of {chunks} chunks were done before")
        job.path("parts").mkdir(exist_ok=True)
        started, computed = time.monotonic(), 0
        for index in range(chunks):
            if job.cancel_requested:
                return job.update(state=CANCELLED)
            if job.part(index).exists():
                continue
            part = texts[index * size:(index + 1) * size]
            # an empty cell still gets a row; the model reads only a text's first few hundred tokens
            results = classifier.predict([t[:MAX_TEXT_CHARS] or " " for t in part], top_k=1)
            tmp = job.part(index).with_suffix(".tmp")
            prediction_columns(results).to_parquet(tmp)
            os.replace(tmp, job.part(index))
            done, computed = done + 1, computed + len(part)
            speed = computed / max(time.monotonic() - started, 1e-6)
            rows_done = min(len(texts), done * size)
            job.update(rows_done=rows_done, rows_per_second=round(speed, 1),
                       eta_seconds=round((len(texts) - rows_done) / speed, 1))
        write_output(job, frame, chunks, delimiter)
        say(f"wrote {job.output_path.name}: {len(texts):,} rows")
        return job.update(state=SUCCEEDED, rows_done=len(texts), eta_seconds=0, output=job.output_path.name)
    except UserError as exc:
        return job.update(state=FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - the job fails with the reason in words; the web process is untouched
        return job.update(state=FAILED, error=f"The job stopped: {type(exc).__name__}: {str(exc)[:300]}")


def write_output(job: BatchJob, frame: pd.DataFrame, chunks: int, delimiter: str) -> None:
    """The input's rows in order, the predictions beside them, in the input's format (plain text: CSV)."""
    predicted = pd.concat([pd.read_parquet(job.part(i)) for i in range(chunks)], ignore_index=True)
    if len(predicted) != len(frame):
        raise RuntimeError(f"{len(predicted)} predictions for {len(frame)} rows")
    out = pd.concat([frame.reset_index(drop=True), predicted], axis=1)
    fmt, tmp = job.spec().format, job.output_path.with_suffix(".tmp")
    if fmt == "parquet":
        out.to_parquet(tmp, index=False)
    elif fmt == "jsonl":
        out.to_json(tmp, orient="records", lines=True, force_ascii=False)
    else:  # the model's label cells are escaped against spreadsheet formulas; the user's own cells are theirs
        for column in predicted.columns:
            out[column] = out[column].map(safe_cell)
        out.to_csv(tmp, index=False, sep="\t" if fmt == "tsv" else delimiter)
    os.replace(tmp, job.output_path)


def from_terminal(args) -> str:
    """``python -m trainer batch-predict``: a new job folder from --input and --model, or the job in --job resumed
    (what the app's watcher runs, too); prints progress; returns the final state."""
    import shutil

    from trainer.batch.spec import RUNNING, BatchSpec, check_input_name
    from trainer.runs.store import this_process
    from trainer.training.choice import chosen_model

    job = BatchJob(Path(args.job))
    if not job.path("spec.json").exists():
        if not args.input or not args.model:
            raise UserError(f"{args.job} is not a batch job folder yet: pass --input and --model to start one.")
        run = Path(args.model) / "status.json"
        which = (args.use or chosen_model(json.loads(run.read_text()))) if run.is_file() else None
        model_path = args.model if which or Path(args.model).is_dir() else _hub_copy(args.model)
        job.dir.mkdir(parents=True, exist_ok=True)
        job.write_spec(BatchSpec(model=args.model, model_path=str(Path(model_path).resolve()) if which else model_path,
                                 which=which, text_column=args.text_column,
                                 input_name=check_input_name(Path(args.input).name)))
        shutil.copyfile(args.input, job.input_path)
    job.update(state=RUNNING, **this_process())
    status = run_batch(job, say=lambda line: print(line, flush=True))
    if status.get("error"):
        print(f"error: {status['error']}", file=sys.stderr)
    else:
        print(f"{status['state']}: {job.output_path}")
    return status["state"]


def _hub_copy(model_id: str) -> str:
    from trainer.hub.hub_models import local_copy

    return local_copy(model_id, os.environ.get("HF_TOKEN"))

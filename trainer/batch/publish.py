"""A finished batch job's file as a Hugging Face dataset (private by default), with a short card naming the model."""

from __future__ import annotations

import time

from trainer.batch.spec import SUCCEEDED, BatchJob
from trainer.errors import UserError
from trainer.hub.client import check_namespace, hub_api, hub_error

CARD = """---
tags:
- classitune
- predictions
---
# {name}

Predictions of **{model}** on {source}: {rows:,} rows, in their original order, with the model's columns added
({columns}). Made with [ClassiTune](https://huggingface.co/spaces) on {date}.

```python
from datasets import load_dataset

predictions = load_dataset("{repo_id}", split="train")
```
"""


def check_dataset_id(repo_id: str) -> str:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    repo_id = (repo_id or "").strip() if isinstance(repo_id, str) else ""
    if "/" not in repo_id:
        raise UserError(f"Dataset id {repo_id[:100]!r} needs a namespace: use '<your user name>/<dataset name>'.")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise UserError(f"The Hub would reject the dataset id {repo_id!r}: use letters, digits, '-', '_' and '.', "
                        f"at most 96 characters, with no '--' or '..'.") from exc
    return repo_id


def push_result(job: BatchJob, repo_id: str, token: str | None, private: bool = True,
                endpoint: str | None = None) -> dict:
    """Upload the job's output file and its card to the dataset repo ``repo_id`` in one commit."""
    from huggingface_hub import CommitOperationAdd

    repo_id = check_dataset_id(repo_id)
    status, spec = job.status(), job.spec()
    if status.get("state") != SUCCEEDED:
        raise UserError(f"Batch job {job.id} is {status.get('state')}: its file can be pushed once it succeeds.")
    api = hub_api(token, endpoint)
    output = job.output_path
    import pandas as pd

    columns = [c for c in pd.read_parquet(job.part(0)).columns]
    card = CARD.format(name=repo_id.split("/")[-1], model=spec.model, repo_id=repo_id,
                       source=spec.input_name or f"{spec.hub_dataset} ({spec.split})", rows=status.get("rows_total", 0),
                       columns=", ".join(f"`{c}`" for c in columns), date=time.strftime("%Y-%m-%d"))
    try:
        check_namespace(api, repo_id)
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.create_commit(repo_id, repo_type="dataset", commit_message=f"Predictions of {spec.model}",
                                 operations=[CommitOperationAdd(f"data/{output.name}", str(output)),
                                             CommitOperationAdd("README.md", card.encode())])
    except UserError:
        raise
    except Exception as exc:  # the Hub's answer (or the network's), in words
        raise hub_error(exc, repo_id) from exc
    return {"url": str(url), "commit": info.oid, "repo_id": repo_id}

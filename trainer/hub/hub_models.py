"""Hub classifiers for Predict: size-checked before download, loaded once, shared, and evicted.

A visitor can name any Hub model id in Predict. Without bounds each request would download every
``*.safetensors`` of the repo into the web process and load it again. Here the repo's file sizes are read
first (a model over ``CLASSITUNE_MAX_HUB_MODEL_MB`` is refused with the reason), one download and load runs at
a time, and at most ``CLASSITUNE_HUB_MODEL_CACHE`` loaded models stay in memory, least recently used evicted.
The cache key includes a digest of the caller's token, so a private model loaded for its owner is never
served to anyone else.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

from trainer.errors import UserError
from trainer.models import check_remote_model

WEIGHTS = (".safetensors",)
FILES = ["*.json", "*.safetensors", "*.txt", "*.model"]
_cache: OrderedDict[tuple[str, str], object] = OrderedDict()
_cache_lock = threading.Lock()
_load_lock = threading.Lock()


def max_hub_model_mb() -> float:
    return float(os.environ.get("CLASSITUNE_MAX_HUB_MODEL_MB", "600"))


def cache_size() -> int:
    return max(1, int(os.environ.get("CLASSITUNE_HUB_MODEL_CACHE", "2")))


def _key(model_id: str, token: str | None) -> tuple[str, str]:
    return model_id, hashlib.sha256(token.encode()).hexdigest()[:16] if token else ""


def _weights_bytes(model_id: str, token: str | None) -> int:
    from huggingface_hub import HfApi

    files = HfApi(token=token if token else False).list_repo_tree(model_id, recursive=True)
    return sum(getattr(f, "size", 0) or 0 for f in files if f.path.endswith(WEIGHTS))


def _download(model_id: str, token: str | None) -> str:
    from huggingface_hub import snapshot_download

    try:
        size = _weights_bytes(model_id, token)
        limit = max_hub_model_mb()
        if size > limit * 2**20:
            raise UserError(f"Hub model {model_id!r} has {size / 2**20:,.0f} MB of weights; this app loads Hub models "
                            f"of up to {limit:,.0f} MB (CLASSITUNE_MAX_HUB_MODEL_MB). Use a smaller model, one of "
                            f"your runs, or run ClassiTune on your own machine.")
        if size == 0:
            raise UserError(f"Hub model {model_id!r} has no safetensors weights; this app loads only "
                            f"model.safetensors (no pickled weights). Use a model that ships them.")
        return snapshot_download(model_id, allow_patterns=FILES, token=token if token else False)
    except UserError:
        raise
    except Exception as exc:  # offline, unknown or private repo, gated: all mean "not available here"
        raise UserError(f"Hub model {model_id!r} could not be downloaded ({type(exc).__name__}): it does not exist, "
                        f"is private to an account you are not signed in as, or the Hugging Face Hub is unreachable "
                        f"from this machine. Use one of your runs instead.") from exc


def local_copy(model_id: str, token: str | None = None) -> str:
    """A Hub classifier's files on this machine (size-checked, as for Predict), for a batch job's worker to load."""
    check_remote_model(model_id)
    with _load_lock:
        return _download(model_id, token)


def hub_classifier(model_id: str, token: str | None = None):
    """The ``Classifier`` of a Hub model, downloaded and loaded at most once per (model, caller's token)."""
    from trainer.predict import Classifier

    check_remote_model(model_id)
    key = _key(model_id, token)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with _load_lock:  # one download and load at a time; a second caller of the same model finds it cached
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        classifier = Classifier(_download(model_id, token))
        with _cache_lock:
            _cache[key] = classifier
            while len(_cache) > cache_size():
                _cache.popitem(last=False)
    return classifier

"""Where models come from: the embedded offline default, a local path, or a Hub id."""

from __future__ import annotations

import re
from pathlib import Path

from trainer.bodies.catalog import embedded_model_dir, local_copy
from trainer.errors import UserError

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL_ALIAS = "default"
AUTO_MODEL = "auto"  # measured on the user's data when the run starts (bodies/auto.py); before that, the default
HUB_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _is_default(name: str) -> bool:
    return name in ("", DEFAULT_MODEL_ALIAS, DEFAULT_MODEL_NAME, DEFAULT_MODEL_NAME.split("/")[1])


def resolve_model(name_or_path: str | None) -> str:
    """Turn what a user typed into something ``from_pretrained`` can load.

    Empty, ``default`` or the default model's Hub id resolve to the embedded copy, so
    the app and the tests never need the Hub for it. An existing directory is used
    as is; anything else is treated as a Hub id and only works when the Hub is
    reachable.
    """
    name = (name_or_path or "").strip()
    if _is_default(name) or name == AUTO_MODEL:
        return str(embedded_model_dir())
    if local_copy(name) is not None:  # a catalog body installed for offline use
        return str(local_copy(name))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"Model folder {name!r} has no config.json; point to a folder saved with save_pretrained().")
        return str(path.resolve())
    if path.suffix or name.startswith((".", "/", "~")):
        raise UserError(f"Model path {name!r} does not exist.")
    return name


def check_remote_model(name: str | None) -> None:
    """What a web visitor may name as a model: the embedded default or a Hub id, never a path on this server.

    A Hub id that happens to exist as a folder here (``from_pretrained`` would read it from
    disk) is refused too, so no visitor can read another run's model or any server file.
    """
    if name is None:
        return
    if not isinstance(name, str):
        raise UserError("The model must be a text: 'default' or a Hugging Face Hub model id.")
    name = name.strip()
    if _is_default(name) or name == AUTO_MODEL:
        return
    if (not HUB_ID.match(name) or ".." in name or name.endswith(".")
            or any((base / name).exists() for base in (Path.cwd(), PROJECT_ROOT))):
        raise UserError(f"Model {name[:100]!r} is not accepted here: the app trains from the embedded default or a "
                        f"Hugging Face Hub model id such as 'distilbert-base-uncased' or 'BAAI/bge-small-en-v1.5'. "
                        f"Local folders work from the command line only (python -m trainer train --model PATH).")


def display_name(name_or_path: str | None) -> str:
    """A short human name for a model: the Hub id for the embedded default, else what was given."""
    if (name_or_path or "").strip() == AUTO_MODEL:
        return "auto (the best candidate measured on your data)"
    resolved = resolve_model(name_or_path)
    if resolved == str(embedded_model_dir()):
        return DEFAULT_MODEL_NAME
    return name_or_path.strip() if name_or_path else resolved


def load_tokenizer(name_or_path: str | None):
    """Load the tokenizer of a model, with a user-facing message when it cannot be found."""
    from transformers import AutoTokenizer

    resolved = resolve_model(name_or_path)
    try:
        return AutoTokenizer.from_pretrained(resolved, trust_remote_code=False)
    except OSError as exc:
        raise UserError(
            f"Could not load model {name_or_path!r}: the Hugging Face Hub could not provide it "
            f"({str(exc).splitlines()[0]}). Check the id and this machine's connection to the Hub, or use the "
            f"embedded default model (it works offline); the command line also accepts a local folder."
        ) from exc


# Models whose position ids start after the padding index (RoBERTa's scheme): ``max_position_embeddings`` 514
# leaves 512 usable positions, and a 513th token raises an IndexError.
POSITIONS_AFTER_PADDING = {"roberta", "xlm-roberta", "camembert", "mpnet", "longformer", "data2vec-text", "xmod",
                           "roberta-prelayernorm", "luke", "ibert"}


def model_max_length(tokenizer, config=None) -> int:
    """The longest input the model accepts, ignoring the huge sentinel some tokenizers report."""
    limits = []
    if getattr(tokenizer, "model_max_length", None) and tokenizer.model_max_length < 100_000:
        limits.append(int(tokenizer.model_max_length))
    positions = getattr(config, "max_position_embeddings", None) if config is not None else None
    if positions:
        if getattr(config, "model_type", None) in POSITIONS_AFTER_PADDING:
            positions -= (getattr(config, "pad_token_id", None) or 0) + 1
        limits.append(int(positions))
    return min(limits) if limits else 512

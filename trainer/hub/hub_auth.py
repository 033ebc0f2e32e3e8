"""Whose token a Hub request carries: the caller's own, or none; the operator's only in an app private to them.

``huggingface_hub`` sends ``HF_TOKEN`` (or the token saved by ``hf auth login``) with every request that
does not name a token, so an app whose operator set ``HF_TOKEN`` would otherwise read the operator's
private datasets and models for any visitor. ``seal_operator_token`` (called once by the app before it
serves) takes the token out of the environment and turns implicit tokens off; from then on every Hub call
names its token explicitly (``caller_token``), and one with none is anonymous.
"""

from __future__ import annotations

import os

SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN")
_operator_token: str | None = None


def operator_mode() -> bool:
    """The operator said the app serves only them (``CLASSITUNE_OPERATOR_TOKEN=1``), and it is not a Space."""
    return os.environ.get("CLASSITUNE_OPERATOR_TOKEN") == "1" and not os.environ.get("SPACE_ID")


def seal_operator_token() -> None:
    """Keep the operator's token in memory only, and make ``huggingface_hub`` send no token it was not given."""
    global _operator_token
    for name in SECRET_ENV:
        value = os.environ.pop(name, None)
        if value and _operator_token is None:
            _operator_token = value.strip()
    os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"  # also read by worker processes at import
    import huggingface_hub.constants

    huggingface_hub.constants.HF_HUB_DISABLE_IMPLICIT_TOKEN = True


def caller_token(typed: str | None = None, signed_in: str | None = None) -> str | None:
    """The token a caller's Hub request uses: the one typed for this request, else their sign-in's, else the
    operator's where the app is private to the operator, else none (anonymous: public repos only)."""
    for token in (typed, signed_in):
        if isinstance(token, str) and token.strip():
            return token.strip()
    if operator_mode():
        return _operator_token or os.environ.get("HF_TOKEN")
    return None

"""What every tab shares: who the visitor is, how errors are shown, the service singleton."""

from __future__ import annotations

import functools
import logging
import os
import secrets

import gradio as gr

from trainer.errors import UserError
from trainer.service import Service

log = logging.getLogger("classitune")
_service: Service | None = None


def service() -> Service:
    global _service
    if _service is None:
        _service = Service()
    return _service


def owner_key(browser_id: str | None, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None) -> str:
    """The visitor's identity: Hugging Face login on a Space, else a per-browser id, else the API session."""
    if profile is not None and getattr(profile, "username", None):
        return f"hf:{profile.username}"
    if browser_id:
        return f"browser:{browser_id}"
    if request is not None and request.session_hash:
        return f"session:{request.session_hash}"
    raise gr.Error("Could not tell who you are; reload the page.")


def browser_state_secret() -> str:
    """A stable key for the browser-id cookie, kept in the data root, so ids survive an app restart."""
    path = service().store.root / ".browser-state-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def new_browser_id(current: str | None) -> str:
    """Give a browser its id on its first visit; keep it after that (it lives in the browser's storage)."""
    return current or secrets.token_urlsafe(18)


def user_errors(fn):
    """Show a ``UserError`` as its message and anything else as a short apology, never as a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except gr.Error:
            raise
        except Exception as exc:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong on our side ({type(exc).__name__}). Your data is unchanged; "
                           f"please try again.", print_exception=False) from None
    return wrapper

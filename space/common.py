"""What every tab shares: who the visitor is, how errors are shown, the service singleton."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import secrets
import threading
import time

import gradio as gr

from trainer.errors import UserError
from trainer.hub.hub_auth import caller_token
from trainer.service import Service

from .plain import markdown_text

log = logging.getLogger("classitune")
_service: Service | None = None


def service() -> Service:
    global _service
    if _service is None:
        from .zerogpu import gpu_slot_launcher, on_zerogpu

        # A standby worker makes Start train within seconds; CLASSITUNE_STANDBY_WORKER=0 saves its ~0.55 GB.
        _service = Service(standby=os.environ.get("CLASSITUNE_STANDBY_WORKER", "1") != "0",
                           gpu_slot=gpu_slot_launcher() if on_zerogpu() else None)
    return _service


_TOKEN_USERS: dict[str, tuple[str, float]] = {}
# Reading a file is the web process's largest allocation (up to the upload limit, decoded): every event that
# reads one (upload, validate, the Hub box, the validate_dataset endpoint) shares this many slots.
INTAKE_EVENTS = dict(concurrency_id="intake",
                     concurrency_limit=int(os.environ.get("CLASSITUNE_INTAKE_CONCURRENCY", "2")))

_TOKEN_USERS_LOCK = threading.Lock()
TOKEN_USER_TTL_SECONDS = 600
REJECTED_TOKEN_TTL_SECONDS = 60
TOKEN_CACHE_SIZE = 10_000


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def token_user(token: str) -> str:
    """The Hub user a token belongs to, asked of the Hub and remembered in memory (by hash) for 10 minutes; a
    token the Hub rejects is remembered for a minute, so a caller repeating a bogus token does not send the Hub
    one request per call. At most ``TOKEN_CACHE_SIZE`` tokens are remembered (oldest forgotten first)."""
    from trainer.hub.client import whoami

    key = _digest(token)
    with _TOKEN_USERS_LOCK:
        name, expires = _TOKEN_USERS.get(key, ("", 0.0))
    if time.time() < expires:
        if isinstance(name, UserError):
            raise UserError(str(name))
        return name
    try:
        name, ttl = whoami(token), TOKEN_USER_TTL_SECONDS
    except UserError as exc:
        name, ttl = exc, REJECTED_TOKEN_TTL_SECONDS
    with _TOKEN_USERS_LOCK:
        _TOKEN_USERS[key] = (name, time.time() + ttl)
        while len(_TOKEN_USERS) > TOKEN_CACHE_SIZE:
            _TOKEN_USERS.pop(next(iter(_TOKEN_USERS)))
    if isinstance(name, UserError):
        raise UserError(str(name))
    return name


def owner_key(browser_id: str | None, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None,
              token: gr.OAuthToken | None = None) -> str:
    """The caller's identity, which owns runs.

    A Hugging Face login (the Space's sign-in button, or a script's ``Client(..., oauth_token=...)``,
    checked with the Hub) is the same user in every browser and script; else the browser's
    private id; else an ``Authorization: Bearer`` key (how MCP clients say who they are: a Hugging Face
    token is its user, any other key its own owner); else the API client's session. MCP calls without a
    key are refused: Gradio runs them all in one shared session. Browser ids, keys and sessions are stored hashed.
    """
    if profile is not None and getattr(profile, "username", None):
        return f"hf:{profile.username}"
    if token is not None and getattr(token, "token", None):
        return f"hf:{token_user(token.token)}"
    if browser_id:
        if not isinstance(browser_id, str):  # the browser sends its id: from a script it can be anything
            raise gr.Error("Could not tell who you are; reload the page.")
        return f"browser:{_digest(browser_id)}"
    key = bearer_key(request)
    if key:
        if key.startswith("hf_"):  # a Hugging Face token (an MCP client's usual header on a Space): its user
            return f"hf:{token_user(key)}"
        if len(key) < MCP_KEY_MIN_LENGTH:
            raise gr.Error(f"The Authorization bearer key is your identity here: use at least {MCP_KEY_MIN_LENGTH} "
                           "random characters (or a Hugging Face token).")
        return f"key:{_digest(key)}"
    if _header(request, "x-gradio-user") == "mcp":
        # Gradio's MCP server calls every tool through one shared client session: it names no caller.
        raise gr.Error("MCP clients need an identity to own runs: send the header \"Authorization: Bearer <key>\" "
                       f"(a private key of {MCP_KEY_MIN_LENGTH}+ random characters, or a Hugging Face token).")
    if request is not None and request.session_hash:
        return f"session:{_digest(request.session_hash)}"
    raise gr.Error("Could not tell who you are; reload the page.")


MCP_KEY_MIN_LENGTH = 16


def _header(request: gr.Request | None, name: str) -> str:
    headers = getattr(request, "headers", None) if request is not None else None
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value if isinstance(value, str) else ""
    return ""


def bearer_key(request: gr.Request | None) -> str:
    """The key in an ``Authorization: Bearer <key>`` header (MCP clients send one; gradio_client never does)."""
    scheme, _, key = _header(request, "authorization").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def publish_token(typed: str | None, oauth: gr.OAuthToken | None) -> str | None:
    """The token a caller's Hub request (a write, or a read of a private repo) uses: typed for this request, else
    the signed-in user's, else none (trainer/hub_auth.py). The server's own ``HF_TOKEN`` serves only an operator
    who said the app is theirs alone (``CLASSITUNE_OPERATOR_TOKEN=1``, never on a Space)."""
    return caller_token(typed, getattr(oauth, "token", None) if oauth is not None else None)


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
    return current if isinstance(current, str) and current else secrets.token_urlsafe(18)


def error_box(elem_id: str) -> gr.Markdown:
    """Where an action's error stays, next to its button, until the user acts again (a toast fades in seconds)."""
    return gr.Markdown(visible=False, elem_id=elem_id, elem_classes=["action-error"])


def shown_errors(outputs: int, on_error=None):
    """For a UI handler whose last output is its ``error_box``: an error is written there and the other outputs
    are left as they were (or set to ``on_error()``); a success empties the box. (API endpoints keep
    ``user_errors``: scripts get the error.)"""
    def decorate(fn):
        safe = user_errors(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                result = safe(*args, **kwargs)
            except gr.Error as exc:
                kept = on_error() if on_error else [gr.skip()] * outputs
                return (*kept, gr.update(value=f"⚠️ {markdown_text(exc.message)}", visible=True))
            return (*(result if outputs > 1 else (result,)), gr.update(value="", visible=False))
        return wrapper
    return decorate


def user_errors(fn):
    """Show a ``UserError`` as its message and anything else as a short apology, never as a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            raise gr.Error(str(exc), duration=None, print_exception=False) from None
        except gr.Error:
            raise
        except Exception as exc:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong on our side ({type(exc).__name__}). Your data is unchanged; "
                           f"please try again.", duration=None, print_exception=False) from None
    return wrapper

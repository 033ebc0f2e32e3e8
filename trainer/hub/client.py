"""Talking to the Hub for a push: the API object for a caller's token, the namespace check, and what a Hub
failure means in words a user can act on. Shared by publish.py and demo_space.py."""

from __future__ import annotations

from trainer.errors import UserError

TOKENS_URL = "https://huggingface.co/settings/tokens"


def hub_api(token: str | None, endpoint: str | None):
    from huggingface_hub import HfApi

    if not token:
        raise UserError(f"No Hugging Face token: paste a token with write access ({TOKENS_URL}) in the token box "
                        f"(on a Hugging Face Space: or use its Sign in button), or set HF_TOKEN (in the app: for its "
                        f"operator only, with CLASSITUNE_OPERATOR_TOKEN=1).")
    return HfApi(endpoint=endpoint, token=token)


def hub_error(exc: Exception, repo_id: str) -> UserError:
    """Turn what the Hub (or the network) said into something a user can act on."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code == 401:
            return UserError(f"The Hub rejected the token (invalid or expired). Create a new one with write access "
                             f"at {TOKENS_URL} and try again; your model is unchanged.")
        if code == 403:
            return UserError(f"The token has no write access to {repo_id!r}: it is read-only, the namespace "
                             f"belongs to someone else, or (signed in on the Space) the repo was not created by "
                             f"this app. Choose a new repo name, or paste a write token.")
        if code in (400, 422):
            return UserError(f"The Hub rejected the repo {repo_id!r}: {exc.server_message or exc}. Choose another name.")
        return UserError(f"The Hub answered {code} for {repo_id!r}; your model is unchanged, try again later.")
    return UserError(f"Could not reach the Hugging Face Hub ({type(exc).__name__}). Check the connection; "
                     f"your model is unchanged and the push can be retried.")


def check_namespace(api, repo_id: str) -> str:
    """Fail early, with a clear message, for a read-only token or another user's namespace."""
    who = api.whoami(cache=False)
    user = who.get("name")
    role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise UserError(f"The token of {user!r} is read-only. Create a token with write access at {TOKENS_URL}.")
    namespace = repo_id.split("/")[0]
    allowed = {user, *(org.get("name") for org in who.get("orgs") or [])}
    if namespace not in allowed:
        raise UserError(f"You are signed in as {user!r} and cannot push to {namespace!r}. "
                        f"Use '{user}/{repo_id.split('/')[-1]}' or one of your organisations.")
    return user


def whoami(token: str | None, endpoint: str | None = None) -> str:
    """The user name a token belongs to (for the default repo id)."""
    api = hub_api(token, endpoint)
    try:
        return api.whoami(cache=False)["name"]
    except UserError:
        raise
    except Exception as exc:
        raise hub_error(exc, "your account") from None

"""Text from a user's file, shown as text: never as Markdown, HTML, a link or an image.

Gradio's Markdown renders ``![x](url)`` (the browser fetches the URL), ``[x](url)`` and bare ``https://``
links; plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``) in labels. So every value that comes
from an upload passes through one of these before it reaches either.
"""

from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")  # ">" and "<" are left to html.escape


def markdown_text(value: object) -> str:
    """Escape HTML, Markdown punctuation and ``://`` (no autolink) so the value shows exactly as typed."""
    escaped = html.escape(_MARKDOWN.sub(r"\\\1", str(value)), quote=False)
    return escaped.replace("://", ":&#47;&#47;")


def plotly_text(value: object) -> str:
    """Plotly shows ``&lt;b&gt;`` as ``<b>``: the tag is displayed, not applied."""
    return html.escape(str(value))

"""Is this data English? A check on the texts themselves, good enough to steer a body, with no model to download.

English text of any register carries a few very common function words; other languages in the Latin script carry
their own, and other scripts carry few ASCII letters at all. A text counts as English when at least one of its
words is on the list below and most of its letters are ASCII; the data is English when most sampled texts are.
Short tweets and product titles can lack every function word, so the share needed is modest.
"""

from __future__ import annotations

import re

# Words common in English and rare as words of other Latin-script languages ("a", "in", "no", "was", "die" are not).
ENGLISH = frozenset("""the and of with are were this that these those you he she they my your our their him them not
does did have has had would could should what which who how why when where there here been just about very from
it's don't i'm""".split())
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
SAMPLE = 500
ENGLISH_SHARE = 0.5


def _english(text: str) -> bool:
    words = WORD.findall(text.lower())
    letters = "".join(words)
    if not letters:
        return False
    ascii_share = sum(c.isascii() for c in letters) / len(letters)
    return ascii_share > 0.9 and any(w in ENGLISH for w in words)


def language_of(texts: list[str]) -> str:
    """"en" when most of (a sample of) the texts read as English, else "other"."""
    sample = [t for t in texts[:SAMPLE] if isinstance(t, str) and t.strip()]
    if not sample:
        return "en"
    return "en" if sum(map(_english, sample)) / len(sample) >= ENGLISH_SHARE else "other"

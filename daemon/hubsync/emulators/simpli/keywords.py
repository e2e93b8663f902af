"""Whole-word, case-insensitive keyword matching for the deterministic stand-ins."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# --- Keyword matching ----------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower-case ``text`` and turn typographic apostrophes into ``'``."""
    return text.lower().replace("\u2019", "'")


@functools.lru_cache(maxsize=512)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)")


def count_keywords(text: str, keywords: Iterable[str]) -> int:
    """How many times any of ``keywords`` occurs in ``text`` as whole words, case-insensitively."""
    lowered = normalise(text)
    return sum(len(_keyword_pattern(keyword).findall(lowered)) for keyword in keywords)


def find_keywords(text: str, keywords: Iterable[str]) -> list[str]:
    """The distinct ``keywords`` found in ``text`` as whole words, by first appearance."""
    lowered = normalise(text)
    found = []
    for keyword in keywords:
        match = _keyword_pattern(keyword).search(lowered)
        if match:
            found.append((match.start(), keyword))
    return [keyword for _, keyword in sorted(found)]

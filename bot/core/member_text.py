"""Text members type, made safe to store, show and compare.

Members control titles, names and reasons that the bot shows to others (review cards, role
names, posts). Invisible characters make a title that looks empty; full-width or zero-width
variants make "Berlin" and "Ｂｅｒｌｉｎ" two different groups. So every piece of member text is
normalised once, where it enters: Unicode NFKC (full-width and other compatibility forms become
plain ones), format characters removed (zero-width spaces and joiners, bidirectional overrides,
the byte-order mark), whitespace collapsed. Names are compared by :func:`name_key`, casefolded
on top. A word that mixes scripts with look-alike letters ("Mеetup" with a Cyrillic "е") is
refused by :func:`spoofing_problem`, the per-word rule browsers apply to domain names, so
"東京 meetup" stays fine.
"""

from __future__ import annotations

import re
import unicodedata

from confusable_homoglyphs import confusables

_SPACES = re.compile(r"\s+")
_LINE_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _visible(text: str) -> str:
    """NFKC, without format (Cf) characters; other control characters become spaces."""
    text = unicodedata.normalize("NFKC", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        kept.append(" " if category == "Cc" and char != "\n" else char)
    return "".join(kept)


def clean_line(text: str) -> str:
    """One line (a title, a name): normalised, whitespace collapsed to single spaces."""
    return _SPACES.sub(" ", _visible(text)).strip()


def clean_text(text: str) -> str:
    """Free text (a reason, a comment): normalised, line breaks kept, at most one blank line."""
    lines = [_LINE_SPACES.sub(" ", line).strip() for line in _visible(text).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def name_key(text: str) -> str:
    """What two names are compared by: the same for case, width and invisible variants."""
    return unicodedata.normalize("NFKC", clean_line(text).casefold())


def spoofing_problem(text: str) -> str | None:
    """Why ``text`` may be a look-alike of another name, or None."""
    for word in clean_line(text).split(" "):
        if confusables.is_dangerous(word):
            return (
                f"“{word}” mixes letters of different alphabets that look alike (for example "
                "a Cyrillic “е” among Latin letters). Type it in one alphabet."
            )
    return None

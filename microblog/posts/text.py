"""A post's text: how long people count it, and the web addresses in it.

The browser counts the same way under the post box (static/app.js, with URL_PATTERN from the
page and `Intl.Segmenter`), so the counter and the server never disagree.
"""
import re

import regex
from markupsafe import Markup, escape

# An http or https address, up to a space, a quote or angle bracket; it may hold (balanced)
# parentheses but does not end in punctuation ("see https://example.org/a." ends at "a"). Plain
# syntax that means the same in Python and JavaScript.
URL_PATTERN = (r"https?://(?:[^\s<>\"'()]|\([^\s<>\"'()]*\))*"
               r"(?:[^\s<>\"'().,;:!?\]]|\([^\s<>\"'()]*\))")
URL_LENGTH = 23  # what an address counts for, whatever its length (as Mastodon)
SHOWN_URL = 30  # characters of an address shown in a post; the link holds all of it
LINK_REL = "nofollow noopener noreferrer ugc"  # links in what people write (here and, later, elsewhere)

_URL = re.compile(URL_PATTERN)
_GRAPHEME = regex.compile(r"\X")


def _graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def length(text: str) -> int:
    """Characters as people count them: grapheme clusters (a flag, an emoji with its skin tone,
    "é" written as e and an accent: one each), every web address as URL_LENGTH."""
    count, end = 0, 0
    for found in _URL.finditer(text):
        count += _graphemes(text[end:found.start()]) + URL_LENGTH
        end = found.end()
    return count + _graphemes(text[end:])


def linkify(text: str) -> Markup:
    """`text` escaped, its http and https addresses made links; nothing else is interpreted."""
    parts, end = [], 0
    for found in _URL.finditer(text):
        url = found.group()
        parts += [escape(text[end:found.start()]),
                  Markup('<a href="{}" rel="{}" class="post-link">{}</a>').format(url, LINK_REL, _shown(url))]
        end = found.end()
    return Markup("").join([*parts, escape(text[end:])])


def _shown(url: str) -> str:
    """"https://www.example.org/a/long/path" as a post shows it: "example.org/a/long/path", cut."""
    shown = url.split("://", 1)[1].removeprefix("www.")
    return shown if len(shown) <= SHOWN_URL else shown[:SHOWN_URL - 1] + "…"

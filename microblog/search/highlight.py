"""Matched words marked in a post: escaped text with `<mark>` only, whatever the post says."""
import re
from functools import lru_cache

from markupsafe import Markup, escape
from whoosh.lang import has_stemmer, stemmer_for_language

WORD = re.compile(r"\w+")
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
PREFIX = re.compile(r"(\w+)\*")


@lru_cache(maxsize=32)
def _stem_function(language: str):
    return stemmer_for_language(language) if language and has_stemmer(language) else None


def query_terms(query: str) -> tuple[set[str], set[str]]:
    """The words of a query (lower case) and its prefixes (`word*`); operators and negated words
    (`-word`, `NOT word`) are not searched for, so never marked."""
    prefixes = {m.lower() for m in PREFIX.findall(query)}
    words: set[str] = set()
    negate = False
    for token in re.findall(r"-?\w+\*?", PREFIX.sub(" ", query)):
        if token in OPERATORS:
            negate = token == "NOT" or token == "ANDNOT"
            continue
        if not negate and not token.startswith("-"):
            words.add(token.lower())
        negate = False
    return words, prefixes


def highlight(body: str, language: str, query: str) -> Markup:
    """`body` escaped, each word the query matches (itself, its stem in the post's language, or a
    prefix) inside `<mark>`."""
    words, prefixes = query_terms(query)
    stem = _stem_function(language)
    stems = {stem(word) for word in words} if stem else set()

    def matches(word: str) -> bool:
        word = word.lower()
        return (word in words or any(word.startswith(p) for p in prefixes)
                or (stem is not None and stem(word) in stems))

    parts, last = [], 0
    for found in WORD.finditer(body):
        if matches(found.group()):
            parts.append(escape(body[last:found.start()]))
            parts.append(Markup("<mark>%s</mark>") % found.group())
            last = found.end()
    parts.append(escape(body[last:]))
    return Markup("").join(parts)

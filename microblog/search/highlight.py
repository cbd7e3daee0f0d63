"""Matched words marked in a post: escaped text with `<mark>` only, whatever the post says."""
import re
from functools import lru_cache

from markupsafe import Markup, escape
from whoosh.lang import has_stemmer, stemmer_for_language

from .query import Query

WORD = re.compile(r"\w+")


@lru_cache(maxsize=32)
def _stem_function(language: str):
    return stemmer_for_language(language) if language and has_stemmer(language) else None


def highlight(body: str, language: str, query: Query) -> Markup:
    """`body` escaped, each word the query looks for (itself, its stem in the post's language, or a
    prefix) inside `<mark>`; excluded words are not looked for, so never marked."""
    words, prefixes = query.words()
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

"""What a searcher may type, read into a structure that both backends translate.

The grammar; anything else in the text is read as plain words, never an error:

  word           posts with the word (the backends also match its stem in the post's language)
  "two words"    the words next to each other, in this order
  tea OR coffee  either; OR joins the word before it and the word after it, so
                 `lemon tea OR coffee` is lemon and (tea or coffee)
  -word          posts without the word (a search of only these finds nothing: it would read every post)
  word*          words that begin with `word`: 3 characters at least, a `*` only at the end

No field names, no `*` at the start or inside a word, no `?`, ranges or boosts: `timestamp:*` is the
word "timestamp", `*a*` the word "a". Only the first MAX_TERMS words are read (each word of a phrase
and each excluded word counts), and a prefix stands for at most PREFIX_TERMS words of the index.
That is what bounds a search's work: Whoosh's time limit bounds only collecting hits, not expanding
wildcards, and a 129-character `*a* OR *e* ... OR *z*` once took 17 s of CPU.
"""
import re
from dataclasses import dataclass

MAX_TERMS = 8
PREFIX_TERMS = 50

WORD = re.compile(r"\w+")
TOKEN = re.compile(r'"([^"]*)"?|(\S+)')  # a phrase (its closing quote may be missing) or a bare token
EXCLUDED = re.compile(r"-(\w+)")
PREFIX = re.compile(r"(\w{3,})\*")


@dataclass(frozen=True)
class Word:
    text: str  # lower case
    prefix: bool = False  # True: any word beginning with `text`


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]  # two or more, lower case


@dataclass(frozen=True)
class Query:
    """Posts with one item of every group, and with none of the excluded words."""

    groups: tuple[tuple[Word | Phrase, ...], ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def heavy(self) -> bool:
        """A prefix: its words are looked up in the index's list of words, a costlier search."""
        return any(isinstance(item, Word) and item.prefix for group in self.groups for item in group)

    def words(self) -> tuple[set[str], set[str]]:
        """The words searched for and the prefixes (what the highlighter marks)."""
        items = [item for group in self.groups for item in group]
        words = {w.text for w in items if isinstance(w, Word) and not w.prefix}
        words.update(word for phrase in items if isinstance(phrase, Phrase) for word in phrase.words)
        return words, {w.text for w in items if isinstance(w, Word) and w.prefix}


def parse(text: str) -> Query:
    groups: list[list[Word | Phrase]] = []
    excluded: list[str] = []
    budget = MAX_TERMS
    joined = False  # the last token was OR: the next item joins the last group

    def add(item: Word | Phrase) -> None:
        nonlocal joined
        if joined and groups:
            groups[-1].append(item)
        else:
            groups.append([item])
        joined = False

    for phrase, bare in TOKEN.findall(text):
        if bare == "OR":
            joined = True
            continue
        phrase, bare = phrase.lower(), bare.lower()
        if not bare:  # a phrase
            words = WORD.findall(phrase)[:budget]
            items = [Phrase(tuple(words))] if len(words) > 1 else [Word(w) for w in words]
        elif exclusion := EXCLUDED.fullmatch(bare):
            if budget:
                excluded.append(exclusion.group(1))
                budget -= 1
            joined = False
            continue
        elif prefix := PREFIX.fullmatch(bare):
            items = [Word(prefix.group(1), prefix=True)]
        else:
            items = [Word(w) for w in WORD.findall(bare)[:budget]]
        for item in items:
            budget -= len(item.words) if isinstance(item, Phrase) else 1
            add(item)
        if budget <= 0:
            break
    return Query(tuple(tuple(group) for group in groups), tuple(excluded))

"""HTML from other servers (a Note's `content`, later a Person's `summary`), made safe to show here,
and its plain text.

`safe_html` keeps an allow-list and nothing else: paragraphs, line breaks, links (http and https
only, each with the rel that links in what people write get here, posts/text.LINK_REL) and spans,
with only the classes Mastodon writes (mentions, hashtags, and the `invisible`/`ellipsis` spans
that shorten a long address). Scripts and styles go with their content; images, frames, `on*`,
`style`, `target` and every other tag or attribute go, their text kept. nh3 (ammonia, a parser
as browsers parse) does the work: a regular expression never sees HTML as a browser will.

`plain_text` is the same HTML as words: paragraphs and `<br>` become line breaks, entities become
letters. Search, language detection and translation read this, never the markup; it keeps the
`invisible` parts, so an address is whole there.

Here, not in posts/: only what comes from elsewhere is HTML (a post written here is plain text,
linkified when shown), and profiles from elsewhere will need the same rules.
"""
from html.parser import HTMLParser

import nh3

from ..posts.text import LINK_REL

MASTODON_CLASSES = {"h-card", "mention", "hashtag", "u-url", "invisible", "ellipsis"}
_CLEANER = nh3.Cleaner(
    tags={"p", "br", "a", "span"},
    # Gone with what is inside them (their text is no one's words); any other tag leaves its text.
    clean_content_tags={"script", "style", "template", "iframe", "object", "noscript", "svg", "math", "title",
                        "textarea", "select"},
    attributes={"a": {"href"}},
    allowed_classes={"a": MASTODON_CLASSES, "span": MASTODON_CLASSES},
    url_schemes={"http", "https"},
    url_relative="deny",  # an address relative to what? Not to this site.
    link_rel=LINK_REL,
    strip_comments=True,
)


def safe_html(html: str) -> str:
    """`html` from elsewhere with only what the allow-list keeps (safe to show as Markup)."""
    return _CLEANER.clean(html).strip()


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The words of `html` (made safe first: what is not shown is not read), paragraphs apart by
    a blank line, `<br>` as a line break, entities decoded."""
    parser = _Text()
    parser.feed(safe_html(html))
    parser.close()
    lines = "".join(parser.parts).split("\n")
    text = "\n".join(line.strip(" \t") for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()

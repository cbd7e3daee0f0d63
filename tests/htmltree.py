"""A small document tree for reading HTML in tests, built with html.parser.

`parse(html)` gives the "#document" Element of a page or fragment: elements with their tag,
attributes, children, text (entities decoded) and their inner HTML as it stands in the source.
helpers.py reads pages with it.
"""
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    source: str = field(repr=False)
    start: int = 0  # where the start tag begins in `source`
    inner_start: int = 0  # after the start tag
    inner_end: int | None = None  # where the end tag begins (None: never closed)
    parent: "Element | None" = field(default=None, repr=False)
    children: list["Element | str"] = field(default_factory=list, repr=False)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()

    def iter(self):
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list["Element"]:
        """Descendants with this tag (any, if None) and these attribute values (`hx_target=` for
        `hx-target`)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [e for e in self.iter()
                if (tag is None or e.tag == tag) and all(e.attrs.get(n) == v for n, v in wanted.items())]

    def find(self, tag: str | None = None, **attrs) -> "Element | None":
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    @property
    def text(self) -> str:
        """All the text inside, entities decoded, as it stands in the source."""
        return self.text_without()

    def text_without(self, *tags: str) -> str:
        """The text inside, leaving out elements with these tags (and what is in them)."""
        return "".join(c if isinstance(c, str) else c.text_without(*tags) for c in self.children
                       if isinstance(c, str) or c.tag not in tags)

    @property
    def inner_html(self) -> str:
        end = len(self.source) if self.inner_end is None else self.inner_end
        return self.source[self.inner_start:end]


class _TreeBuilder(HTMLParser):
    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.root = Element("#document", {}, source, 0, 0, len(source))
        self.open = [self.root]

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs, closed=False):
        start = self._offset()
        element = Element(tag, {k: "" if v is None else v for k, v in attrs}, self.source, start,
                          start + len(self.get_starttag_text()), parent=self.open[-1])
        self.open[-1].children.append(element)
        if closed or tag in VOID:
            element.inner_end = element.inner_start
        else:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs, closed=True)

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                end = self._offset()
                for element in self.open[depth:]:
                    element.inner_end = end
                del self.open[depth:]
                return  # an end tag nobody opened is ignored, as browsers do

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(html: str) -> Element:
    """The document (or fragment) as a tree of Elements under a "#document" root."""
    builder = _TreeBuilder(html)
    builder.feed(html)
    builder.close()
    return builder.root


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()

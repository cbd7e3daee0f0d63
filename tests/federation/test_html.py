"""HTML from other servers: what is kept (Mastodon's paragraphs, links, mentions and hashtags) and
what never reaches a page (scripts, handlers, styles, pictures, frames, addresses that run code);
and its plain text, which search, language detection and translation read."""
import pytest

from microblog.federation.html import plain_text, safe_html

REL = 'rel="nofollow noopener noreferrer ugc"'

MASTODON = ('<p><span class="h-card" translate="no"><a href="https://social.example/@carol" class="u-url mention">'
            '@<span>carol</span></a></span> look: <a href="https://example.org/a/very/long/path" target="_blank" '
            'rel="nofollow noopener" translate="no"><span class="invisible">https://</span><span class="ellipsis">'
            'example.org/a/very</span><span class="invisible">/long/path</span></a></p>'
            '<p><a href="https://social.example/tags/tea" class="mention hashtag" rel="tag">#<span>tea</span></a></p>')


def test_mastodons_html_is_kept_with_our_rel_and_no_target():
    html = safe_html(MASTODON)
    assert '<span class="h-card"><a href="https://social.example/@carol" class="u-url mention" ' + REL in html
    assert '<span class="invisible">https://</span><span class="ellipsis">example.org/a/very</span>' in html
    assert '<a href="https://social.example/tags/tea" class="mention hashtag" ' + REL in html
    assert "target" not in html and "translate" not in html and 'rel="tag"' not in html


@pytest.mark.parametrize("dangerous, kept", [
    ('<p>hi<script>alert("x")</script></p>', "<p>hi</p>"),
    ('<p onclick="steal()" onmouseover="steal()">hi</p>', "<p>hi</p>"),
    ('<style>body { display: none }</style><p style="color: red">hi</p>', "<p>hi</p>"),
    ('<a href="javascript:alert(1)">hi</a>', f"<a {REL}>hi</a>"),
    ('<a href=" JaVaScRiPt:alert(1)">hi</a>', f"<a {REL}>hi</a>"),
    ('<a href="java&#x09;script:alert(1)">hi</a>', f"<a {REL}>hi</a>"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">hi</a>', f"<a {REL}>hi</a>"),
    ('<a href="/relative">hi</a>', f"<a {REL}>hi</a>"),
    ('<img src="https://tracker.example/x.png" onerror="steal()">hi', "hi"),
    ('<iframe src="https://evil.example/"></iframe>hi', "hi"),
    ('<svg><script>alert(1)</script></svg>hi', "hi"),
    ('<span class="h-card evil big" id="x" data-x="1">hi</span>', '<span class="h-card">hi</span>'),
    ('<div><b><i><u>hi</u></i></b></div>', "hi"),
    ('<form action="https://evil.example/"><input name="password"><button>hi</button></form>', "hi"),
    ('<!-- a comment --><p>hi</p>', "<p>hi</p>"),
])
def test_what_could_harm_a_reader_is_gone(dangerous, kept):
    assert safe_html(dangerous) == kept


def test_text_in_tags_that_go_is_kept_escaped():
    assert safe_html("<p><b>&lt;script&gt;</b> is <em>how</em> it starts</p>") == \
        "<p>&lt;script&gt; is how it starts</p>"


def test_nested_tags_keep_what_is_allowed_inside_what_is_not():
    assert safe_html('<blockquote><p>a <a href="https://x.example/">link</a></p></blockquote>') == \
        f'<p>a <a href="https://x.example/" {REL}>link</a></p>'


def test_plain_text_has_line_breaks_for_paragraphs_and_br_and_letters_for_entities():
    html = "<p>One &amp; two&nbsp;&lt;three&gt;<br>caf&eacute; &#128512;</p><p>Second</p><p></p>"
    assert plain_text(html) == "One & two\xa0<three>\ncafé 😀\n\nSecond"


def test_plain_text_reads_no_script_and_keeps_addresses_whole():
    assert plain_text(MASTODON) == "@carol look: https://example.org/a/very/long/path\n\n#tea"
    assert plain_text("<p>hi<script>alert(1)</script><style>p{}</style></p>") == "hi"


def test_plain_text_of_text_is_the_text():
    assert plain_text("no markup at all") == "no markup at all"
    assert plain_text("") == ""

"""HTML comment bodies turned into the plain text we store (importers/html_text.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.html_text import to_text

DISQUS_MESSAGE = (
    "<p>I think the point is underrated. Most founders don&#39;t see it &amp; pay.</p>"
    '<p>See <a href="https://example.com/2019/05/venture-debt" rel="nofollow noopener"'
    ' title="https://example.com/2019/05/venture-debt">example.com/2019/05/ven...</a> for more.'
    "<br>Also, <b>the timing</b> matters.</p><p>Two cents &#8212; what do you think?</p>"
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>one</p>\n\n\n<p>two</p>", "one\n\ntwo"),
        ("line<br>next<br/>last", "line\nnext\nlast"),
        ("a<br><br><br><br>b", "a\n\nb"),
        ("<p>a<br></p><p>b</p>", "a\n\nb"),
        ("<P>Shout</P><BR />x<Br>y", "Shout\n\nx\ny"),
        ("<ul><li>one</li><li>two</li></ul>after", "one\ntwo\n\nafter"),
        ("<blockquote>quoted</blockquote>reply", "quoted\n\nreply"),
    ],
)
def test_paragraphs_are_blank_lines_and_breaks_newlines(html: str, text: str) -> None:
    """Block elements end a paragraph (one blank line however many there are), <br> ends a
    line (two of them a paragraph), list items a line."""
    assert to_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (
            "Tom &amp; Jerry &lt;3 &quot;x&quot; &#39;y&#39; &#x2014; &eacute;",
            "Tom & Jerry <3 \"x\" 'y' \u2014 \u00e9",
        ),
        ("&lt;p&gt;not a tag&lt;/p&gt;", "<p>not a tag</p>"),
        ("AT&T and &copy and &amp;amp;", "AT&T and \u00a9 and &amp;"),
        ("a &#x1c; b", "a b"),
    ],
)
def test_entities_are_decoded_once(html: str, text: str) -> None:
    """Named and numeric entities become their characters, once: an escaped tag is text, not
    markup, and a reference to a control character is dropped."""
    assert to_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('see <a href="https://x.org/a">this page</a>.', "see this page (https://x.org/a)."),
        ('<a href="https://x.org/a">https://x.org/a</a>', "https://x.org/a"),
        ('<a href="https://x.org/a/">x.org/a</a> ok', "https://x.org/a/ ok"),
        ('<a href="https://x.org/a/long/path">x.org/a/lo...</a>', "https://x.org/a/long/path"),
        ('<a href="https://x.org/?a=1&amp;copy=2">q</a>', "q (https://x.org/?a=1&copy=2)"),
        ("<a href='https://x.org'><b>bold</b> link</a>", "bold link (https://x.org)"),
        ('<a href="https://x.org"></a>', "https://x.org"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("<a name=top>anchor</a>", "anchor"),
    ],
)
def test_links_keep_their_text_and_their_url(html: str, text: str) -> None:
    """A link is "text (url)", or the URL alone when its text is the URL (with or without the
    scheme, or shortened with an ellipsis as Disqus shows long links); a javascript: link and
    an anchor keep only their text."""
    assert to_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hi</p><script>alert('<p>x</p>')</script><p>there</p>", "Hi\n\nthere"),
        ("a<SCRIPT type='text/javascript'>x()</SCRIPT>b", "ab"),
        ("a<style>p { color: red }</style> b", "a b"),
        ("<p>cut<script>never closed", "cut"),
        ("x <!-- a comment --> y <!DOCTYPE html> z", "x y z"),
        ('<img src="x.png" alt="pic"> <span class="c">kept</span> <iframe></iframe>', "kept"),
    ],
)
def test_scripts_go_with_their_contents_and_other_tags_keep_their_text(
    html: str, text: str
) -> None:
    """<script> and <style> are dropped with everything inside (even unclosed); comments,
    doctypes and every other tag are dropped and the text inside them kept."""
    assert to_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("  lots   of \t spaces\nand a newline  ", "lots of spaces and a newline"),
        ("<p>  padded  </p>", "padded"),
        ("<p></p><p>  </p><br><p>only</p><br><p></p>", "only"),
        ("non&nbsp;breaking&nbsp;&nbsp;space", "non breaking space"),
        ("<b>bold</b><i>italic</i> <u>u</u>", "bolditalic u"),
        ("", ""),
        ("<p></p>", ""),
        ("a < b > c", "a < b > c"),
        ("x\x01y\x02z", "xyz"),
    ],
)
def test_whitespace_is_what_a_browser_shows(html: str, text: str) -> None:
    """Runs of whitespace are one space, no line starts or ends with one, and the text has no
    leading or trailing blank lines; inline tags join their text as written."""
    assert to_text(html) == text


def test_preformatted_text_is_kept_as_written() -> None:
    """Inside <pre> whitespace is the author's (code), apart from the newline right after the
    tag, which HTML ignores."""
    html = "<p>Try:</p><pre><code>def f():\n    return 1 &lt; 2\n</code></pre><p>done</p>"
    assert to_text(html) == "Try:\n\ndef f():\n    return 1 < 2\n\ndone"
    assert to_text("<pre>\n  {0} {x}</pre>") == "  {0} {x}"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("first line\nsecond line\n\nnew paragraph", "first line\nsecond line\n\nnew paragraph"),
        ("ends with a break<br />\nnext", "ends with a break\nnext"),
        ("<blockquote>\nquoted\n</blockquote>\n\nreply", "quoted\n\nreply"),
        ("  indented\n\n\n\n  many blank lines  ", "indented\n\nmany blank lines"),
        ("windows\r\nline ends", "windows\nline ends"),
    ],
)
def test_wordpress_newlines_are_line_breaks(html: str, text: str) -> None:
    """With keep_newlines (WordPress's autop), a newline is a line break and a blank line a
    paragraph, merged with the breaks the tags around them make."""
    assert to_text(html, keep_newlines=True) == text


def test_a_disqus_message() -> None:
    """A message as Disqus exports it: paragraphs, a shortened link, a break, entities."""
    assert to_text(DISQUS_MESSAGE) == (
        "I think the point is underrated. Most founders don't see it & pay.\n\n"
        "See https://example.com/2019/05/venture-debt for more.\n"
        "Also, the timing matters.\n\n"
        "Two cents \u2014 what do you think?"
    )


_PIECES = st.sampled_from(
    [
        "word",
        "two words",
        " ",
        "\n",
        "\n\n",
        "\t",
        "&amp;",
        "&nbsp;",
        "<p>",
        "</p>",
        "<br>",
        "<br/>",
        "<li>",
        "</li>",
        "<div>",
        "<b>",
        "</b>",
        '<a href="https://x.org">',
        "</a>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<",
        ">",
        "\x01",
        "\x02",
        "\x03",
        "\x04",
    ]
)


@given(st.lists(_PIECES | st.text(max_size=5), max_size=20).map("".join), st.booleans())
def test_any_input_gives_tidy_text(html: str, keep_newlines: bool) -> None:
    """Whatever the input: no leading or trailing whitespace, no line that starts or ends with
    a space, never more than one blank line in a row, and none of the marks the conversion
    uses inside (they are control characters no body keeps)."""
    text = to_text(html, keep_newlines=keep_newlines)
    assert text == text.strip()
    assert "\n\n\n" not in text
    assert " \n" not in text
    assert "\n " not in text
    assert not any(mark in text for mark in "\x01\x02\x03\x04")

"""Feed HTML to text: linear work on markup that never closes, and the text html.parser gave on real HTML."""

from __future__ import annotations

import pytest

from watchfloor.producers.feed_text import _Scanner, html_to_text

# Each unit repeated to ~40,000 characters. On Python 3.11.7, html.parser took 0.7 s on "</" * 40000 and
# 0.8 s on "<?" * 40000, four times as long for each doubling (2.6 s at 80,000: measured by hand, once,
# when the scanner replaced it); the scanner does the same work per character at any size, which is what
# these tests hold it to.
UNCLOSED = [
    "</",
    "<?",
    "<!",
    "<!--",
    "<![CDATA[",
    "<!doctype",
    "<![if ",
    "</x ",
    "<a ",
    "<a b='",
    "<a b='>' ",
    "<a b=\"x\" c='>' ",
    "<a b=='",
    "<a b= '",
    "<a b='>'<c d=\">\"",
    "<a =''>",
    "<script>",
    "<",
    "&#",
]
SIZE = 40_000
WORK_PER_CHARACTER = 3


@pytest.mark.parametrize("unit", UNCLOSED)
def test_markup_that_never_closes_costs_a_few_reads_per_character(unit: str) -> None:
    html = unit * (SIZE // len(unit))
    scanner = _Scanner(html)
    scanner.text()
    # A parser that searches again from every opening, as html.parser does, reads ~len²/2 characters.
    assert scanner.work <= WORK_PER_CHARACTER * len(html)


def test_an_unknown_marked_section_is_skipped_not_an_error() -> None:
    # html.parser raised AssertionError here, and the whole feed was lost ("could not parse the feed").
    assert html_to_text("before <![foo[ x ]]> after") == "before after"


def test_xhtml_line_break_is_one_break() -> None:
    # feedparser writes XHTML's <br/> as <br></br> once its sanitizer no longer rewrites it as <br />.
    assert html_to_text("one<br></br>two<hr></hr>three") == "one\ntwo\nthree"
    assert html_to_text("one</br>two") == "one\ntwo"  # a stray </br> still breaks the line

"""Feed text: HTML (an entry's title, summary or content) to plain text with tidy spacing, in linear time."""

from __future__ import annotations

import re
from html import unescape as _html_unescape

# Why not html.parser.HTMLParser: on Python 3.11.7 it is quadratic on inputs such as "</" * n, "<?" * n or
# "<!--" * n (CVE-2025-6069): every construct that is never closed sends it searching to the end of the
# input again. One 640 KB feed item took 38 s. The scanner below reads the same markup the same way on
# well-formed and ordinary broken HTML (tags, comments, declarations, script/style, entities, and the
# fallback that shows an unclosed construct as text), but it never repeats a search that has already
# failed, or that found a match still ahead of it, and it remembers how each quoted attribute value ends.

# A numeric character reference of more than 4,300 digits ("&#" + "1" * 5000) makes html.unescape raise
# ValueError (int() refuses such strings since Python 3.11), and that lost a whole feed for one item. No code
# point has more than 7 decimal digits (U+10FFFF is 1114111; leading zeros aside), and unescape turns a bigger
# number into U+FFFD: say so before it tries.
_LONG_CHARREF = re.compile(r"&#([0-9]{8,})(;?)")


def unescape(text: str) -> str:
    """html.unescape, for any input: an overlong numeric reference is U+FFFD, as unescape makes a too-big one."""
    if "&#" in text:
        text = _LONG_CHARREF.sub(_short_charref, text)
    return _html_unescape(text)


def _short_charref(m: re.Match[str]) -> str:
    number = m.group(1).lstrip("0")
    return "\ufffd" if len(number) > 7 else f"&#{number or '0'}{m.group(2)}"


_BLOCK = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table blockquote pre section article header footer hr dd dt "
    "figure figcaption".split()
)
_SKIP = frozenset({"script", "style", "template", "noscript"})
# Elements that have no end tag. feedparser writes XHTML's <br/> as "<br></br>": that is one line break, as
# its sanitizer (which wrote "<br />") made it. A "</br>" on its own still breaks the line, as before.
_VOID = frozenset({"br", "hr"})

# The patterns of html.parser and _markupbase, each matched at one place (none of them can backtrack
# further than the construct it reads).
_TAG_NAME = re.compile(r"[a-zA-Z][^\t\n\r\f />\x00]*")
_ATTR_GAP = re.compile(r"(?:\s|/(?!>))*")
_ATTR_NAME = re.compile(r"[^\s/>][^\s/=>]*")
_ATTR_EQUALS = re.compile(r"\s*=+\s*")
_BARE_VALUE = re.compile(r"[^>\s]*")
_END_TAG = re.compile(r"</\s*([a-zA-Z][-.a-zA-Z0-9:_]*)\s*>")
_SECTION_NAME = re.compile(r"[a-zA-Z][-_.a-zA-Z0-9]*\s*")
_SECTIONS = frozenset({"temp", "cdata", "ignore", "include", "rcdata"})
_MS_SECTIONS = frozenset({"if", "else", "endif"})
_RAW_TEXT_END = {tag: re.compile(rf"</\s*{tag}\s*>", re.IGNORECASE) for tag in ("script", "style")}


class _Search:
    """The first match of a pattern at or after a position. The scan only moves forward, so an answer stays
    good for any later start up to the match it found (or for every later start when there was none)."""

    def __init__(self, text: str, pattern: str) -> None:
        self._text = text
        self._pattern = re.compile(pattern)
        self._start = len(text) + 1
        self._found: re.Match[str] | None = None
        self.searched = 0  # characters gone through by searches, for the tests' bound on the work done

    def __call__(self, start: int) -> re.Match[str] | None:
        found = self._found
        if not (self._start <= start and (found is None or found.start() >= start)):
            found = self._found = self._pattern.search(self._text, start)
            self._start = start
            self.searched += (found.end() if found else len(self._text)) - start
        return found


class _Scanner:
    """One pass over an HTML string: text (unescaped) kept, tags read for line breaks and skipped content."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.parts: list[str] = []
        self._skipping = 0
        self._gt = _Search(html, ">")
        self._quote = {"'": _Search(html, "'"), '"': _Search(html, '"')}
        self._comment_end = _Search(html, r"--\s*>")
        self._section_end = _Search(html, r"]\s*]\s*>")
        self._ms_section_end = _Search(html, r"]\s*>")
        # Opening quote of an attribute value -> how the tag it is in ends (end or -1, self-closing). What
        # follows a value does not depend on where the tag began, and without this a run of tags that never
        # close ("<a b='>' " * n) would read the rest of the input once per tag.
        self._tag_ends: dict[int, tuple[int, bool]] = {}
        self._void_ends_at = -1  # where the last <br> or <hr> start tag ended
        self._tag_chars = 0  # characters of start tags read attribute by attribute

    @property
    def work(self) -> int:
        """Characters read by searches and by start tags' attribute scans (linear: a small multiple of the
        input's length, whatever the input; the tests hold it to that)."""
        searches = (self._gt, *self._quote.values(), self._comment_end, self._section_end, self._ms_section_end)
        return self._tag_chars + sum(s.searched for s in searches)

    def text(self) -> str:
        html, n, i = self.html, len(self.html), 0
        while i < n:
            j = html.find("<", i)
            if j < 0:
                j = n
            if i < j:
                self._data(unescape(html[i:j]))
            i = j
            if i < n:
                i = self._markup(i)
        return "".join(self.parts)

    def _data(self, text: str) -> None:
        if not self._skipping:
            self.parts.append(text)

    def _start(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def _end(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def _markup(self, i: int) -> int:
        """Read the construct at html[i] == '<'; return where the text resumes."""
        html = self.html
        nxt = html[i + 1 : i + 2]
        if nxt.isascii() and nxt.isalpha():
            return self._start_tag(i)
        if nxt == "/":
            return self._end_tag(i)
        if html.startswith("<!--", i):
            comment = self._comment_end(i + 4)
            return comment.end() if comment else self._unclosed(i)
        if nxt == "?":
            return self._to_gt(i, i + 2)
        if nxt == "!":
            return self._declaration(i)
        self._data("<")  # a '<' that starts nothing
        return i + 1

    def _to_gt(self, i: int, start: int) -> int:
        gt = self._gt(start)
        return gt.end() if gt else self._unclosed(i)

    def _unclosed(self, i: int) -> int:
        """As html.parser at the end of its input: an unclosed construct is text up to the next '>', else up
        to the next '<', else just its '<'."""
        gt = self._gt(i + 1)
        if gt:
            k = gt.end()
        else:
            k = self.html.find("<", i + 1)
            k = k if k >= 0 else i + 1
        self._data(unescape(self.html[i:k]))
        return k

    def _declaration(self, i: int) -> int:
        html = self.html
        if html.startswith("<![", i):
            name = _SECTION_NAME.match(html, i + 3)
            if name and name.end() == len(html):
                return self._unclosed(i)
            kind = name.group().strip().lower() if name else ""
            # html.parser raises AssertionError on any other "<![": read it as a bogus comment instead.
            if kind in _SECTIONS or kind in _MS_SECTIONS:
                close = (self._section_end if kind in _SECTIONS else self._ms_section_end)(i + 3)
                return close.end() if close else self._unclosed(i)
            return self._to_gt(i, i + 2)
        if html[i : i + 9].lower() == "<!doctype":
            return self._to_gt(i, i + 9)
        return self._to_gt(i, i + 2)  # a bogus comment: up to the next '>'

    def _end_tag(self, i: int) -> int:
        html = self.html
        gt = self._gt(i + 1)
        if gt is None:
            return self._unclosed(i)
        # Both patterns stop at the first '>' (no quotes in an end tag), so this reads no further than gt.
        m = _END_TAG.match(html, i)
        name = m.group(1) if m else None
        if m is None and (tolerant := _TAG_NAME.match(html, i + 2)):
            name = tolerant.group()
        if name is not None and not (i == self._void_ends_at and name.lower() in _VOID):
            self._end(name.lower())
        # "</>", "</ x>", "</3>" end nothing, as in html.parser
        return m.end() if m else gt.end()

    def _start_tag(self, i: int) -> int:
        html = self.html
        name = _TAG_NAME.match(html, i + 1)
        assert name is not None  # html[i + 1] is an ASCII letter
        if html.startswith("\x00", name.end()) and html[name.end() - 1] not in "'\"":
            # As html.parser: "<a" followed by NUL is text (after a quote, NUL may start an attribute).
            self._data(html[i : name.end()])
            return name.end()
        end, empty = self._tag_end(name.end()) if self._gt(i) else (-1, False)
        if end < 0:
            return self._unclosed(i)
        tag = name.group().lower()
        if empty:  # <br/>: a start and an end, and nothing to skip
            if tag in _BLOCK:
                self.parts.append("\n")
            return end
        self._start(tag)
        if tag in _VOID:
            self._void_ends_at = end
        if tag in _RAW_TEXT_END:  # script/style: no markup inside, only their end tag ends them
            close = _RAW_TEXT_END[tag].search(html, end)
            self._tag_chars += (close.end() if close else len(html)) - end
            if close is None:
                return len(html)  # html.parser drops an unclosed script's content
            self._end(tag)
            return close.end()
        return end

    def _tag_end(self, p: int) -> tuple[int, bool]:
        """Where a start tag whose attributes begin at p ends (-1: it does not), and whether it ends '/>'."""
        html, n, start = self.html, len(self.html), p
        opened: list[int] = []
        while True:
            p = _ATTR_GAP.match(html, p).end()  # type: ignore[union-attr]  # matches empty
            if html.startswith("/>", p):
                result = (p + 2, True)
                break
            if p >= n:
                result = (-1, False)
                break
            if html[p] == ">":
                result = (p + 1, False)
                break
            p = _ATTR_NAME.match(html, p).end()  # type: ignore[union-attr]  # html[p] is none of \s / >
            equals = _ATTR_EQUALS.match(html, p)
            if equals is None:
                continue
            v = equals.end()
            quote = html[v : v + 1]
            if quote not in self._quote:
                p = _BARE_VALUE.match(html, v).end()  # type: ignore[union-attr]  # matches empty
                continue
            known = self._tag_ends.get(v)
            if known is not None:
                result = known
                break
            opened.append(v)
            close = self._quote[quote](v + 1)
            if close is not None:
                p = close.end()
                continue
            # A quote that never closes. html.parser's pattern then backtracks: an empty value before the
            # space in front of the quote, else a bare value from the last of several '=', else a new
            # attribute named from the '=' when a space or a quote comes before it, else the tag is unclosed.
            if html[v - 1] != "=":
                p = v
            elif html[v - 2] == "=" and v - 2 >= equals.start():
                p = _BARE_VALUE.match(html, v - 1).end()  # type: ignore[union-attr]  # matches empty
            elif equals.start() < v - 1 or html[p - 1] in "'\"":
                p = v - 1
            else:
                result = (-1, False)
                break
        for q in opened:
            self._tag_ends[q] = result
        self._tag_chars += p - start
        return result


_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_space(text: str) -> str:
    """Runs of spaces (incl. no-break spaces) to one; lines trimmed; at most one blank line in a row."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Tags stripped (script/style dropped, blocks become line breaks), entities unescaped, spaces tidied."""
    if "<" not in html and "&" not in html:
        return normalize_space(html)
    return normalize_space(_Scanner(html).text())

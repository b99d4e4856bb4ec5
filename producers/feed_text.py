"""Feed text: HTML (an entry's title, summary or content) to plain text with tidy spacing."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table blockquote pre section article header footer hr dd dt "
        "figure figcaption".split()
    )
    _SKIP = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


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
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return normalize_space("".join(parser.parts))

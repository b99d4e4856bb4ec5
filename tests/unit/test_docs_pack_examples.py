"""Every whole rule pack the docs show loads as written (outside trial 82): the GDELT section's pack in docs/rules.md
and docs/gdelt.md's had no `name:`, so a desk that copied one was told `missing required key 'name'`. No test read
the docs' packs as a whole: each one that did read a block named it by its heading (the Russian pack, the --expect
file), so a new block was read by none. Here every fenced YAML block of docs/*.md is read; one with top-level
`signals` and `detections` is a whole pack, which must carry `name:` and, unless it is a schematic one with `…`
placeholders, load and compile with no error."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from watchfloor.stream_processors.rulefile import RuleLoadError, load_pack_text
from watchfloor.stream_processors.yamlfile import load_data

DOCS = Path(__file__).resolve().parents[2] / "docs"
# A fence at any indentation (a block inside a list item is indented with it), closed at the same indentation.
_FENCE = re.compile(r"^( *)```ya?ml\n(.*?)^\1```", re.S | re.M)


def fenced_yaml(text: str) -> list[tuple[int, str]]:
    """Each ```yaml block of a Markdown text: (the line of its fence, its text dedented)."""
    return [(text[: m.start()].count("\n") + 1, textwrap.dedent(m.group(2))) for m in _FENCE.finditer(text)]


def _whole_packs() -> list[Any]:
    found = []
    for doc in sorted(DOCS.glob("*.md")):
        for line, block in fenced_yaml(doc.read_text(encoding="utf-8")):
            data = load_data(block)
            if isinstance(data, dict) and "signals" in data and "detections" in data:
                found.append(pytest.param(block, data, id=f"{doc.name}:{line}"))
    return found


PACKS = _whole_packs()


def test_the_docs_whole_packs_are_found() -> None:
    # (the scan itself: a fence it cannot read would leave nothing to check, and every test below would pass)
    names = {p.id for p in PACKS}
    assert len(PACKS) >= 4, names
    assert any(n.startswith("gdelt.md:") for n in names), names


@pytest.mark.parametrize(("block", "data"), PACKS)
def test_a_whole_pack_in_the_docs_has_a_name_and_loads(block: str, data: dict[str, Any]) -> None:
    assert "name" in data, "a whole pack needs its top-level `name:` (a copied example is refused without it)"
    if "…" in block:
        return  # a schematic pack ("entities: {…}"): what its keys are, not a pack to load
    try:
        load_pack_text(block, "example.yaml")
    except RuleLoadError as e:
        pytest.fail(f"the docs' pack does not load:\n{e}")


def test_fenced_yaml_reads_an_indented_block() -> None:
    text = "- a list item:\n\n  ```yaml\n  name: x\n  signals: {}\n  ```\n\n```yaml\nb: 1\n```\n"
    assert fenced_yaml(text) == [(3, "name: x\nsignals: {}\n"), (8, "b: 1\n")]

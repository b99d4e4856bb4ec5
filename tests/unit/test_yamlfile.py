"""Reading YAML fast (yamlfile.load_data): the same data as PyYAML's own constructor, aliases shared, duplicate
keys and self-references still found."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from watchfloor.stream_processors.rulefile import RuleLoadError, load_pack_text
from watchfloor.stream_processors.yamlfile import _Core12Loader, alias_expansion_problem, load_data

REPO = Path(__file__).resolve().parents[2]


def standard(text: str) -> object:
    """The loader's data as PyYAML's SafeConstructor makes it (the path load_data replaces)."""
    assert _Core12Loader is not None
    return yaml.load(text, Loader=_Core12Loader)


def same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x):
        return math.isnan(y)
    if isinstance(x, dict) and isinstance(y, dict):
        return list(x.keys()) == list(y.keys()) and all(same(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
    return type(x) is type(y) and x == y


MIXED = """\
version: 2
name: mixed
n: [1, -2, 0x1f, 0o17, 1_000, 1.5, .inf, .nan, true, False, null, ~, '', "q", 2024-01-05, 2024-01-05 10:00:00]
keys: {1: one, 2.5: two, true: t, null: n, 2024-01-01: d, "x y": z}
block: |
  two
  lines
folded: >
  one
  line
empty:
nested: [[a, [b, {c: [d]}]], {e: {f: {g: h}}}]
binary: !!binary aGVsbG8=
"""


@pytest.mark.parametrize("name", ["mixed", *(p.name for p in sorted((REPO / "rules").glob("*.yaml")))])
def test_the_data_is_what_pyyamls_constructor_makes(name: str) -> None:
    text = MIXED if name == "mixed" else (REPO / "rules" / name).read_text(encoding="utf-8")
    assert same(load_data(text), standard(text))


def test_merge_keys_and_unusual_tags_are_left_to_pyyaml() -> None:
    text = "base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\nset: !!set {a, b}\npairs: !!omap [{k: 1}, {j: 2}]\n"
    got = load_data(text)
    assert got == standard(text)
    assert got["use"] == {"x": 1, "y": 3}


def test_an_alias_is_the_object_its_anchor_names() -> None:
    """alias_expansion_problem counts shared objects: an alias must not be a copy."""
    got = load_data("a: &l [x, {y: z}]\nb: *l\nc: [*l, *l]\nd: &m {k: *l}\ne: *m\n")
    assert got["a"] is got["b"] is got["c"][0] is got["c"][1] is got["d"]["k"]
    assert got["d"] is got["e"]


def test_a_self_reference_is_the_mapping_itself_and_refused_with_its_place() -> None:
    got = load_data("version: 1\nname: loop\nsignals: &s\n  x: *s\n")
    assert got["signals"]["x"] is got["signals"]
    problem = alias_expansion_problem(got, "loop.yaml", position=lambda _path: (4, 6))
    assert problem is not None and problem.message == "a YAML alias refers to itself"
    with pytest.raises(RuleLoadError, match=r"^loop.yaml:3:1: a YAML alias refers to itself"):
        load_pack_text("version: 1\nname: loop\nsignals: &s\n  x: *s\n", "loop.yaml")


def test_duplicate_keys_are_refused_with_their_place() -> None:
    text = "version: 2\nname: dup\nsignals:\n  a: {match: x}\n  a: {match: y}\n"
    with pytest.raises(RuleLoadError, match=r"^dup.yaml:5:3: duplicate key \"a\": a key may appear once"):
        load_pack_text(text, "dup.yaml")


def test_nesting_deeper_than_pythons_stack_still_loads() -> None:
    depth = 3000
    text = "a: " + "[" * depth + "x" + "]" * depth + "\n"
    node = load_data(text)["a"]
    for _ in range(depth - 1):
        node = node[0]
    assert node == ["x"]

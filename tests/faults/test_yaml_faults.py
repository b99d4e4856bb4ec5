"""Config and rule-pack faults: YAML alias bombs, a secret pasted where its variable's name belongs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.config import ConfigError, load_config
from watchfloor.stream_processors.rulefile import (
    MAX_YAML_NODES,
    RuleLoadError,
    alias_expansion_problem,
    load_pack_text,
)

runner = CliRunner()

# Nine levels of nine aliases: ~1 KB that stands for 9**9 (387 million) strings once expanded.
LAUGHS = "\n".join(
    [f'l0: &l0 ["{"lol" * 3}", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
)


def test_an_alias_bomb_in_a_rule_pack_is_refused_with_its_place(tmp_path: Path) -> None:
    pack = tmp_path / "bomb.yaml"
    pack.write_text("version: 1\nname: bomb\n" + LAUGHS + "\n", encoding="utf-8")
    assert pack.stat().st_size < 1500
    res = runner.invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1
    first = res.output.strip().splitlines()[0]
    # l5 is the first key whose expansion alone is over the limit (597,871 nodes: 9**5 strings and their lists).
    assert first.startswith(f"{pack}:8:1: YAML aliases expand to 597,871 nodes here"), first
    assert f"over the limit of {MAX_YAML_NODES:,}" in first


def test_an_alias_bomb_in_a_config_is_refused_with_its_place(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text("store: memory://\n" + LAUGHS + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r":7:1: YAML aliases expand to"):
        load_config(cfg)
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 1
    assert f"{cfg}:7:1: YAML aliases expand to" in res.output


def test_ordinary_anchors_and_aliases_still_load() -> None:
    pack = """\
version: 1
name: shared
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: &alpha [Alphaland, Alphan]}
  BETA: {name: Betaland, kind: country, aliases: [Betaland]}
signals:
  closure:
    match: {all: [closed, border]}
    mentions: &both {any: [ALPHA, BETA]}
  opening:
    match: {all: [opened, border]}
    mentions: *both
detections:
  - {id: closed, title: border closed, pattern: {any: closure}}
  - {id: opened, title: border opened, pattern: {any: opening}}
"""
    loaded = load_pack_text(pack, "shared.yaml")
    assert len(loaded.pack.detections) == 2


def test_a_bomb_just_under_the_limit_is_not_mistaken_for_one() -> None:
    # 4 levels of 9: 9**4 = 6,561 leaves, fine; the pack then fails for its own reasons, not the aliases.
    small = "\n".join(LAUGHS.splitlines()[:5])
    with pytest.raises(RuleLoadError) as info:
        load_pack_text("version: 1\nname: ok\n" + small + "\n", "small.yaml")
    assert "YAML aliases" not in str(info.value)


def big_honest_pack(n: int) -> str:
    """A pack of n place entities and one signal, with a '*' stem and an '&' in a title (as an honest pack may
    well have) and one small anchor/alias: over the alias limit in nodes written, but no alias bomb."""
    lines = ["version: 1", "name: harbours", "entities:"]
    lines += [f"  P{i:05d}: {{name: Place{i}, kind: place, aliases: [Place{i}, Port{i}]}}" for i in range(n)]
    lines += [
        "signals:",
        "  harbour_closed:",
        "    match: {all: [clos*, &where harbour]}",
        "    capture: {place: {kind: place}}",
        "  harbour_opened:",
        "    match: {all: [opened, *where]}",
        "    capture: {place: {kind: place}}",
        "detections:",
        '  - {id: harbour-closed, title: "Port & harbour closed at {place}", pattern: {any: harbour_closed},'
        " group_by: [place]}",
    ]
    return "\n".join(lines) + "\n"


def test_a_large_honest_pack_is_not_taken_for_an_alias_bomb() -> None:
    """The limit is on what aliases add, not on what a file holds (issue 12's packs are 20,000 signals of 20
    phrases): 12,000 entities are ~110,000 nodes written, with '&' and '*' in the text and one alias."""
    text = big_honest_pack(12_000)
    loaded = load_pack_text(text, "harbours.yaml")
    assert len(loaded.pack.entities) == 12_000
    # The shape of issue 12's packs, 20,000 signals x 20 phrases (~500,000 nodes), checked by the guard alone.
    pack = {"signals": {f"s{i}": {"match": {"any": [f"word{i} phrase{j}*" for j in range(20)]}} for i in range(20_000)}}
    assert alias_expansion_problem(pack, "big.yaml", position=lambda _path: (1, 1)) is None


def test_an_alias_bomb_inside_a_large_honest_pack_is_refused_where_it_is() -> None:
    text = big_honest_pack(12_000) + LAUGHS + "\n"
    with pytest.raises(RuleLoadError) as info:
        load_pack_text(text, "harbours.yaml")
    first = str(info.value).splitlines()[0]
    # Line of l5 (the first key the aliases make too big by itself), after the pack's 12,000 + 12 lines.
    assert first.startswith(f"harbours.yaml:{12_000 + 3 + 9 + 6}:1: YAML aliases expand to 597,871 nodes here"), first


def test_aliases_that_add_just_over_the_limit_are_refused() -> None:
    """One list of 1,000 strings, used 101 times: 101,000 nodes made by aliases (the list itself is written once)."""
    big = "[" + ", ".join(f"w{i}" for i in range(1000)) + "]"
    text = f"base: &b {big}\nuses: [{', '.join(['*b'] * 101)}]\n"
    problem = alias_expansion_problem(pack_data(text), "uses.yaml", position=lambda _path: (2, 1))
    assert problem is not None and "over the limit" in problem.message
    text = f"base: &b {big}\nuses: [{', '.join(['*b'] * 99)}]\n"
    assert alias_expansion_problem(pack_data(text), "uses.yaml", position=lambda _path: (2, 1)) is None


def pack_data(text: str) -> object:
    import yaml

    return yaml.safe_load(text)


SECRET = "xoxb-2024-1111-SuperSecretValue"


@pytest.mark.parametrize(
    ("snippet", "line"),
    [
        (f'channels:\n  - {{type: slack, name: desk, channel: "#a", token_env: {SECRET}}}\n', 3),
        (f"slack:\n  token_env: {SECRET}\n", 3),
        ("slack:\n  signing_secret_env: 'my signing secret 123'\n", 3),
        ('channels:\n  - {type: slack, name: desk, channel: "#a", token_env: xoxbABC123}\n', 3),
    ],
)
def test_a_secret_pasted_as_a_variable_name_is_never_echoed(tmp_path: Path, snippet: str, line: int) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text("store: memory://\n" + snippet, encoding="utf-8")
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 1
    value = snippet.split("_env: ")[1].split("}")[0].strip().strip("'\n")
    assert value not in res.output
    assert res.output.startswith(f"{cfg}:{line}:"), res.output
    assert "_env must be the NAME of an environment variable" in res.output or "looks like a token" in res.output

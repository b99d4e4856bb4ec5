"""Two entities with one alias (the same words as the matcher reads them): the entity loaded first takes them,
so the later alias never names its own entity. `rules check` says so at the later alias, naming both entities,
the other pack and which one wins, and so does every command that loads packs to run them (here `backtest`);
the bundled pack alone has no such tie."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

DESK = """version: 2
name: desk
entities:
  WAGNER: {name: Wagner, kind: organization, aliases: [Wagner]}
  MOSCOW_CITY: {name: Moscow, kind: place, aliases: [Moscow]}
signals:
  mutiny:
    match: {any: [armed rebellion]}
    mentions: {any: [WAGNER]}
    capture: {place: {kind: place}}
detections:
  - {id: desk-mutiny, title: "mutiny{place_suffix}", pattern: {any: mutiny}}
"""

DOC = {
    "id": "d1",
    "type": "news.article",
    "published_at": "2023-06-24T08:00:00+00:00",
    "source": "Wire",
    "title": "Wagner in armed rebellion, marching on Moscow",
}


def _desk(tmp_path: Path, text: str = DESK) -> str:
    path = tmp_path / "desk.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_rules_check_warns_at_the_later_alias_naming_both_entities_and_the_winner(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    result = CliRunner().invoke(app, ["rules", "check", "builtin:dprk_russia", desk])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "also one of" in ln]
    assert len(lines) == 1, result.output
    # At the alias itself: line 5 of desk.yaml, the column of `Moscow` in `[Moscow]`.
    assert lines[0].startswith(f"{desk}:5:54: warning: alias 'Moscow' of MOSCOW_CITY is also one of RUS ")
    assert "pack 'dprk-russia', loaded before this one" in lines[0]
    assert "read as RUS, which wins, never as MOSCOW_CITY" in lines[0]
    assert "list this pack before 'dprk-russia'" in lines[0]
    assert result.output.rstrip().endswith("ok: 2 packs, 8 entities, 6 signals, 7 detections")


def test_loaded_first_wins_as_the_warning_says(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    desk = _desk(tmp_path)
    text = "Wagner fighters in armed rebellion march on Moscow."
    after = CliRunner().invoke(
        app,
        ["rules", "explain", "--rules", "builtin:dprk_russia", "--rules", desk, "--id", "desk-mutiny", "--text", text],
    )
    assert "@RUS Russia ⟶ “moscow”" in after.output and "MOSCOW_CITY" not in after.output.split("found:")[1]
    first = CliRunner().invoke(
        app,
        ["rules", "explain", "--rules", desk, "--rules", "builtin:dprk_russia", "--id", "desk-mutiny", "--text", text],
    )
    assert "capture place = MOSCOW_CITY (Moscow)" in first.output, first.output
    # Loaded first, the desk's alias wins: now RUS's `Moscow` is the one said to lose, at the bundled pack's line.
    assert "alias 'Moscow' of RUS is also one of MOSCOW_CITY (pack 'desk', loaded before this one" in caplog.text


def test_one_pack_two_entities_one_alias_the_first_defined_wins(tmp_path: Path) -> None:
    text = DESK.replace(
        "  MOSCOW_CITY: {name: Moscow, kind: place, aliases: [Moscow]}\n",
        "  MOSCOW_CITY: {name: Moscow, kind: place, aliases: [Moscow]}\n  KREMLIN: {name: Kremlin, kind: place, "
        "aliases: [Kremlin, MOSCOW]}\n",
    )
    desk = _desk(tmp_path, text)
    result = CliRunner().invoke(app, ["rules", "check", desk])
    assert result.exit_code == 0, result.output
    assert (
        f"{desk}:6:60: warning: alias 'MOSCOW' of KREMLIN is also one of MOSCOW_CITY, as 'Moscow' (earlier in this "
        "pack: entities.MOSCOW_CITY.aliases[0]): the words both spell are read as MOSCOW_CITY, which wins, never as "
        "KREMLIN; to read them as KREMLIN, define it before the other entity"
    ) in result.output


def test_backtest_of_the_merged_packs_says_it_too(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps(DOC) + "\n", encoding="utf-8")

    def backtest(*rules: str) -> subprocess.CompletedProcess[str]:
        args = [a for r in rules for a in ("--rules", r)]
        cmd = [sys.executable, "-m", "watchfloor", "backtest", str(docs), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})

    merged = backtest("builtin:dprk_russia", desk)
    assert merged.returncode == 0, merged.stderr
    assert f"rules: {desk}:5:54: warning: alias 'Moscow' of MOSCOW_CITY is also one of RUS" in merged.stderr
    assert "mutiny (Moscow)" not in merged.stdout  # what the warning says: the place is gone
    alone = backtest(desk)
    assert "also one of" not in alone.stderr and "mutiny (Moscow)" in alone.stdout, alone.stdout


def test_the_bundled_pack_alone_has_no_alias_tie() -> None:
    result = CliRunner().invoke(app, ["rules", "check", "builtin:dprk_russia"])
    assert result.exit_code == 0 and "warning" not in result.output, result.output


US_PACK = """version: 2
name: pronouns
entities:
  USA: {name: United States, kind: country, aliases: [US]}
  WE: {name: We, kind: other, aliases: [us]}
signals:
  talks:
    match: {any: [talks with @USA, talks with @WE]}
detections:
  - {id: talks, title: talks, severity: low, pattern: {any: talks}}
"""


def test_a_winner_that_keeps_its_case_takes_only_its_capitals_as_the_warning_says(tmp_path: Path) -> None:
    """`US` keeps its case (docs/rules.md), so a later `us` of another entity still reads "us" and "Us": the tie is
    only over the words in capitals, and the warning says so instead of "never"."""
    pack = _desk(tmp_path, US_PACK)
    result = CliRunner().invoke(app, ["rules", "check", pack])
    assert result.exit_code == 0, result.output
    assert (
        f"{pack}:5:41: warning: alias 'us' of WE is also one of USA, as 'US' (earlier in this pack: "
        "entities.USA.aliases[0]), which keeps its case: the words written in capitals are read as USA, which wins, "
        "otherwise as WE; to read them as WE in every case, define it before the other entity"
    ) in result.output
    assert "never as WE" not in result.output

    def found(rules: str, text: str) -> str:
        got = CliRunner().invoke(app, ["rules", "explain", "--rules", rules, "--text", text])
        assert got.exit_code == 0, got.output
        return got.output.split("found:")[1].splitlines()[0]

    assert "@USA United States ⟶ “us”" in found(pack, "Russia holds talks with US officials.")
    assert "@WE We ⟶ “us”" in found(pack, "Russia holds talks with us today.")
    # Defined first, `us` (any case) takes every spelling, "US" too: then the plain warning holds.
    usa = "  USA: {name: United States, kind: country, aliases: [US]}\n"
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text(US_PACK.replace(usa, "").replace("aliases: [us]}\n", "aliases: [us]}\n" + usa), encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(swapped)])
    assert "alias 'US' of USA is also one of WE, as 'us'" in result.output, result.output
    assert "read as WE, which wins, never as USA" in result.output
    assert "@WE We ⟶ “us”" in found(str(swapped), "Russia holds talks with US officials.")

"""A key written one level off (outside trial 51, L5): `none:` beside a signal's `match:` instead of under it,
`at_least:` beside a detection's `corroborate:`, `within:` inside its `pattern:`. `rules check` says where such a key
belongs, at the key's own FILE:LINE:COL, instead of a bare "unknown key". Packs written here (invented countries)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

PACK = """version: 2
name: grain
entities:
  N: {name: Norland, kind: country, aliases: [Norland]}
signals:
  grain_seized:
    match: {all: [grain, seized]}
    mentions: {any: [N]}
detections:
  - id: seizure
    title: "Grain seized"
    pattern: {any: grain_seized}
"""


def _check(tmp_path: Path, text: str) -> tuple[int, list[str]]:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["rules", "check", str(path)], env={"COLUMNS": "400"})
    return res.exit_code, [line.removeprefix(f"{path}:") for line in res.output.splitlines()]


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        # the tester's slip: a signal's `none` beside its match (also a key of `mentions`, for entities)
        (
            "    mentions: {any: [N]}\n",
            "    mentions: {any: [N]}\n    none: [rumour]\n",
            "9:5: unknown key 'none' (`none` belongs under `match:` (match.none) or, for entities, under `mentions:` "
            "(mentions.none))",
        ),
        (
            "    mentions: {any: [N]}\n",
            "    mentions: {any: [N]}\n    words: [harvest]\n",
            "9:5: unknown key 'words' (`words` belongs under `context:` (context.words))",
        ),
        # a signal's key inside its match
        (
            "{all: [grain, seized]}",
            "{all: [grain, seized], near: 4}",
            "7:41: unknown key 'near' in a condition (use any, all, none or regex; `near` belongs to the signal "
            "itself, beside `match:`)",
        ),
        # a signal's key inside its mentions
        (
            "{any: [N]}",
            "{any: [N], near: 4}",
            "8:26: unknown key 'near' (`near` belongs to the signal itself, beside `mentions:`)",
        ),
        # corroborate's key beside it, at the detection
        (
            "    pattern: {any: grain_seized}\n",
            "    pattern: {any: grain_seized}\n    at_least: 3\n",
            "13:5: unknown key 'at_least' (`at_least` belongs under `corroborate:` (corroborate.at_least) or, for a "
            "count, under `pattern: {count: …}` (pattern.count.at_least))",
        ),
        # a detection's key inside its corroborate
        (
            "    pattern: {any: grain_seized}\n",
            "    pattern: {any: grain_seized}\n    corroborate: {within: 2d, severity: high, realert: 3d}\n",
            "13:47: unknown key 'realert' (`realert` belongs to the detection itself, beside `corroborate:`)",
        ),
        # a detection's key inside its pattern
        (
            "{any: grain_seized}",
            "{any: grain_seized, within: 3h}",
            "12:34: unknown key 'within' (`within` belongs to the detection itself, beside `pattern:`)",
        ),
        # a reference's key beside the pattern's `any`
        (
            "{any: grain_seized}",
            "{any: grain_seized, modality: hedged}",
            "12:34: unknown key 'modality' (`modality` belongs in a reference of `pattern:` (e.g. any: {signal: …, "
            "modality: …}))",
        ),
        # a signal's key in a detection
        (
            "    pattern: {any: grain_seized}\n",
            "    pattern: {any: grain_seized}\n    near: 3\n",
            "13:5: unknown key 'near' (`near` belongs to a signal, under `signals:`)",
        ),
        # a key known nowhere near keeps its "did you mean"
        (
            "    pattern: {any: grain_seized}\n",
            "    pattern: {any: grain_seized}\n    realret: 3d\n",
            "13:5: unknown key 'realret' (did you mean 'realert'?)",
        ),
    ],
)
def test_a_key_written_one_level_off_is_said_where_it_belongs(tmp_path: Path, old: str, new: str, said: str) -> None:
    assert old in PACK
    code, got = _check(tmp_path, PACK.replace(old, new))
    assert code == 1
    assert got == [said]

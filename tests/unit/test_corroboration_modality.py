"""What counts toward `corroborate`: asserted reports, unless the rule says otherwise (outside trial 37, M4: "X
reportedly killed" and "X may have been on board, unconfirmed reports say" from two outlets made a CRITICAL,
confirmed alert). A hedged report still raises the unconfirmed alert when the pattern takes it; `modality: [asserted,
hedged]` (or `any`) counts it toward confirmation as before; `rules explain` says why a hedged one was not counted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import Detection
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import T0

PACK = """
version: 2
name: test-dam-watch
signals:
  dam_breached:
    match: {all: [dam, breached]}
    near: 6
detections:
  - id: dam-breached
    title: the dam was breached
    severity: medium
    pattern: {any: {signal: dam_breached, modality: [asserted, hedged]}}
    realert: 30d
    corroborate: {distinct: source, at_least: 2, within: 48h, severity: high%s}
"""

HEDGED_A = "The dam was allegedly breached overnight."
HEDGED_B = "The dam may have been breached, unconfirmed reports say."
FIRM = "The dam was breached overnight, engineers said."
FIRM_B = "Floodwater poured into the valley after the dam was breached at dawn."  # (another story: not a copy)


def _alerts(tmp_path: Path, extra: str, texts: list[tuple[str, str]]) -> list[Detection]:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK % extra, encoding="utf-8")
    _loaded, rules = load_rules([str(path)])
    engine = Engine(rules)
    state = engine.initial_state()
    out: list[Detection] = []
    for i, (source, text) in enumerate(texts):
        at = T0 + timedelta(hours=i + 1)
        doc = parse_document(
            {"type": "news.article", "id": f"d{i}", "published_at": at.isoformat(), "source": source, "title": text}
        )
        state, outputs = engine.process_document(state, doc)
        out += [o for o in outputs if isinstance(o, Detection)]
    return out


@pytest.mark.parametrize(
    ("extra", "texts", "confirmed"),
    [
        # two outlets saying "reportedly": unconfirmed (the trial's case), one hedged and one firm too
        ("", [("Wire A", HEDGED_A), ("Wire B", HEDGED_B)], False),
        ("", [("Wire A", HEDGED_A), ("Wire B", FIRM)], False),
        ("", [("Wire A", FIRM), ("Wire B", FIRM_B)], True),
        # the rule asks for hedged reports to count: as before
        (", modality: [asserted, hedged]", [("Wire A", HEDGED_A), ("Wire B", HEDGED_B)], True),
        (", modality: any", [("Wire A", HEDGED_A), ("Wire B", FIRM)], True),
    ],
)
def test_only_the_modalities_corroborate_counts_confirm(
    tmp_path: Path, extra: str, texts: list[tuple[str, str]], confirmed: bool
) -> None:
    got = _alerts(tmp_path, extra, texts)
    assert got and got[0].confidence == "unconfirmed" and got[0].severity == "medium"
    assert any(d.confidence == "confirmed" and d.severity == "high" for d in got) is confirmed, got


def test_explain_says_a_hedged_report_was_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK % "", encoding="utf-8")
    docs = tmp_path / "docs.jsonl"
    docs.write_text(
        "\n".join(
            f'{{"type": "news.article", "id": "d{i}", "published_at": "{(T0 + timedelta(hours=i + 1)).isoformat()}", '
            f'"source": "{src}", "title": "{text}"}}'
            for i, (src, text) in enumerate([("Wire A", HEDGED_A), ("Wire B", HEDGED_B)])
        )
        + "\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(path), str(docs)], env={"COLUMNS": "400"})
    said = " ".join(res.output.split())
    assert (
        "corroboration: 0 of 2 distinct sources within 2d (2 hedged reports not counted: corroborate counts "
        "asserted ones)"
    ) in said, said

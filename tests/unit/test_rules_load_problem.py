"""A running `run` told its rule files changed says whether they load as they are now (outside trial 69, L5: the
same "start it again" for a pack that no longer loaded, and the restart then failed with exit 1)."""

from __future__ import annotations

from pathlib import Path

from watchfloor.rule_watch import rules_load_problem

PACK = """version: 2
name: borders
signals:
  closed:
    match: {all: [closed, border]}
detections:
  - id: closure
    title: Border closed
    pattern: {any: closed}
"""


def test_a_pack_that_loads_has_no_problem_and_a_broken_one_says_where(tmp_path: Path) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(PACK, encoding="utf-8")
    assert rules_load_problem([str(pack)]) is None
    pack.write_text(PACK.replace("{any: closed}", "{any: closd}"), encoding="utf-8")
    problem = rules_load_problem([str(pack)])
    assert problem is not None and problem.startswith(f"{pack}:9:"), problem
    assert "closd" in problem, problem

"""`watchfloor status`'s comparison of the rules given with the workers': a difference of watchfloor version alone
is said as one (outside trial 15, M1: it read "other rules" across an upgrade)."""

from __future__ import annotations

from watchfloor.cli.status import RulesCheck


def test_workers_of_another_version_with_the_same_rules_are_said_so() -> None:
    check = RulesCheck("the rules desk.yaml names", "0123456789ab-v0.2.0", running=["0123456789ab-v0.1.0"])
    said = " ".join((check.message("wf-worker") or "").split())
    assert check.differs
    assert "run the rules desk.yaml names on another watchfloor version (0.1.0;" in said, said
    assert "other rules" not in said, said


def test_workers_with_other_rules_are_said_to_run_other_rules() -> None:
    for theirs in ("ba9876543210-v0.1.0", "7ee880713762"):  # (the second: a fingerprint of before the release mark)
        check = RulesCheck("--rules pack.yaml", "0123456789ab-v0.2.0", running=[theirs])
        said = check.message("wf-worker") or ""
        assert "run other rules than --rules pack.yaml" in said and theirs in said, said


def test_workers_of_before_the_release_mark_with_these_rules_are_said_to_run_another_version() -> None:
    check = RulesCheck("--rules pack.yaml", "0123456789ab-v0.2.0", running=["5555aaaa5555"], legacy="5555aaaa5555")
    said = check.message("wf-worker") or ""
    assert "on another watchfloor version (a release of before fingerprints named it;" in said, said

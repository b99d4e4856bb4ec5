"""`watchfloor status`'s comparison of the rules given with the workers': a difference of watchfloor version alone
is said as one (outside trial 15, M1: it read "other rules" across an upgrade)."""

from __future__ import annotations

from watchfloor.cli.status import RulesCheck


def test_workers_of_another_version_with_the_same_rules_are_said_so() -> None:
    # Outside trial 78, F2/F5: the same packs on another release was the verdict's "the workers run other rules",
    # exit 3, with the `status` of the other release (a rolled-back desk failed its deploy gate): a note now.
    check = RulesCheck("the rules desk.yaml names", "0123456789ab-v0.2.0", running=["0123456789ab-v0.1.0"])
    said = " ".join((check.message("wf-worker") or "").split())
    assert not check.differs and check.ok and check.release_only, check
    assert check.as_dict()["same_rules_other_release"] == ["0.1.0"], check.as_dict()
    assert said.startswith(
        "the same rules on another watchfloor release: the workers of group wf-worker run the rules "
        "desk.yaml names on another watchfloor version (0.1.0; 0.1.0+"
    ), said
    assert "other rules" not in said, said


def test_an_embedded_run_of_another_version_with_the_same_rules_is_a_note() -> None:
    check = RulesCheck("the rules desk.yaml names", "0123456789ab-v0.2.0", running=["0123456789ab-v0.1.0"])
    said = " ".join((check.embedded_message("vm:4242") or "").split())
    assert check.ok and check.release_only, check
    assert said.startswith(
        "the same rules on another watchfloor release: the `watchfloor run` that wrote the last "
        "cycle (pid 4242 on vm) runs the rules desk.yaml names on another watchfloor version (0.1.0;"
    ), said


def test_other_rules_beside_another_release_are_still_a_difference() -> None:
    check = RulesCheck(
        "--rules pack.yaml", "0123456789ab-v0.2.0", running=["0123456789ab-v0.1.0", "ba9876543210-v0.2.0"]
    )
    assert check.differs and not check.ok and not check.release_only, check
    assert "run other rules than --rules pack.yaml" in (check.message("wf-worker") or "")


def test_workers_with_other_rules_are_said_to_run_other_rules() -> None:
    for theirs in ("ba9876543210-v0.1.0", "7ee880713762"):  # (the second: a fingerprint of before the release mark)
        check = RulesCheck("--rules pack.yaml", "0123456789ab-v0.2.0", running=[theirs])
        said = check.message("wf-worker") or ""
        assert "run other rules than --rules pack.yaml" in said and theirs in said, said


def test_workers_of_before_the_release_mark_with_these_rules_are_said_to_run_another_version() -> None:
    check = RulesCheck("--rules pack.yaml", "0123456789ab-v0.2.0", running=["5555aaaa5555"], legacy="5555aaaa5555")
    said = check.message("wf-worker") or ""
    assert "on another watchfloor version (a release of before fingerprints named it;" in said, said

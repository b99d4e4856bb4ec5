"""`rules check` warns of an English phrase that begins with "to" and a verb (outside trial 56, L2): a goal cue
("call for X to", "urged X to") is read at its "to", so such a phrase holds the cue and it never applies to the
phrase ("call for France ambassador, troops to leave country" read the leaving asserted). Not "to" and a noun, nor
"to be" (written into a phrase to keep that cue off it, as documented). Headlines written for this test."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

PACK = """\
version: 2
name: goal-to
language: en
signals:
  envoy_out:
    match: {all: [envoy, {any: ["to leave", expelled]}]}
    near: 8
  troops_sent:
    match: {any: ["to Ruritania", "to be deployed"]}
"""


def test_a_phrase_that_begins_with_the_goals_to_is_warned_of(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    res = CliRunner().invoke(app, ["rules", "check", str(pack)], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    warned = [line for line in res.output.splitlines() if "warning:" in line]
    assert warned == [
        f"{pack}:6:33: warning: phrase 'to leave' of signal 'envoy_out' begins with the cue word 'to' (goal): the cue "
        "is part of the phrase and never applies to it (\"call for X to leave\" would read asserted); write 'leave'"
    ], res.output


def test_what_it_says_is_so_and_its_fix_works(tmp_path: Path) -> None:
    title = "Protesters call for the envoy to leave Ruritania"
    for phrase, reads in (('"to leave"', "asserted"), ("leave", "future")):
        pack = tmp_path / "pack.yaml"
        pack.write_text(PACK.replace('"to leave"', phrase))
        res = CliRunner().invoke(
            app, ["rules", "explain", "--rules", str(pack), "--title", title], env={"COLUMNS": "400"}
        )
        assert res.exit_code == 0, res.output
        (line,) = [x for x in res.output.splitlines() if "✓ envoy_out" in x]
        assert f": {reads} " in line, line

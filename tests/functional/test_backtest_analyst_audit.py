"""`watchfloor backtest` after the outside research-analyst audit (audit6): what the terminal says is in the
JSON result too, and what is likely a mistake in the inputs is said. Fixtures: the scoring fixture's events
(tests/data/scoring, in our own words) and short files written here."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()
SCORING = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS = SCORING / "events.jsonl"
LABEL_MAP = SCORING / "label_map.yaml"


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- LOW-8: contradictory labels -------------------------------------------------------------------------------


def test_an_id_labelled_and_none_is_warned_of_with_both_lines(tmp_path: Path) -> None:
    labels = write(
        tmp_path / "labels.csv", "id,label\nsc-01,TREATY_SIGNED\nsc-04,TROOP_DEPLOYMENT_REPORT\nsc-01,NONE\n"
    )
    code, output = run(EVENTS, "--labels", labels, "--label-map", LABEL_MAP, "--near-misses", "0")
    assert code == 0, output
    assert (
        f"warning: {labels}:4: id 'sc-01' is labelled NONE, but {labels}:2 labels it TREATY_SIGNED: it is scored as "
        "a positive"
    ) in " ".join(output.split()), output


# -- LOW-2: the dead letters past the first five -----------------------------------------------------------------


def bad_lines(tmp_path: Path, n: int) -> Path:
    """One good report and `n` lines each missing its source."""
    good = {
        "type": "news.article",
        "id": "dl-0",
        "published_at": "2024-11-01T09:00:00+00:00",
        "source": "Harbour Gazette",
        "title": "Ferry timetable changes for the winter",
    }
    bad = [{**good, "id": f"dl-{i}", "source": None} for i in range(1, n + 1)]
    return write(tmp_path / "mixed.jsonl", "".join(json.dumps(x) + "\n" for x in [good, *bad]))


def test_the_dead_letters_past_the_first_five_are_counted_and_found(tmp_path: Path) -> None:
    events = bad_lines(tmp_path, 8)
    out = tmp_path / "out.json"
    code, output = run(events, "--json", out, "--near-misses", "0")
    assert code == 0, output
    assert output.count(f"{events}:") == 5, output
    assert f"… and 3 more dead letters: {out} lists all of them (dead_letters)" in " ".join(output.split()), output
    assert len(json.loads(out.read_text())["dead_letters"]) == 8
    code, output = run(events, "--near-misses", "0")
    assert "… and 3 more dead letters: --json FILE lists all of them (dead_letters)" in output, output
    code, output = run(bad_lines(tmp_path, 5), "--near-misses", "0")  # five: all are listed
    assert code == 0 and "5 bad records skipped" in output and "more dead letters" not in output, output


def test_rules_explain_counts_the_dead_letters_it_does_not_list(tmp_path: Path) -> None:
    res = runner.invoke(app, ["rules", "explain", str(bad_lines(tmp_path, 7))])
    assert res.exit_code == 0, res.output
    assert "… and 2 more dead letters: `watchfloor backtest` over the same files with --json OUT.json" in res.output


def test_a_failed_gate_and_an_unusable_input_exit_apart(tmp_path: Path) -> None:
    """Outside trial 65, LOW-1: a damaged input and a failed gate both exited 1, so CI could not tell "the rules got
    worse" from "an input was not read". A failed gate exits 1; an unusable input 4, also when a gate failed (a
    verdict on part of the inputs), both said and kept in the JSON."""
    met = write(tmp_path / "met.yaml", "must_fire:\n  - {rule: treaty-signed, event_id: sc-01}\n")
    unmet = write(tmp_path / "unmet.yaml", "must_fire:\n  - {rule: troops-deployed, event_id: no-such-item}\n")
    missing, out = tmp_path / "missing.jsonl", tmp_path / "out.json"
    results: dict[str, tuple[int, bool, int]] = {}
    for case, args in {
        "gate failed": (EVENTS, "--expect", unmet),
        "input unusable": (EVENTS, missing, "--expect", met),
        "both": (EVENTS, missing, "--expect", unmet),
    }.items():
        code, _said = run(*args, "--json", out, "--near-misses", "0")
        data = json.loads(out.read_text())
        results[case] = (code, data["gates"]["passed"], len(data["sources_failed"]))
    assert results == {"gate failed": (1, False, 0), "input unusable": (4, True, 1), "both": (4, False, 1)}, results


# -- LOW-4: the JSON result says what the terminal says ------------------------------------------------------------


def test_the_sources_that_could_not_be_read_are_in_the_json(tmp_path: Path) -> None:
    page = write(tmp_path / "page.xml", "<html><body>moved to our new site</body></html>\n")
    missing = tmp_path / "gone.jsonl"
    out = tmp_path / "out.json"
    code, output = run(EVENTS, page, missing, "--json", out, "--near-misses", "0")
    assert code == 4, output
    data = json.loads(out.read_text())
    failed = {x["source"]: x["problem"] for x in data["sources_failed"]}
    assert set(failed) == {str(page), str(missing)}
    for problem in failed.values():  # as the terminal says it
        assert f"error: {problem}" in " ".join(output.split()), (problem, output)
    assert data["stats"]["sources_failed"] == 2
    assert data["stats"]["documents"] > 0  # the readable file was still read


def breaking_pack(tmp_path: Path) -> Path:
    """The bundled pack refusing "thousands": the first deployment report (sc-04) is no longer caught."""
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    old = 'none: ["to fight in ukraine if",'
    assert text.count(old) == 1
    return write(tmp_path / "breaking.yaml", text.replace(old, 'none: [thousands, "to fight in ukraine if",'))


def test_the_gates_verdicts_and_lost_positives_by_label_key_are_in_the_json(tmp_path: Path) -> None:
    labels = write(
        tmp_path / "labels.csv",
        "id,label\nhttps://gazette.example/4,TROOP_DEPLOYMENT_REPORT\nsc-01,TREATY_SIGNED\nsc-08,NONE\n",
    )
    expect = write(
        tmp_path / "expect.yaml",
        "must_fire:\n  - {rule: treaty-signed}\n  - {rule: troops-deployed, event_id: sc-04}\n"
        "must_not_fire:\n  - {event_id: sc-08}\n",
    )
    out = tmp_path / "out.json"
    code, output = run(
        EVENTS,
        "--rules",
        breaking_pack(tmp_path),
        "--baseline-rules",
        "builtin:dprk_russia",
        "--labels",
        labels,
        "--label-map",
        LABEL_MAP,
        "--expect",
        expect,
        "--fail-under",
        "recall=0.9,treaty-signed:recall=1",
        "--fail-on-removed-true-positive",
        "--json",
        out,
        "--near-misses",
        "0",
    )
    assert code == 1, output
    data = json.loads(out.read_text())
    lost = {"id": "sc-04", "label_key": "https://gazette.example/4", "rule": "troops-deployed"}
    assert data["diff"]["scores"]["lost_true_positives"] == [lost]  # `id` kept, the labels' key beside it
    assert "lost true positive: https://gazette.example/4 (troops-deployed)" in output
    gates = data["gates"]
    assert gates["passed"] is False
    assert gates["expect"]["file"] == str(expect) and gates["expect"]["met"] is False
    assert [(f["kind"], f["expectation"]) for f in gates["expect"]["failures"]] == [
        ("missing", {"rule": "troops-deployed", "event_id": "sc-04"}),
        ("unexpected", {"event_id": "sc-08"}),
    ]
    under = gates["fail_under"]
    assert under["met"] is False and len(under["failures"]) == 1 and under["failures"][0].startswith("recall = ")
    assert under["thresholds"] == [{"score": "recall", "minimum": 0.9}, {"score": "treaty-signed:recall", "minimum": 1}]
    assert f"below threshold: {under['failures'][0]}" in output
    verdict = {"met": False, "lost": [lost], "only_covered_now": [], "lost_escalations": []}
    assert gates["fail_on_removed_true_positive"] == verdict


def test_gates_met_say_so_in_the_json(tmp_path: Path) -> None:
    expect = write(tmp_path / "expect.yaml", "must_fire:\n  - {rule: treaty-signed}\n")
    out = tmp_path / "out.json"
    code, output = run(EVENTS, "--expect", expect, "--json", out, "--near-misses", "0")
    assert code == 0 and "expectations met" in output, output
    assert json.loads(out.read_text())["gates"] == {
        "expect": {"file": str(expect), "met": True, "failures": []},
        "passed": True,
    }


# -- LOW-5: a baseline result of other inputs or rules ---------------------------------------------------------------


def test_a_baseline_result_of_other_inputs_is_warned_of(tmp_path: Path) -> None:
    before = tmp_path / "before.json"
    code, output = run(EVENTS, "--json", before, "--near-misses", "0")
    assert code == 0, output
    n = json.loads(before.read_text())["stats"]["documents"]
    code, output = run(EVENTS, "--baseline", before, "--near-misses", "0")  # the same inputs and rules: quiet
    assert code == 0 and "warning" not in output, output

    fewer = write(tmp_path / "fewer.jsonl", "".join(EVENTS.read_text(encoding="utf-8").splitlines(keepends=True)[:3]))
    code, output = run(fewer, "--baseline", before, "--near-misses", "0")
    assert code == 0, output
    assert output.count("warning:") == 1, output
    assert (
        f"warning: the baseline {before} is of {n:,} documents, this run of 3 (rules builtin:dprk_russia both): the "
        "diff compares other inputs"
    ) in " ".join(output.split()), output

    # Other rules over the same documents is what a baseline is for: no warning.
    code, output = run(EVENTS, "--rules", breaking_pack(tmp_path), "--baseline", before, "--near-misses", "0")
    assert code == 0 and "warning" not in output, output


def test_the_json_result_holds_the_warnings_the_terminal_gave(tmp_path: Path) -> None:
    labels = write(tmp_path / "labels.csv", "id,label\nsc-01,TREATY_SIGNED\nx-404,TREATY_SIGNED\n")
    out = tmp_path / "out.json"
    code, output = run(EVENTS, "--labels", labels, "--label-map", LABEL_MAP, "--json", out, "--near-misses", "0")
    assert code == 0, output
    warned = json.loads(out.read_text())["warnings"]
    assert any("1 of 2 labelled ids are not among the events" in w for w in warned), warned
    assert "warning:" in output


def test_the_html_report_says_the_unusable_inputs_warnings_and_gates(tmp_path: Path) -> None:
    expect = write(tmp_path / "expect.yaml", "must_fire:\n  - {rule: troops-deployed, event_id: sc-09}\n")
    html = tmp_path / "r.html"
    code, output = run(EVENTS, tmp_path / "missing.jsonl", "--expect", expect, "--html", html, "--near-misses", "0")
    assert code == 4, output
    page = html.read_text(encoding="utf-8")
    section = page[page.index('<section id="problems">') : page.index("</section>", page.index('id="problems"'))]
    assert "input not used:" in section and "missing.jsonl" in section
    # It names the entry not met (outside trial 7, L7), as the terminal does.
    entry = "missing {&quot;rule&quot;: &quot;troops-deployed&quot;, &quot;event_id&quot;: &quot;sc-09&quot;}"
    assert f'<li class="bad">expect: failed — {entry}: no alert matched' in section, section


CORROBORATED_PACK = """\
version: 2
name: crossing
signals:
  closure:
    match: {any: ["closed the border crossing"]}
detections:
  - id: crossing-closed
    title: Border crossing closed
    severity: medium
    pattern: {any: closure}
    corroborate: {distinct: source, at_least: 2, within: 1d, severity: high}
    realert: 3d
    labels: [CLOSED]
"""


def test_a_repeat_a_corroborated_true_alert_held_back_is_covered(tmp_path: Path) -> None:
    """Re-check of the analyst audit (N1): repeats held back by a corroborated detection's realert were told as
    'corroboration' and never counted as covered, so adding `corroborate` cost recall and tripped the lost-TP gate."""
    pack = write(tmp_path / "pack.yaml", CORROBORATED_PACK)
    events = write(
        tmp_path / "events.jsonl",
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": f"c-{i}",
                    "published_at": f"2024-11-02T{8 + i:02d}:00:00+00:00",
                    "source": source,
                    "title": f"Crossing report {i}",
                    "body": "Guards closed the border crossing this morning.",
                }
            )
            + "\n"
            for i, source in enumerate(("North Wire", "South Daily", "East Radio", "West Post"))
        ),
    )
    labels = write(tmp_path / "labels.csv", "id,label\n" + "".join(f"c-{i},CLOSED\n" for i in range(4)))
    out = tmp_path / "o.json"
    code, output = run(events, "--rules", pack, "--labels", labels, "--json", out, "--near-misses", "0")
    assert code == 0, output
    s = json.loads(out.read_text())["scores"]
    status = {e["id"]: e["status"] for e in s["events"]}
    assert status == {"c-0": "tp", "c-1": "tp", "c-2": "covered", "c-3": "covered"}, s["events"]
    assert s["overall"]["recall"] == 1.0


def test_a_baseline_written_before_repeats_were_recorded_is_warned_of(tmp_path: Path) -> None:
    """Re-check of the analyst audit (N6): an older result has no repeat_ids, so its held-back repeats count as
    missed and this run's as covered: a recall gain with no edit behind it."""
    labels = write(tmp_path / "labels.csv", "id,label\nsc-04,TROOP_DEPLOYMENT_REPORT\nsc-05,TROOP_DEPLOYMENT_REPORT\n")
    before = tmp_path / "before.json"
    code, output = run(EVENTS, "--labels", labels, "--label-map", LABEL_MAP, "--json", before, "--near-misses", "0")
    assert code == 0 and json.loads(before.read_text())["stats"]["repeats_recorded"] is True
    args = ("--labels", labels, "--label-map", LABEL_MAP, "--baseline", before, "--near-misses", "0")
    code, output = run(EVENTS, *args)
    assert code == 0 and "written before results recorded the repeats" not in output, output
    old = json.loads(before.read_text())
    del old["stats"]["repeats_recorded"]
    for a in old["alerts"]:
        a.pop("repeat_ids", None)
    before.write_text(json.dumps(old))
    code, output = run(EVENTS, *args)
    assert code == 0 and "written before results recorded the repeats" in " ".join(output.split()), output


def test_a_label_moved_in_the_edit_shows_against_the_baseline_rules(tmp_path: Path) -> None:
    """Analyst audit (LOW-6): with the labels' map taken from the packs, both runs were scored with this run's
    packs, so relabelling a detection in the edit changed nothing in the comparison. Each side now uses its own."""
    from importlib import resources

    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    head = "  - id: troops-deployed\n"
    assert text.count(head) == 1
    old = write(tmp_path / "old.yaml", text.replace(head, head + "    labels: [TROOP_DEPLOYMENT_REPORT]\n"))
    new = write(tmp_path / "new.yaml", text.replace(head, head + "    labels: [TROOP_MOVES]\n"))
    labels = write(tmp_path / "labels.csv", "id,label\nsc-04,TROOP_DEPLOYMENT_REPORT\nsc-05,TROOP_DEPLOYMENT_REPORT\n")
    out = tmp_path / "o.json"
    code, output = run(EVENTS, "--rules", new, "--baseline-rules", old, "--labels", labels, "--json", out)
    assert code == 0, output
    data = json.loads(out.read_text())
    assert data["baseline"]["scores"]["per_rule"]["troops-deployed"]["tp"] == 2
    assert data["scores"]["per_rule"]["troops-deployed"]["tp"] == 0
    lost = {(x["id"], x["rule"]) for x in data["diff"]["scores"]["lost_true_positives"]}
    assert lost == {("sc-04", "troops-deployed"), ("sc-05", "troops-deployed")}


def test_a_rule_the_baseline_lacks_is_absent_from_its_scores_with_a_shared_label_map(tmp_path: Path) -> None:
    """Outside trial 53: with one --label-map for both runs, the baseline was scored for a rule only the candidate
    has (recall 0, every one of its positives an FN), and the change read as a gain over a baseline's misses. The rule
    is absent from the baseline's rows ("rule added" in the change), its items still counted per item."""
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    cut = text.index("  - id: troop-engagement\n")
    old = write(tmp_path / "old.yaml", text[:cut])  # the candidate (the bundled pack) adds troop-engagement
    out, csv_dir = tmp_path / "o.json", tmp_path / "csv"
    args = ("--baseline-rules", old, "--labels", SCORING / "labels.csv", "--label-map", LABEL_MAP, "--near-misses", "0")
    code, output = run(EVENTS, *args, "--json", out, "--csv", csv_dir)
    assert code == 0, output
    data = json.loads(out.read_text())
    base, now = data["baseline"]["scores"], data["scores"]
    assert "troop-engagement" in now["per_rule"] and "troop-engagement" not in base["per_rule"]
    assert base["absent_rules"] == ["troop-engagement"] and data["diff"]["scores"]["rules_added"] == [
        "troop-engagement"
    ]
    assert not [e for e in base["events"] if e["rule"] == "troop-engagement"]  # no misses of a rule it lacks
    engaged = now["per_rule"]["troop-engagement"]["positives"]
    assert engaged and base["overall"]["positives"] == now["overall"]["positives"] - engaged
    assert base["overall"]["items"] == now["overall"]["items"]  # each labelled item once, on both sides
    rows = [line.split(",") for line in (csv_dir / "scores.csv").read_text().splitlines()]
    absent = [r for r in rows if r[:3] == ["baseline", "rule", "troop-engagement"]]
    assert len(absent) == 1 and not any(absent[0][3:])  # a row with no numbers, not zeros and misses
    said = " ".join(output.split())
    assert "troop-engagement (rule added)" in said, output

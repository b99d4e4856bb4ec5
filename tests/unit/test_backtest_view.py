"""`watchfloor backtest` on a terminal: the tables say what the JSON and the HTML report say, and a narrow
terminal (80 columns, a pipe) cuts neither a rule id nor a time."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from watchfloor.cli import _backtest_view as view
from watchfloor.report import render_backtest_html
from watchfloor.schemas.events import Detection, Evidence
from watchfloor.scoring import AlertRef, Counts, Outcome, Scores, TimelineOutcome, format_lead_short
from watchfloor.scoring.diff import diff_alerts, score_delta

T0 = datetime(2024, 6, 19, tzinfo=UTC)


class Screen(io.StringIO):
    """What the view prints (its functions' `console`), on a terminal of `width` columns without colour."""

    def __init__(self, width: int = 80) -> None:
        super().__init__()
        self.console = Console(file=self, width=width, soft_wrap=False, color_system=None)


@pytest.fixture
def screen() -> Screen:
    return Screen()


def _scores(lead_hours: list[float]) -> Scores:
    counts = Counts(tp=len(lead_hours), alerts=len(lead_hours), positives=len(lead_hours))
    counts.lead_times = [h * 3600 for h in lead_hours]
    outcomes = [
        Outcome(f"doc-{i}", "pact-signed", ("SIGNED",), "tp", T0, "label", f"a{i}", T0 + timedelta(hours=h))
        for i, h in enumerate(lead_hours)
    ]
    return Scores({"pact-signed": counts}, counts, outcomes, [], {}, labels_source="labels.csv")


def test_median_lead_is_the_same_on_the_terminal_in_the_json_and_in_the_report(screen: Screen) -> None:
    # Outside audit: leads of 0 and 8 hours showed "+8h" on the terminal (the upper middle value), 14400 s
    # in the JSON and "4h after" in the report.
    scores = _scores([0, 8])
    view.print_scores(scores, console=screen.console)
    row = next(line for line in screen.getvalue().splitlines() if line.lstrip().startswith("pact-signed"))
    assert row.split()[-2:] == ["4h", "after"]
    as_json = scores.to_json()
    assert as_json["per_rule"]["pact-signed"]["lead_time_s"]["median"] == 4 * 3600
    page = render_backtest_html({"alerts": [], "stats": {}, "scores": json.loads(json.dumps(as_json))})
    assert "4h after" in page and "8h after" not in page


def test_a_lead_of_zero_is_a_duration_like_the_others(screen: Screen) -> None:
    """Trial 6 L7: the score table's lead said a bare `0` beside the timeline's `+12h13m`."""
    view.print_scores(_scores([0, 0]), console=screen.console)
    row = next(line for line in screen.getvalue().splitlines() if line.lstrip().startswith("pact-signed"))
    assert row.rstrip().endswith("at once"), row  # in words, as the report says it (outside trial 53, LOW-7)


def test_the_lead_column_says_after_or_before_in_words(screen: Screen) -> None:
    """Outside trial 53, LOW-7: `+4h50m` under "lead" read as 4h50m early; the report says "4h 50m after"."""
    view.print_scores(_scores([4 + 50 / 60]), console=screen.console)
    row = next(line for line in screen.getvalue().splitlines() if line.lstrip().startswith("pact-signed"))
    assert row.rstrip().endswith("4h50m after"), row
    assert format_lead_short(-7200) == "2h before" and format_lead_short(30) == "at once"


def _alert(rule: str, at: datetime, title: str, confidence: str | None = None) -> Detection:
    evidence = Evidence(
        event_id="x1", signal="s", source="Some Long Outlet Name", published_at=at, sentence="A sentence."
    )
    return Detection(
        id=f"{rule}-{at:%H%M}",
        rule=rule,
        title=title,
        severity="medium",
        fired_at=at,
        confidence=confidence,
        evidence=(evidence,),
    )


def test_in_80_columns_alerts_keep_whole_rule_ids_and_times(screen: Screen) -> None:
    # Outside audit: in 80 columns "fired at" showed "2024-06-19T1…" and rule ids "troops-deplo…" and
    # "treaty-ratif…" (which could be either of two rules); "medium (unconfirmed)" took 15 columns.
    view.print_alerts(
        [
            _alert("troops-deployed-abroad", T0 + timedelta(hours=14, minutes=33), "Troops seen crossing a border"),
            _alert(
                "treaty-ratified-by-both",
                T0 + timedelta(days=3, hours=9, minutes=5),
                "Both parties ratified",
                "unconfirmed",
            ),
        ],
        console=screen.console,
    )
    text = screen.getvalue()
    assert "…" not in text
    assert "2024-06-19 14:33" in text and "2024-06-22 09:05" in text
    assert "troops-deployed-abroad" in text and "treaty-ratified-by-both" in text
    assert "Troops seen" in text and "crossing" in text  # the title wraps, it is not dropped
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_rule_id_longer_than_the_room_folds_and_cuts_nothing(screen: Screen) -> None:
    long_id = "harbour-blockade-declared-by-both-coastal-states"
    view.print_alerts(
        [_alert(long_id, T0 + timedelta(hours=14, minutes=33), "A blockade", "unconfirmed")], console=screen.console
    )
    text = screen.getvalue()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert "2024-06-19 14:33" in text and "unconfirmed" in text and "A blockade" in text
    column = "".join(line.split("│")[2].strip() for line in text.splitlines() if line.count("│") == 6)
    assert column == long_id


def test_in_80_columns_the_expected_events_table_keeps_its_event_column(screen: Screen) -> None:
    # Outside audit: the event column was silently dropped in 80 columns.
    rows = [
        TimelineOutcome(
            "upper house approves the accord",
            "pact-ratified-by-both-chambers",
            {"party": "AAA"},
            T0,
            "found",
            "a1",
            T0 + timedelta(hours=10, minutes=24),
        ),
        TimelineOutcome("heads of state sign the accord", "pact-signed", {}, T0 + timedelta(days=1), "missed"),
    ]
    view.print_timeline(rows, console=screen.console)
    text = screen.getvalue()
    words = set(text.split())
    assert {"upper", "house", "approves", "heads", "state", "sign", "accord"} <= words  # wrapped, not dropped
    assert "pact-ratified-by-both-chambers" in text and "party=AAA" in text
    assert "2024-06-19 10:24" in text and "10h24m after" in text and "missed" in text
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80


def test_missed_items_beyond_the_cap_are_counted_and_every_rule_keeps_a_few(screen: Screen) -> None:
    # Outside audit: only the first 20 misses showed (all one rule's), with no word of the others.
    counts = Counts(fn=33, positives=33)
    outcomes = [Outcome(f"busy-{i}", "busy-rule", ("B",), "fn", T0, "label") for i in range(30)]
    outcomes += [Outcome(f"rare-{i}", "rare-rule", ("R",), "fn", T0, "label") for i in range(3)]
    scores = Scores({"busy-rule": counts}, counts, outcomes, [], {}, labels_source="labels.csv")
    view.print_scores(scores, console=screen.console)
    lines = [line.strip() for line in screen.getvalue().splitlines()]
    missed = [line for line in lines if line.startswith("missed ")]
    assert len(missed) == view.SHOW_AT_MOST
    assert sum("for rare-rule" in line for line in missed) == 3  # the small rule is not crowded out
    assert "… and 13 more missed (busy-rule 13; all in --json / --html)" in lines


def test_spread_takes_in_turn_from_each_rule_in_order() -> None:
    items = ["a1", "a2", "a3", "b1", "a4", "c1", "c2"]
    assert view.spread(items, lambda x: x[0], 4) == ["a1", "a2", "b1", "c1"]
    assert view.spread(items, lambda x: x[0], 10) == items


def test_in_80_columns_a_long_rule_id_in_the_scores_folds_and_no_number_is_cut(screen: Screen) -> None:
    # The rule column was kept on one line: the numbers beside a long id were cut to "1.…".
    counts = Counts(tp=1, alerts=1, positives=1, lead_times=[3600.0])
    long_id = "harbour-blockade-declared-by-both-coastal-states"
    view.print_scores(Scores({long_id: counts}, counts, [], [], {}, labels_source="labels.csv"), console=screen.console)
    text = screen.getvalue()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert "1.00 1.00 1.00 1h after" in " ".join(text.split())
    assert long_id in "".join(line.split()[0] for line in text.splitlines() if line.strip())  # folded, whole


def _ref(title: str, place: tuple[str, ...], evidence: tuple[str, ...] = ("mt-1",)) -> AlertRef:
    return AlertRef(
        id="a-" + title[-3:],
        rule="troops-deployed",
        group={"country": "PRK"},
        severity="medium",
        confidence=None,
        fired_at=T0,
        evidence=evidence,
        title=title,
        attributes={"place": place} if place else {},
    )


def test_a_changed_alert_says_from_what_to_what_on_the_terminal_and_in_the_report(screen: Screen) -> None:
    # Outside audit: removing the Kursk aliases changed two key-day alerts' titles and attributes.place; the
    # terminal listed them with "()" after them (it only spelt out severity, confirmation, evidence and time)
    # and the report with "changed: title, attributes" and nothing of what they were.
    diff = diff_alerts([_ref("Troops reported (Kursk)", ("Kursk",))], [_ref("Troops reported", ())])
    assert [c.fields for c in diff.changed] == [("title", "attributes", "evidence")]
    view.print_diff(diff, "base.yaml", console=screen.console)
    text = " ".join(screen.getvalue().split())
    assert "title 'Troops reported (Kursk)' -> 'Troops reported'; attributes.place Kursk -> none" in text
    assert "()" not in text
    result = {"alerts": [], "stats": {}, "diff": json.loads(json.dumps(diff.to_json())), "baseline": {}}
    page = render_backtest_html(result)
    assert "<li>attributes.place Kursk -&gt; none</li>" in page
    assert "title &#x27;Troops reported (Kursk)&#x27; -&gt; &#x27;Troops reported&#x27;" in page


def test_a_changed_alert_of_a_result_without_details_still_names_its_fields() -> None:
    # A --baseline result written before there were details: the fields, as before.
    change = {"changes": ["severity"], "before": {**_ref("x", ()).brief(), "severity": "low"}}
    change["after"] = _ref("x", ()).brief()
    diff = {"added": [], "removed": [], "changed": [change], "unchanged": 0}
    page = render_backtest_html({"alerts": [], "stats": {}, "diff": diff, "baseline": {}})
    assert "changed: severity; before: low" in page


def test_an_item_labelled_by_url_is_shown_by_its_url_not_its_derived_id(screen: Screen) -> None:
    # Outside audit: a labelled URL missed by the rules was listed as "missed doc-ced5839…" on the terminal
    # and in the report, a hash the user never wrote.
    url = "https://news.example/a/1"
    counts = Counts(fn=1, positives=1)
    outcomes = [Outcome("doc-ced583920db91cac9e03db63", "pact-signed", ("SIGNED",), "fn", T0, "label", label_key=url)]
    scores = Scores({"pact-signed": counts}, counts, outcomes, [], {}, labels_source="labels.csv")
    view.print_scores(scores, console=screen.console)
    missed = [line.strip() for line in screen.getvalue().splitlines() if line.strip().startswith("missed ")]
    assert missed == [f"missed {url} (SIGNED) for pact-signed"]
    as_json = json.loads(json.dumps(scores.to_json()))
    lost = {"lost_true_positives": [{"id": "doc-ced583920db91cac9e03db63", "rule": "pact-signed"}]}
    diff = {"added": [], "removed": [], "changed": [], "unchanged": 0, "scores": lost}
    page = render_backtest_html({"alerts": [], "stats": {}, "scores": as_json, "diff": diff, "baseline": {}})
    missed_html = page[page.index("<h3>Missed") : page.index("</ul>", page.index("<h3>Missed"))]
    assert f'<a href="{url}" rel="noopener noreferrer">{url}</a> (<code>doc-ced583920db91cac9e03db63</code>)' in (
        missed_html
    )
    assert f"labelled SIGNED: {url} (missed)" in page  # the timeline's mark
    assert f"True positives lost: {url} (pact-signed)" in page


def test_the_score_tables_count_items_then_alerts_with_the_true_alerts_precision_rests_on() -> None:
    """Outside trial 20, L3: `alerts 5, TP 7, FP 1, prec. 80%` could not be checked from the table (TP counts labelled
    items, precision true alerts). Each table shows `true` beside `alerts` and `FP`, items first, and says which
    columns count what; with an `event` column the alerts that are neither true nor false are the repeats."""
    text = Screen(100)
    # 7 labelled items caught by 5 alerts: 3 true, 1 false, 1 a repeat (alerts != true + FP, TP != true)
    now = Counts(tp=7, fp=1, alerts=5, positives=7, repeat_alerts=1, lead_times=[3600.0])
    before = Counts(tp=6, fp=1, fn=1, alerts=3, positives=7, lead_times=[3600.0])
    rule = "troops-deployed-to-the-front"
    scores = Scores({rule: now}, now, [], [], {}, labels_source="labels.csv", with_events=True)
    baseline = Scores({rule: before}, before, [], [], {}, labels_source="labels.csv", with_events=True)
    view.print_scores(scores, baseline, console=text.console)
    lines = text.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 100
    headers = [line.split() for line in lines if line.split()[:1] == ["rule"]]
    assert headers == [
        ["rule", "pos.", "TP", "FN", "alerts", "true", "FP", "rep.", "prec.", "recall", "F1", "lead"],
        ["rule", "TP", "FN", "alerts", "true", "FP", "rep.", "prec.", "recall", "F1"],
    ]
    rows = [line.split() for line in lines if line.strip().startswith(rule)]
    # prec. = true / alerts = 3 / 5; alerts = true + FP + rep. (outside trial 53, LOW-5)
    assert rows[0][1:9] == ["7", "7", "0", "5", "3", "1", "1", "0.60"]
    # FP unchanged: blank; each rate's change with its counts (outside trial 53, MED-2)
    assert rows[1][1:10] == ["+1", "-1", "+2", "+1", "+1", "-0.07", "2/3→3/5", "+0.14", "6/7→7/7"]
    flat = " ".join(text.getvalue().split())
    assert "labelled items: pos., TP (caught), FN (missed)" in flat
    assert "alerts = true + FP (false) + rep. (repeats); prec. = true / alerts" in flat
    assert "labelled items: TP, FN; alerts: alerts, true, FP" in flat
    # The JSON, the CSV's source and the report: the same number under `true_alerts` (the report's column `true`),
    # and its change against the baseline a count (+1), as the terminal's.
    as_json = json.loads(json.dumps(scores.to_json()))
    assert as_json["overall"]["true_alerts"] == 3 and as_json["overall"]["alerts"] == 5
    delta = json.loads(json.dumps(score_delta(baseline, scores)))
    assert delta["overall"]["true_alerts"] == {"before": 2.0, "after": 3.0, "change": 1.0}
    diff = {"added": [], "removed": [], "changed": [], "unchanged": 0, "scores": delta}
    page = render_backtest_html({"alerts": [], "stats": {}, "scores": as_json, "diff": diff, "baseline": {}})
    head = page[page.index('<table class="scores">') : page.index("</thead>", page.index('<table class="scores">'))]
    assert "<th>alerts</th><th>true</th><th>FP</th>" in head
    row = page[page.index(f'<tr data-rule="{rule}">') :]
    row = row[: row.index("</tr>")]
    assert '<td>5 <small class="neutral">(+2)</small></td><td>3 <small class="good">(+1)</small></td><td>1</td>' in row


def test_every_time_the_backtest_prints_is_in_utc() -> None:
    # Outside trial 26, F7: a near miss kept its report's own offset ("13:00 +0300") under an alert at "13:00" (UTC).
    from datetime import timezone

    moscow = datetime(2024, 9, 7, 16, 0, tzinfo=timezone(timedelta(hours=3)))
    assert view._when(moscow) == "2024-09-07 13:00" == view._short_time(moscow)
    assert view._when(datetime(2024, 9, 7, 13, 0, tzinfo=UTC)) == "2024-09-07 13:00"


def test_a_comparison_whose_rules_answer_a_label_twice_shows_each_item_once() -> None:
    """Outside trial 53, HIGH-1: a candidate adding a rule that answers an existing label read 41 labelled items as
    56 positives, its recall change +0.12 or +0.27 by the label map; the `per item` row counts each item once."""
    from watchfloor.scoring import LabelledItem, LabelMap, Labels, score

    labels = Labels("labels.csv", {k: LabelledItem(k, frozenset({"OVER"}), event="over") for k in ("s1", "s2")})
    label_map = LabelMap("map.yaml", {"OVER": ("stand-down", "mutiny-over")})

    def ref(aid: str, rule: str, evidence: tuple[str, ...]) -> AlertRef:
        return AlertRef(aid, rule, {}, "high", None, T0, evidence, evidence_times=tuple(T0 for _ in evidence))

    base = [ref("SD", "stand-down", ("s1",))]
    before, after = (
        score(base, labels, label_map),
        score([*base, ref("MO", "mutiny-over", ("s1", "s2"))], labels, label_map),
    )
    text = Screen(100)
    view.print_scores(after, before, console=text.console)
    rows = [line.split() for line in text.getvalue().splitlines() if re.match(r"\s*(overall|per item)\s+[\d+-]", line)]
    assert rows[0][1:4] == ["4", "3", "1"]  # overall: (item, rule) pairs
    assert rows[1][2:5] == ["2", "2", "0"]  # per item: 2 labelled items, both caught
    assert rows[2][1:3] == ["+2", "-2"]  # the change overall
    assert rows[3][2:4] == ["+1", "-1"]  # the change per item: one more item caught
    assert "+0.50" in rows[3]


def test_the_reports_change_table_shows_the_repeats_change_and_colours_by_what_helps_the_scores() -> None:
    """Outside trial 63, MED-4: an edit that removed a repeat read `repeats 0` in the report with no `(-1)`, though
    the terminal's `rep.` said -1; and fewer alerts, repeats or false alerts were red like a lost true positive."""
    before = Counts(tp=3, fp=1, alerts=4, positives=3, repeat_alerts=1, lead_times=[0.0])
    now = Counts(tp=2, fn=1, fp=0, alerts=2, positives=3, repeat_alerts=0, lead_times=[0.0])
    rule = "troops-deployed"
    scores = Scores({rule: now}, now, [], [], {}, labels_source="labels.csv", with_events=True)
    baseline = Scores({rule: before}, before, [], [], {}, labels_source="labels.csv", with_events=True)
    delta = json.loads(json.dumps(score_delta(baseline, scores)))
    assert delta["overall"]["repeat_alerts"] == {"before": 1.0, "after": 0.0, "change": -1.0}
    diff = {"added": [], "removed": [], "changed": [], "unchanged": 0, "scores": delta}
    as_json = json.loads(json.dumps(scores.to_json()))
    page = render_backtest_html({"alerts": [], "stats": {}, "scores": as_json, "diff": diff, "baseline": {}})
    row = page[page.index(f'<tr data-rule="{rule}">') :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r"<td>(.*?)</td>", row)
    # positives, TP, FN, alerts, true, FP, repeats
    assert cells[1:7] == [
        '2 <small class="bad">(-1)</small>',  # a true positive lost: bad
        '1 <small class="bad">(+1)</small>',  # a miss more: bad
        '2 <small class="neutral">(-2)</small>',  # fewer alerts: neither
        "2",  # true alerts unchanged
        '0 <small class="good">(-1)</small>',  # a false alert fewer: good
        '0 <small class="good">(-1)</small>',  # a repeat fewer: good (and shown at all)
    ], cells


def test_missed_items_and_false_alerts_stand_under_their_own_headings(screen: Screen) -> None:
    """Outside trial 63, LOW-4: the indented `missed …` and `false alert …` lines came right after the long `note:`
    line with no heading, and read as its continuation."""
    c = Counts(tp=0, fn=1, fp=1, alerts=1, positives=1)
    missed = Outcome("doc-1", "pact-signed", ("SIGNED",), "fn", T0, "label")
    false = AlertRef("a1", "pact-signed", {}, "high", None, T0, ("doc-2",))
    scores = Scores({"pact-signed": c}, c, [missed], [false], {}, labels_source="labels.csv")
    view.print_scores(scores, console=screen.console)
    lines = [line.rstrip() for line in screen.getvalue().splitlines()]
    at = lines.index("labelled items missed (1):")
    assert lines[at + 1].startswith("  missed doc-1 (SIGNED) for pact-signed"), lines
    at = lines.index("false alerts (1):")
    assert lines[at + 1].startswith("  false alert pact-signed at 2024-06-19 00:00"), lines


def test_a_reports_sentences_held_back_for_the_same_reason_are_one_near_miss_line() -> None:
    """Outside trial 63, LOW-5: two sentences of the 23 Oct report, held back by one realert, read as the same near
    miss twice. The terminal and the report list such a report once and say how many sentences it stands for; a
    sentence with a reason of its own keeps its line."""
    from watchfloor.schemas.events import Signal
    from watchfloor.scoring.near_misses import NearMiss, Reason

    def signal(i: int, sentence: str, modality: str = "asserted") -> Signal:
        return Signal.model_validate(
            {
                "id": f"d1:troop_deployment:{i}",
                "name": "troop_deployment",
                "document_id": "d1",
                "source": "The Moscow Times",
                "published_at": T0,
                "sentence": sentence,
                "sentence_index": i,
                "modality": modality,
            }
        )

    held = Reason("realert", "troops-deployed alerted at 2024-06-18T10:00+00:00; quiet for 30d", "troops-deployed")
    negated = Reason("modality", "the signal is negated (cue 'deny')", "troops-deployed")
    misses = [
        NearMiss(signal(0, "1,500 more troops sent"), [held]),
        NearMiss(signal(1, "The total is now 3,000"), [held]),
        NearMiss(signal(2, "Putin would not deny it", "negated"), [negated]),
    ]
    screen = Screen(200)
    view.print_near_misses(misses, console=screen.console)
    lines = [line.strip() for line in screen.getvalue().splitlines()]
    assert lines[0] == "3 near misses (signals no alert cites; times in UTC):"
    assert lines[1].endswith("1,500 more troops sent (2 sentences of this report, for the same reason)"), lines
    assert lines[2].startswith("troops-deployed alerted at") and lines[3].endswith("Putin would not deny it"), lines
    assert len(lines) == 5 and sum("quiet for 30d" in line for line in lines) == 1, lines
    result = {"alerts": [], "stats": {}, "near_misses": [json.loads(json.dumps(m.to_json())) for m in misses]}
    page = render_backtest_html(result)
    section = page[page.index('<section id="near-misses">') :]
    assert section.count('<tr class="miss"') == 2 and section.count("quiet for 30d") == 1, section
    assert "<q>1,500 more troops sent</q><br><q>The total is now 3,000</q>" in section
    assert "2 sentences of this report, for the same reason" in section


def test_two_documents_whose_near_miss_lines_read_the_same_each_name_their_document() -> None:
    """Outside trial 65, LOW-2: two GDELT events of one outlet and code printed two identical lines, read as one
    report listed twice; each now names its document (a line like no other stays as it was)."""
    from watchfloor.schemas.events import Signal
    from watchfloor.scoring.near_misses import NearMiss, Reason

    def signal(doc: str, sentence: str) -> Signal:
        return Signal.model_validate(
            {
                "id": f"{doc}:military_force:0",
                "name": "military_force",
                "document_id": doc,
                "source": "bbc.co.uk",
                "published_at": T0,
                "sentence": sentence,
                "sentence_index": 0,
                "modality": "asserted",
            }
        )

    held = Reason("realert", "desk-military-force alerted at 2024-06-18T10:00+00:00; quiet for 1d", "desk-force")
    same = "South African (South Africa): Fight with small arms and light weapons with Gunmen (bbc.co.uk)"
    misses = [
        NearMiss(signal("gdelt:913097130", same), [held]),
        NearMiss(signal("gdelt:913097131", same), [held]),
        NearMiss(signal("gdelt:913097132", "Obama (United States): Use conventional military force"), [held]),
    ]
    screen = Screen(250)
    view.print_near_misses(misses, console=screen.console)
    lines = [line.strip() for line in screen.getvalue().splitlines() if "military_force" in line]
    assert lines[0].endswith(f"{same} [gdelt:913097130]") and lines[1].endswith(f"{same} [gdelt:913097131]"), lines
    assert lines[2].endswith("Use conventional military force"), lines

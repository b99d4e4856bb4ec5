"""`thread_by` (outside trial 68, G2 and MED-2): one story per country, realert per imposer. Loading and `rules check`
refuse a key that is not a group_by key, at its place; the engine is unchanged by it (same alerts, same ids); the
dispatcher's intake threads the groups that share the thread_by values as one story, each group's first alert a new
alert of that story, a follow-up of a group the update it always was."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from watchfloor.alerts.compose import Tell, base_notice, decide
from watchfloor.alerts.intake import Stories, plan_detection
from watchfloor.alerts.notice import REPLACED, AlertCatalog, alert_of, thread_key
from watchfloor.alerts.notifiers.console import render
from watchfloor.alerts.notifiers.email import EmailNotifier, message_id
from watchfloor.alerts.notifiers.file import record
from watchfloor.alerts.notifiers.slack_blocks import build_blocks, build_update, notice_text
from watchfloor.alerts.notifiers.wording import wording
from watchfloor.cli import app
from watchfloor.cli.alerts import _delivery_cell, _delivery_json
from watchfloor.schemas.events import Alert, Detection, Evidence
from watchfloor.schemas.rules import rule_pack_json_schema
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules
from watchfloor.wiring import build_catalog

NIGER_HEAD = """version: 2
name: sahel
entities:
  NER: {name: Niger, kind: country, aliases: [Niger, Niamey]}
  FRA: {name: France, kind: country, aliases: [France, Paris]}
  EU: {name: European Union, kind: organization, aliases: [EU, European Union]}
  USA: {name: United States, kind: country, aliases: [United States, Washington]}
signals:
  sanctions:
    match: {all: [sanctions, "@NER"]}
    capture:
      country: {entities: [NER]}
      imposer: {entities: [FRA, EU, USA]}
detections:
  - id: niger-sanctions
    title: "{imposer} sanctions on {country}"
    pattern: {any: sanctions}
    group_by: [country, imposer]
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sahel.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_thread_by_loads_and_reaches_the_catalog(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [country]\n    realert: 3d\n")
    compiled = load_rules([path])[1]
    catalog = build_catalog(compiled)
    assert catalog.thread_by == {"niger-sanctions": ("country",)}
    france = {"country": "NER", "imposer": "FRA"}
    eu = {"country": "NER", "imposer": "EU"}
    assert catalog.ledger_thread("niger-sanctions", france) == catalog.ledger_thread("niger-sanctions", eu)
    # a rule without it keeps the thread key of its rule and group, as before
    assert catalog.ledger_thread("other", france) == thread_key("other", france)


def test_thread_by_names_a_group_by_key_at_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [contry]\n")
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    said = str(e.value)
    assert f"{path}:19:17" in said, said
    assert "thread_by 'contry' is not a group_by key of this detection (did you mean 'country'?)" in said
    assert "it groups by country, imposer" in said


def test_rules_check_refuses_a_thread_by_key_not_in_group_by(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [country, place]\n")
    got = CliRunner().invoke(app, ["rules", "check", path])
    assert got.exit_code != 0
    assert "thread_by 'place' is not a group_by key" in got.output, got.output
    assert ":19:26:" in got.output


def test_thread_by_twice_and_unknown_option_spelling(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [country, country]\n")
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    assert "thread_by 'country' is named twice" in str(e.value)
    path = _write(tmp_path, NIGER_HEAD + "    thread_bye: [country]\n")
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    assert "did you mean thread_by" in str(e.value) or "did you mean 'thread_by'" in str(e.value), str(e.value)


def test_the_rule_pack_schema_carries_thread_by() -> None:
    props = rule_pack_json_schema()["$defs"]["DetectionDef"]["properties"]
    assert "thread_by" in props and "group_by" in props["thread_by"]["description"]


def _niger_engine(tmp_path: Path, extra: str) -> list[tuple[str, dict[str, str], str]]:
    from .engine_helpers import Timeline, doc, engine_for

    path = _write(tmp_path, NIGER_HEAD + "    realert: 3d\n" + extra)
    line = Timeline(engine_for(path))
    line.feed(
        doc("France imposed sanctions on Niger after the coup.", at=0, source="Wire A"),
        doc("The EU imposed sanctions on Niger on Saturday.", at=20, source="Wire B"),
        doc("France widened its sanctions on Niger.", at=30, source="Wire C"),  # France's realert holds it
        doc("The United States imposed sanctions on Niger.", at=40, source="Wire D"),
    )
    return [(d.id, dict(d.group), d.rule) for d in line.detections]


def test_the_engine_raises_the_same_alerts_with_the_same_ids_with_or_without_thread_by(tmp_path: Path) -> None:
    without = _niger_engine(tmp_path, "")
    threaded = _niger_engine(tmp_path, "    thread_by: [country]\n")
    assert threaded == without
    # realert stays per imposer: France's second report is held, the EU's and the U.S.'s are alerts of their own
    assert [g["imposer"] for _i, g, _r in threaded] == ["FRA", "EU", "USA"]


# --- the dispatcher's intake and what a row tells (pure) ---


T0 = datetime(2023, 8, 1, 9, 0, tzinfo=UTC)
RULE = "niger-sanctions"
NAMES = {"NER": "Niger", "FRA": "France", "EU": "European Union", "USA": "United States"}
THREADED = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)}, thread_by={RULE: ("country",)})
APART = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)})


def sanction(n: int, imposer: str, *, hours: float = 0, severity: str = "medium", sources: int = 1) -> Detection:
    return Detection(
        id=f"d{n}",
        rule=RULE,
        title=f"{NAMES[imposer]} sanctions on Niger",
        severity=severity,  # type: ignore[arg-type]
        group={"country": "NER", "imposer": imposer},
        fired_at=T0 + timedelta(hours=hours),
        evidence=tuple(
            Evidence(event_id=f"e{n}{s}", signal="sanctions", source=f"Wire {s}", published_at=T0, sentence="x")
            for s in range(sources)
        ),
    )


def _plan(dets: list[Detection], catalog: AlertCatalog) -> list[DeliveryRecord]:
    """Each detection's row in channel `desk`, in order, each earlier one sent (ref `C1:<n>`), as the dispatcher plans
    them: the story decided once (per group), the row from the channel's rows of its ledger thread key."""
    stories, rows = Stories(), []
    for i, d in enumerate(dets):
        story = stories.take(i + 1, d.id, d, catalog.open_period(d.rule))
        tk = catalog.ledger_thread(d.rule, d.group)
        pool = [r for r in rows if r.thread_key == tk]
        rec = plan_detection(d.id, Alert(id=d.id, detection=d, channels=("desk",)), "desk", pool, story, catalog, i + 1)
        rows.append(dataclasses.replace(rec, status="sent", ref=f"C1:{i + 1}.0"))
    return rows


def _told(rows: list[DeliveryRecord], key: str) -> Tell:
    rec = next(r for r in rows if r.alert_id == key)
    rec = dataclasses.replace(rec, status="outstanding", ref="")
    alert = alert_of(rec.payload)
    assert alert is not None
    pool = [r if r.alert_id != key else rec for r in rows if r.thread_key == rec.thread_key]
    got = decide(rec, base_notice(rec, alert), pool, {}, 0.0, backoff=1.0, owner="me", updating=True)
    assert isinstance(got, Tell), got
    return got


def test_another_imposer_is_a_new_alert_in_the_country_thread_and_a_follow_up_stays_an_update() -> None:
    france, eu = sanction(1, "FRA"), sanction(2, "EU", hours=20)
    france_again = sanction(3, "FRA", hours=30, severity="high", sources=2)  # corroboration: France's follow-up
    rows = _plan([france, eu, france_again], THREADED)
    assert [r.kind for r in rows] == ["alert", "alert", "followup"]
    assert len({r.thread_key for r in rows}) == 1 and rows[0].thread_key == thread_key(RULE, {"country": "NER"})
    assert rows[1].parent_id is None and rows[1].payload is not None
    assert rows[1].payload["story_root"] == "d1" and rows[1].payload["story_group_label"] == "Niger, France"
    assert rows[2].parent_id == "d1"  # France's own follow-up, under France's alert

    eu_told = _told(rows, "d2").notice
    assert eu_told.kind == "alert" and eu_told.thread is None  # not an update of France's message
    assert eu_told.story is not None and (eu_told.story.alert_id, eu_told.story.ref) == ("d1", "C1:1.0")
    assert eu_told.earlier is None  # France's alert is not an earlier story of the EU's group
    followup = _told(rows, "d3").notice
    assert followup.kind == "followup" and followup.thread is not None
    assert followup.thread.thread_ref == "C1:1.0" and followup.thread.target_key == "d1"
    assert followup.thread.sources == 2 and followup.thread.newest_id == "d3"  # France's thread state: not the EU's


def test_a_follow_up_of_the_second_imposer_replies_in_the_story_thread_and_updates_its_own_message() -> None:
    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=20), sanction(3, "EU", hours=22, sources=2)], THREADED)
    assert [(r.kind, r.parent_id) for r in rows] == [("alert", None), ("alert", None), ("followup", "d2")]
    view = _told(rows, "d3").notice.thread
    assert view is not None
    assert view.thread_ref == "C1:1.0"  # under the story's first message: Slack threads one level deep
    assert (view.target_key, view.target_ref) == ("d2", "C1:2.0")  # the EU's alert's message is what it updates


def test_without_thread_by_each_imposer_is_a_thread_of_its_own_as_before() -> None:
    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=20)], APART)
    assert [r.kind for r in rows] == ["alert", "alert"]
    assert rows[0].thread_key != rows[1].thread_key and rows[1].payload is not None
    assert "story_root" not in rows[1].payload
    assert _told(rows, "d2").notice.story is None


def test_the_country_story_goes_on_while_its_groups_keep_coming_and_ends_past_the_period() -> None:
    rows = _plan(
        [sanction(1, "FRA"), sanction(2, "EU", hours=48), sanction(3, "USA", hours=100), sanction(4, "USA", hours=300)],
        THREADED,
    )
    # the U.S. at 100h is past France's 3 days but within the EU's: the story goes on; at 300h one of its own
    story = [(r.payload or {}).get("story_root") for r in rows]
    assert story == [None, "d1", "d1", None]
    assert rows[3].kind == "alert" and rows[3].parent_id is None


def test_alerts_list_and_the_file_channel_say_the_story_of_another_groups_alert() -> None:

    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=20)], THREADED)
    assert "story" not in _delivery_json(rows[0])
    assert _delivery_json(rows[1])["story"] == "d1"
    assert _delivery_cell("desk", rows[1]).startswith("desk: sent (new alert in the story of d1)")
    notice = _told(rows, "d2").notice
    assert record(notice)["story"] == {"alert": "d1", "group_label": "Niger, France"}
    out = StringIO()
    Console(file=out, width=200).print(render(notice))
    assert "new alert in the story of alert d1 (Niger, France)" in out.getvalue()


def test_slack_words_another_groups_alert_as_a_new_alert_of_the_story_in_each_language() -> None:
    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=20)], THREADED)
    notice = _told(rows, "d2").notice
    english = str(build_blocks(notice))
    assert "*New alert in this story*: another group than the thread's first alert d1 (Niger, France)" in english
    assert "Update" not in english and "Follows alert" not in english
    assert notice_text(notice).startswith("New in this story: [MEDIUM] European Union sanctions on Niger")
    russian = wording("ru")
    assert "*Новое оповещение в этом сюжете*: другая группа" in str(build_blocks(notice, russian))
    assert notice_text(notice, russian).startswith("Новое в сюжете: ")
    alone = _told(_plan([sanction(1, "FRA")], THREADED), "d1").notice  # the story's first alert says nothing of it
    assert "New alert in this story" not in str(build_blocks(alone)) and alone.story is None


def test_email_puts_another_groups_alert_in_its_storys_mail_thread_and_says_what_it_is() -> None:
    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=20)], THREADED)
    first_id = message_id("d1")
    rows = [dataclasses.replace(r, ref=first_id) if r.alert_id == "d1" else r for r in rows]
    notice = _told(rows, "d2").notice
    mail = EmailNotifier("desk-mail", to=["desk@example.org"], sender="wf@example.org", host="127.0.0.1")
    msg = mail.message(notice)
    assert msg["In-Reply-To"] == first_id and msg["References"] == first_id
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "New alert in the story of alert d1 (Niger, France); not an update" in text
    alone = mail.message(_told(_plan([sanction(1, "FRA")], THREADED), "d1").notice)
    assert alone["In-Reply-To"] is None


def test_a_revision_sent_in_place_of_another_groups_alert_never_sent_is_still_a_new_alert_of_the_story() -> None:
    """The EU's alert revised by a late report before it was sent: the revision goes in its place, as the story's new
    alert in France's thread (not a message of its own that forgot the story)."""
    france, eu = sanction(1, "FRA"), sanction(2, "EU", hours=20)
    rows = _plan([france, eu], THREADED)
    revised = Detection(**{**sanction(5, "EU", hours=19).model_dump(), "revises": "d2", "revision": 1})
    stories = Stories()
    for i, d in enumerate([france, eu, revised]):
        story = stories.take(i + 1, d.id, d, THREADED.open_period(RULE))
    rec = plan_detection("d5", Alert(id="d5", detection=revised, channels=("desk",)), "desk", rows, story, THREADED, 3)
    assert (rec.kind, rec.parent_id) == ("revision", "d2")
    never_sent = dataclasses.replace(rows[1], status="suppressed", ref="", detail=f"{REPLACED}: d5 goes instead")
    pool = [rows[0], never_sent, rec]
    got = decide(rec, base_notice(rec, revised_alert(revised)), pool, {}, 0.0, backoff=1.0, owner="me", updating=True)
    assert isinstance(got, Tell)
    assert got.notice.kind == "alert" and got.notice.story is not None
    assert (got.notice.story.alert_id, got.notice.story.ref) == ("d1", "C1:1.0")


def revised_alert(d: Detection) -> Alert:
    return Alert(id=d.id, detection=d, channels=("desk",))


def test_a_realert_of_the_threads_first_group_in_the_open_story_is_not_another_group_nor_a_new_story() -> None:
    """Outside trial 74, F1: the U.S. starts the Niger thread, the EU's alert keeps the story open, and the U.S. is
    raised again past its realert: a new alert of the story's thread, said as the first group's again, its "Again: …"
    line a new alert of this group told in this story (not "another group than the thread's first alert", not "a new
    story")."""
    rows = _plan([sanction(1, "USA"), sanction(2, "EU", hours=60), sanction(3, "USA", hours=80)], THREADED)
    assert [(r.payload or {}).get("story_root") for r in rows] == [None, "d1", "d1"]
    notice = _told(rows, "d3").notice
    assert notice.story is not None and notice.story.same_group and notice.earlier is not None
    english = str(build_blocks(notice))
    assert "*New alert in this story*: the group of the thread's first alert d1 (Niger, United States) again" in english
    assert "another group" not in english and "a new story" not in english, english
    assert "Again: the last alert of this rule and group was d1" in english
    assert "a new alert of this group, told in this story" in english
    out = StringIO()
    Console(file=out, width=300).print(render(notice))
    assert "told in this story" in out.getvalue() and "a new story" not in out.getvalue()
    russian = str(build_blocks(notice, wording("ru")))
    assert "снова группа первого оповещения ветки d1" in russian and "это новый сюжет" not in russian
    eu = _told(rows, "d2").notice  # another group's first alert is still said as such
    assert eu.story is not None and not eu.story.same_group
    assert "another group than the thread's first alert d1" in str(build_blocks(eu))


def test_a_groups_alert_that_starts_a_thread_still_says_a_new_story() -> None:
    rows = _plan([sanction(1, "USA"), sanction(2, "USA", hours=80)], THREADED)
    notice = _told(rows, "d2").notice
    assert notice.story is None and notice.earlier is not None and not notice.earlier.in_story
    assert "; a new story" in str(build_blocks(notice))


def test_sources_and_updates_in_a_story_of_several_groups_are_said_of_the_alerts_group_not_the_thread() -> None:
    """Outside trial 74, F4: in the Niger thread (France's, with the EU's alert in it), France's confirmation counts
    France's reports only: said "of this alert's group" on the reply, the first message's Sources and its status, in
    Slack (each language), email and the console; a rule without thread_by still says "in the thread"."""
    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=20), sanction(3, "FRA", hours=30, sources=2)], THREADED)
    notice = _told(rows, "d3").notice
    assert notice.thread is not None and notice.thread.of_group
    english = str(build_blocks(notice))
    update = str(build_update(notice))  # France's message, brought up to date
    assert "in the thread" not in english + update, english + update
    assert "2 independent sources of this alert's group" in english, english
    assert "*Sources*\\n2 independent of this alert's group" in update, update
    assert "2 independent sources and 1 update of this alert's group" in update, update
    russian = str(build_blocks(notice, wording("ru")))
    assert "по группе этого оповещения" in russian and "в ветке" not in russian, russian
    mail = EmailNotifier("desk-mail", to=["desk@example.org"], sender="wf@example.org", host="127.0.0.1")
    text = mail.message(notice).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "independent of this alert's group" in text and "in this thread" not in text, text
    out = StringIO()
    Console(file=out, width=300).print(render(notice))
    assert "this alert's group now MEDIUM" in out.getvalue(), out.getvalue()
    apart = _told(_plan([sanction(1, "FRA"), sanction(3, "FRA", hours=30, sources=2)], APART), "d3").notice
    assert apart.thread is not None and not apart.thread.of_group
    assert "in the thread" in str(build_blocks(apart))

"""A revision whose alert names no place no longer drops the place the message told (outside trial 9, F7: two
Kursk alerts rewritten to "North Korean troops reported in Russia" without "(Kursk)" by late reports that name no
place): the rewritten message says the reports told before also named it. Real slack-sdk against the local Slack
server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, make
from tests.functional.test_threads import CATALOG, SUBS, texts, top_level, troops
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional


def test_a_revision_keeps_the_place_the_message_told(slack_server: FakeSlack, tmp_path: Path) -> None:
    store = MemoryStore()
    d = make(store, slack_server, tmp_path / "alerts.jsonl", Clock(), subs=SUBS[:2], catalog=CATALOG)
    kursk = troops(1).model_copy(update={"attributes": {"place": ["Kursk"]}, "title": "Troops in Russia (Kursk)"})
    store.append([detection_event(kursk)])
    assert d.cycle().ok
    [first] = top_level(slack_server)
    # a late report that names no place is now the alert's first: the revised alert carries no place
    revised = troops(2, hours=-1, revises="det0001", revision=1).model_copy(
        update={"attributes": {}, "title": "Troops in Russia"}
    )
    store.append([detection_event(revised)])
    assert d.cycle().ok
    now = texts(slack_server.message("#dprk-russia", first["ts"])["blocks"])
    assert "*Revised* by a late report" in now
    assert "the reports told before also named place Kursk" in now

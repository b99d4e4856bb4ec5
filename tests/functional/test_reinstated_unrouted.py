"""A reinstated raising that routing sends nowhere is not shown as queued on the status page (a review's LOW: the
page routed every later raising as the first was, so a raising with no ledger row read "queued" for ever)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_alert_reinstated import CLAIM, DENIAL, Desk, status_page_html

pytestmark = pytest.mark.functional


def test_a_reinstated_raising_routed_nowhere_is_not_queued_on_the_page(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server)
    desk.poll(CLAIM)
    [a] = [d for d in desk.listed() if d["severity"] == "high" and "revises" not in d]
    # The desk narrows its subscription before the denial: A's reinstated raising goes to no channel.
    desk.cfg.write_text(
        desk.cfg.read_text(encoding="utf-8").replace("{channel: desk}", "{channel: desk, rules: [treaty-signed]}"),
        encoding="utf-8",
    )
    desk.poll(DENIAL)
    again = [d for d in desk.listed() if d["id"] == a["id"]]
    assert [(d.get("revision", 0), d["deliveries"]) for d in again] == [(0, {"desk": "suppressed"}), (2, {})]
    page = status_page_html(desk)
    row = page.split(f'data-alert="{a["id"]}"')[1].split("</tr>")[0]
    assert "(reinstated)" in row and "desk (earlier raising): replaced" in row, row
    assert "queued" not in row, row  # (before: "desk: queued", for ever)


def test_an_alert_replaced_before_it_was_sent_reads_revised_not_silenced(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    # Trial 34, M1: one poll of reports that revised an alert before it went out left rows "desk: suppressed", and
    # the page said every alert "reached its channels (or was silenced)": a reader took them for silenced.
    desk = Desk(tmp_path, slack_server)
    desk.poll(CLAIM)
    raised = desk.listed()
    [a] = [d for d in raised if d["severity"] == "high" and "revises" not in d]
    [b] = [d for d in raised if d.get("revises") == a["id"]]
    page = status_page_html(desk)
    row = page.split(f'data-alert="{a["id"]}"')[1].split("</tr>")[0]
    assert f"(revised by <code>{b['id']}</code>)" in row and "desk: replaced" in row, row
    assert "suppressed" not in row.replace("st-suppressed", ""), row
    row = page.split(f'data-alert="{b["id"]}"')[1].split("</tr>")[0]
    assert "revised by" not in row and "desk: sent" in row, row  # the revision stands

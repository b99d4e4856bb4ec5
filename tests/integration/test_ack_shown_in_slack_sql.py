"""The acknowledgement shown in Slack (tests/functional/test_ack_shown_in_slack.py) on both SQL stores: the `ack`
ledger rows, their claims and the control log read back from SQLite on disk and from PostgreSQL, as a deployed
dispatcher reads them (the functional tests run on the in-memory store)."""

from __future__ import annotations

import pytest

from tests.functional.delivery_helpers import Clock
from tests.functional.test_ack_shown_in_slack import (
    test_a_failed_rewrite_is_retried_and_a_deleted_message_is_given_up_without_holding_others,
    test_a_reply_acknowledged_elsewhere_is_rewritten_in_its_thread,
    test_an_acknowledgement_before_the_message_is_sent_is_shown_once_it_is,
    test_an_alert_acknowledged_with_the_cli_is_shown_acknowledged_on_its_slack_message_once,
    test_the_button_click_on_the_message_is_not_rewritten_again,
)
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration

__all__ = [  # collected here again, with this module's `store`
    "test_a_failed_rewrite_is_retried_and_a_deleted_message_is_given_up_without_holding_others",
    "test_a_reply_acknowledged_elsewhere_is_rewritten_in_its_thread",
    "test_an_acknowledgement_before_the_message_is_sent_is_shown_once_it_is",
    "test_an_alert_acknowledged_with_the_cli_is_shown_acknowledged_on_its_slack_message_once",
    "test_the_button_click_on_the_message_is_not_rewritten_again",
]


@pytest.fixture
def store(sql_store: SqlStore) -> SqlStore:
    return sql_store


@pytest.fixture
def clock() -> Clock:
    return Clock()

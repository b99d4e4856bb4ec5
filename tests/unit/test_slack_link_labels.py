"""A feed writes both the link of an item and, as its own title, the source name Slack shows as the link's text:
a text naming another site ("https://www.reuters.com/…" on a link to evil.example) gets the link's real host after
it (security review, finding 9). Names that are no host, or the link's own site, are shown as they are."""

from __future__ import annotations

import pytest

from watchfloor.alerts.notifiers.slack_blocks import link


@pytest.mark.parametrize(
    ("url", "label", "shown"),
    [
        (
            "https://evil.example/login",
            "https://www.reuters.com/world/",
            "https://www.reuters.com/world/ (evil.example)",
        ),
        ("https://evil.example/x", "BBC News - www.bbc.co.uk", "BBC News - www.bbc.co.uk (evil.example)"),
        ("https://feeds.example.net/r/1", "Reuters.com", "Reuters.com (feeds.example.net)"),
        # re-check from outside (audit9): a name behind a zero-width space, another script's dot or letters
        ("https://evil.example/x", "reuters\u200b.com", "reuters\u200b.com (evil.example)"),
        ("https://evil.example/x", "reuters\u3002com", "reuters\u3002com (evil.example)"),
        (
            "https://evil.example/x",
            "\uff52\uff45\uff55\uff54\uff45\uff52\uff53.com",
            "\uff52\uff45\uff55\uff54\uff45\uff52\uff53.com (evil.example)",
        ),
        ("https://evil.example/x", "r\u0435uters.com", "r\u0435uters.com (evil.example)"),
    ],
)
def test_a_label_naming_another_site_shows_the_links_host(url: str, label: str, shown: str) -> None:
    assert link(url, label) == f"<{url}|{shown}>"


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://www.reuters.com/world/x", "Reuters.com"),
        ("https://news.bbc.co.uk/x", "bbc.co.uk"),
        ("https://www.themoscowtimes.com/2024/x", "The Moscow Times - Independent News From Russia"),
        ("https://ria.ru/x", "РИА Новости"),
        ("https://x.example/x", "U.S. News & World Report"),
        ("https://lenta.ru/x", "Lenta.ru"),
        ("https://x.example/x", "Release v1.2 notes"),
    ],
)
def test_a_plain_name_or_the_links_own_site_is_kept(url: str, label: str) -> None:
    assert link(url, label) == f"<{url}|{label.replace('&', '&amp;')}>"

"""URLs as they may be shown: the password of a store URL (in its userinfo or libpq's `?password=`) and a feed
API's key or token in the query are masked, everything else is kept as written (security review, finding 4)."""

from __future__ import annotations

import pytest

from watchfloor.schemas.redact import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://wf:S3cret@db:5432/wf", "postgresql+psycopg://wf:***@db:5432/wf"),
        (
            "postgresql+psycopg://wf@db/wf?password=S3cret&sslmode=require",
            "postgresql+psycopg://wf@db/wf?password=***&sslmode=require",
        ),
        ("https://api.example/feed?api_key=K3Y&lang=en", "https://api.example/feed?api_key=***&lang=en"),
        ("https://api.example/feed?lang=en&access_token=T0K", "https://api.example/feed?lang=en&access_token=***"),
        (
            "https://cdn.example/f.xml?X-Amz-Signature=ab12&X-Amz-Date=20241101",
            "https://cdn.example/f.xml?X-Amz-Signature=***&X-Amz-Date=20241101",
        ),
        ("https://h.example/f?db_password=x&Key=y", "https://h.example/f?db_password=***&Key=***"),
        # re-check from outside (audit9): other spellings of a key, a token as the user, a fragment's token
        (
            "https://h.example/f?access_key=A&accessKey=B&secret_key=C&authToken=D&subscription-key=E&jwt=F&lang=en",
            "https://h.example/f?access_key=***&accessKey=***&secret_key=***&authToken=***&subscription-key=***&jwt=***&lang=en",
        ),
        ("https://T0KEN@api.example/feed.xml", "https://***@api.example/feed.xml"),
        ("https://h.example/cb#access_token=abc&state=1", "https://h.example/cb#access_token=***&state=1"),
    ],
)
def test_secrets_are_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/watchfloor/wf.db",
        "/data/feeds/world.jsonl",
        "https://www.example.org/rss?section=world&keyword=treaty&page=2",
        "https://www.example.org/rss#section-world",
        "postgresql+psycopg://wf@db/wf",
        "https://api.example/feed?token=",  # nothing to hide
        "kafka:9092",
    ],
)
def test_what_holds_no_secret_is_kept_as_written(url: str) -> None:
    assert redact_url(url) == url

"""Application config: store, sources, rule packs, channels and subscriptions, validated at load."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .control import check_digest
from .events import Severity
from .rules import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JsonlSource(_Strict):
    kind: Literal["jsonl"] = "jsonl"
    path: str


class RssSource(_Strict):
    kind: Literal["rss"] = "rss"
    url: str  # a URL (http/https/file) or a local path
    source_name: str | None = None  # defaults to the feed's title
    poll: Duration = timedelta(minutes=15)


SourceConfig = Annotated[JsonlSource | RssSource, Field(discriminator="kind")]


class ConsoleChannel(_Strict):
    type: Literal["console"] = "console"
    name: str


class FileChannel(_Strict):
    type: Literal["file"] = "file"
    name: str
    path: str


class SlackChannel(_Strict):
    type: Literal["slack"] = "slack"
    name: str
    channel: str  # Slack channel id or name, e.g. "#dprk-russia"
    # The token itself never sits in config. None: the `slack:` section's token_env (else SLACK_BOT_TOKEN).
    token_env: str | None = None
    base_url: str | None = None  # Slack Web API root; None: the `slack:` section's, else Slack itself


class WebhookChannel(_Strict):
    type: Literal["webhook"] = "webhook"
    name: str
    url: str


ChannelConfig = Annotated[ConsoleChannel | FileChannel | SlackChannel | WebhookChannel, Field(discriminator="type")]


class Subscription(_Strict):
    """channel <- alerts whose rule is in `rules` (or '*'), with any of `tags`, at or above `min_severity`."""

    channel: str
    rules: list[str] = Field(default_factory=lambda: ["*"])
    tags: list[str] = Field(default_factory=list)
    min_severity: Severity = "low"
    # `daily HH:MM [Area/City]`: one message per day listing the matching alerts, instead of one per alert.
    digest: str | None = None

    @field_validator("digest")
    @classmethod
    def _digest(cls, v: str | None) -> str | None:
        return check_digest(v)


class SlackApp(_Strict):
    """The `slack:` section: the Slack app (`watchfloor serve`) and the default for Slack channels."""

    token_env: str = "SLACK_BOT_TOKEN"  # names the variable holding the bot token (xoxb-...)
    signing_secret_env: str = "SLACK_SIGNING_SECRET"  # names the variable holding the app's signing secret
    base_url: str | None = None  # Web API root of a Slack-compatible server; None: Slack itself


class RetryPolicy(_Strict):
    attempts: int = Field(default=5, ge=1)
    backoff: Duration = timedelta(seconds=1)
    max_backoff: Duration = timedelta(seconds=60)


class AppConfig(_Strict):
    store: str = "sqlite:///watchfloor.db"
    rules: list[str] = Field(default_factory=lambda: ["builtin:dprk_russia"])
    sources: list[SourceConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=lambda: list[ChannelConfig]([ConsoleChannel(name="console")]))
    subscriptions: list[Subscription] = Field(default_factory=lambda: [Subscription(channel="console")])
    retry: RetryPolicy = RetryPolicy()
    slack: SlackApp | None = None
    max_body_chars: int = Field(default=200_000, ge=1)
    poll_interval: Duration = timedelta(seconds=60)

    @model_validator(mode="after")
    def _refs(self) -> AppConfig:
        names = [c.name for c in self.channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique: {', '.join(dupes)}")
        for i, sub in enumerate(self.subscriptions):
            if sub.channel not in names:
                raise ValueError(f"subscriptions[{i}]: unknown channel {sub.channel!r} (known: {', '.join(names)})")
        return self

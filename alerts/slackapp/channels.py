"""Notifiers by routing channel name, including Slack channels subscribed from Slack itself (`slack:<id>`),
whose notifiers are made on first use with the `slack:` section's token."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from ..notifiers.base import Notifier

SLACK_PREFIX = "slack:"


class ChannelNotifiers(Mapping[str, Notifier]):
    """The configured channels' notifiers, plus one per `slack:<channel id>` made on demand by `slack_for`."""

    def __init__(
        self, configured: Mapping[str, Notifier], slack_for: Callable[[str], Notifier] | None = None, unbuilt: str = ""
    ) -> None:
        self._configured = dict(configured)
        self._slack_for = slack_for
        self.unbuilt = unbuilt  # why a `slack:<id>` has no notifier, when slack_for is None (the start-up check)
        self._made: dict[str, Notifier] = {}

    def __getitem__(self, name: str) -> Notifier:
        if name in self._configured:
            return self._configured[name]
        if name in self._made:
            return self._made[name]
        channel_id = name[len(SLACK_PREFIX) :] if name.startswith(SLACK_PREFIX) else ""
        if self._slack_for is None or not channel_id:
            raise KeyError(name)
        notifier = self._made[name] = self._slack_for(channel_id)
        return notifier

    def __iter__(self) -> Iterator[str]:
        yield from self._configured
        yield from self._made

    def __len__(self) -> int:
        return len(self._configured) + len(self._made)

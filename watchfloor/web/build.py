"""Config -> the server's services: the control log, the Slack app (when its secrets are set), the rules, the
broker of the distributed pipeline (when one is configured)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import AppContext, ChannelMap, RuleInfo
from watchfloor.schemas.config import AppConfig, KafkaConfig, SlackApp, SlackChannel
from watchfloor.schemas.events import SEVERITY_RANK
from watchfloor.schemas.redact import redact_url
from watchfloor.stream_processors.engine.compiler import CompiledRules
from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.vocabulary import rule_vocabulary
from watchfloor.wiring import channel_resolver

from .broker import kafka_probe
from .health import store_availability
from .server import Services

log = logging.getLogger(__name__)


# A title template's placeholder: `{party}`, `{place:dative}` (a case form), `{place_suffix}`
_PLACEHOLDER = re.compile(r"(?<!\{)\{(\w+)(?::\w+)?\}(?!\})")


def rule_title(template: str) -> str:
    """A title template for a list of rules: `{party}` -> `[party]`, `{place:dative}` -> `[place]` (the case is the
    title's, not the reader's: trial 62, M5, a case form left the whole template raw, `Удар по {place:dative}`),
    `{place_suffix}` -> nothing; any other brace as written."""
    named = _PLACEHOLDER.sub(lambda m: "" if m[1].endswith("_suffix") else f"[{m[1]}]", template)
    return named.replace("{{", "{").replace("}}", "}")  # (a doubled brace is the template's literal one)


def rule_catalogue(rules: CompiledRules) -> dict[str, RuleInfo]:
    """What `/watchfloor rules` lists: id, title (its template's fields named), severity, tags, and the rule's
    description, else the descriptions of the signals it is made of (most packs describe those)."""
    signal_text = {
        name: " ".join((getattr(sig, "description", "") or "").split())
        for pack in rules.packs
        for name, sig in pack.signals.items()
    }
    out = {}
    vocab = rule_vocabulary(rules)
    for d in rules.detections:
        defn = d.definition
        about = defn.description
        if not about:
            named = dict.fromkeys(ref.signal for ref in d.refs if ref.signal and signal_text.get(ref.signal))
            about = " ".join(signal_text[name] for name in named)
        where = vocab.keys.get(d.id)
        out[d.id] = RuleInfo(
            d.id,
            rule_title(defn.title),
            about,
            defn.severity,
            tuple(defn.tags),
            tuple(d.group_by),
            tuple(sorted(where)) if where is not None else None,
            {k: tuple(sorted(v)) for k, v in vocab.values.get(d.id, {}).items()},
            max_severity=_max_severity(defn),
        )
    return out


def offer_rules(context: AppContext, rules: CompiledRules) -> tuple[list[str], list[str]]:
    """Make the Slack app offer `rules` (its catalogue, the entity names and aliases a `where` is checked against):
    what `serve` does when the rule files or the config's `rules:` change under it (outside trial 29, F4:
    `/watchfloor subscribe NEW-RULE` said "unknown rule" until serve was restarted, and nothing said why).
    (The rule ids added, the rule ids gone.) All three are replaced together (AppContext.offer), so a command in
    flight reads the old ones or the new ones (review 25, L4)."""
    catalogue = rule_catalogue(rules)
    before = set(context.rules)
    vocab = rule_vocabulary(rules)
    context.offer(catalogue, dict(rules.entity_names), dict(vocab.aliases))
    return sorted(set(catalogue) - before), sorted(before - set(catalogue))


def _max_severity(defn: object) -> str:
    """The highest severity a detection's alerts can have: its own, or its corroboration's."""
    own = str(getattr(defn, "severity", "medium"))
    corroborate = getattr(defn, "corroborate", None)
    raised = str(getattr(corroborate, "severity", own)) if corroborate is not None else own
    return max(own, raised, key=lambda x: SEVERITY_RANK.get(x, 0))


def app_context(
    cfg: AppConfig, control: ControlLog, rules: CompiledRules, env: Mapping[str, str] | None = None
) -> AppContext:
    slack = cfg.slack or SlackApp()
    vocab = rule_vocabulary(rules)
    return AppContext(
        control=control,
        rules=rule_catalogue(rules),
        channels=ChannelMap(
            {ch.name: ch.channel for ch in cfg.channels if isinstance(ch, SlackChannel)},
            resolve=channel_resolver(cfg, env),
        ),
        entity_names=dict(rules.entity_names),
        entity_aliases=dict(vocab.aliases),
        command=slack.command,
        managers=tuple(slack.managers),
        languages={ch.name: ch.language or slack.language for ch in cfg.channels if isinstance(ch, SlackChannel)},
        language=slack.language,
    )


def slack_app_settings(cfg: AppConfig) -> tuple[str, str | None, str]:
    """The Slack app's token variable and Web API root, and a note for the start line saying where the root comes
    from. The `slack:` section's when it sets them; else, when every Slack channel names the same one, theirs: a
    config whose only Slack channel points at a Slack-compatible server (`base_url`) must not have its app ask
    slack.com (outside trial 14, L1: every click then answered 500). Channels that differ leave Slack itself, said."""
    slack = cfg.slack or SlackApp()
    chosen = slack.model_fields_set if cfg.slack is not None else set()
    channels = [ch for ch in cfg.channels if isinstance(ch, SlackChannel)]
    token_env, base_url, note = slack.token_env, slack.base_url, ""
    if base_url is not None:  # the start line names the server the app talks to (outside trial 69, L4)
        note = f"Web API {redact_url(str(base_url))}, the slack: section's base_url"
    if "token_env" not in chosen:
        envs = {ch.token_env or slack.token_env for ch in channels}
        if len(envs) == 1:
            token_env = envs.pop()
    if base_url is None and channels:
        urls = {ch.base_url for ch in channels}
        names = ", ".join(ch.name for ch in channels)
        if len(urls) == 1 and None not in urls:
            base_url = urls.pop()
            note = f"Web API {redact_url(str(base_url))}, the base_url of Slack channel(s) {names}"
        elif len(urls) > 1:
            shown = ", ".join(sorted(redact_url(u) if u else "Slack itself" for u in urls))
            note = f"Web API of Slack itself: the Slack channels name different base_url ({shown}); set slack.base_url"
    return token_env, base_url, note


def build_services(
    cfg: AppConfig,
    store: Store,
    control: ControlLog,
    rules: CompiledRules,
    *,
    env: Mapping[str, str] | None = None,
    store_label: str = "",
    pipeline_max_age: float | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    kafka: KafkaConfig | None = None,
    store_watch: Availability | None = None,
) -> Services:
    """`kafka`: the pipeline to report on (serve's --broker/--prefix over the config's `kafka:`); else the
    config's `kafka:` section when it has one; else none. `store_watch`: the store's availability, shared with a
    caller that reads the store too (serve's silence expiry), so that an outage is logged once. ValueError when
    `serve.admin_token_env` names a variable that is not set."""
    env = os.environ if env is None else env
    admin_token = None
    if cfg.serve.admin_token_env is not None:
        admin_token = (env.get(cfg.serve.admin_token_env) or "").strip()
        if not admin_token:  # fail closed: a named token that is missing must not leave the pages open
            raise ValueError(
                f"serve.admin_token_env names {cfg.serve.admin_token_env}, which is not set or empty: set it to the "
                "token / and /metrics require, or remove admin_token_env"
            )
    ctx = app_context(cfg, control, rules, env)
    slack = cfg.slack or SlackApp()
    token_env, base_url, slack_note = slack_app_settings(cfg)
    token, secret = env.get(token_env), env.get(slack.signing_secret_env)
    slack_app = None
    problem = ""
    if not token or not secret:
        missing = [name for name, value in ((token_env, token), (slack.signing_secret_env, secret)) if not value]
        problem = f"set {' and '.join(missing)} in the environment"
    else:
        from watchfloor.alerts.slackapp.app import build_app

        slack_app = build_app(ctx, token=token, signing_secret=secret, base_url=base_url)
    if kafka is None and "kafka" in cfg.model_fields_set:  # distributed mode configured
        kafka = cfg.kafka
    # its consumer groups' lag and members, and the published watermark
    probe = None if kafka is None else kafka_probe(kafka, now=now)
    behind = cfg.health.kafka_behind
    return Services(
        store_watch=store_watch or store_availability(),
        kafka=probe,
        admin_token=admin_token,
        store=store,
        control=control,
        context=ctx,
        slack_app=slack_app,
        slack_problem=problem,
        slack_note=slack_note,
        store_label=store_label,
        pipeline_max_age=pipeline_max_age,
        now=now,
        channels=tuple(ch.name for ch in cfg.channels),
        source_failing_after=cfg.health.source_failing.total_seconds(),
        delivery_outstanding_after=cfg.health.delivery_outstanding.total_seconds(),
        kafka_behind_after=None if behind is None else behind.total_seconds(),
        idle_after=cfg.event_time.idle_after.total_seconds(),
    )

"""Load the application config (YAML), validate it, and resolve paths; errors read FILE:LINE:COL: message."""

from __future__ import annotations

import difflib
import io
import logging
import re
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from watchfloor.alerts.control import ControlError, parse_where
from watchfloor.schemas.config import (
    AppConfig,
    ChannelConfig,
    FileChannel,
    GdeltSource,
    JsonlSource,
    RssSource,
    SourceConfig,
)
from watchfloor.schemas.redact import embedded_credentials
from watchfloor.stream_processors.rulefile import (
    RuleProblem,
    alias_expansion_problem,
    plain,
    unknown_key,
    yaml_position,
)
from watchfloor.stream_processors.vocabulary import RuleVocabulary

BUILTIN = "builtin:"

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, line and column."""


def package_dir() -> Path:
    return Path(str(resources.files("watchfloor")))


def default_config_path() -> Path:
    return package_dir() / "defaults" / "watchfloor.yaml"


def resolve_path(value: str, base: Path) -> str:
    """`builtin:samples/x` -> inside the package; relative paths -> relative to `base`."""
    if value.startswith(BUILTIN) and not value.startswith("builtin:dprk") and "/" in value:
        return str(package_dir() / value[len(BUILTIN) :])
    if "://" in value or value.startswith(BUILTIN):
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _resolve(cfg: AppConfig, base: Path) -> AppConfig:
    sources: list[JsonlSource | RssSource | GdeltSource] = []
    for s in cfg.sources:
        if isinstance(s, JsonlSource | GdeltSource):
            # A GDELT source's url (http, https, file://) has nothing to resolve.
            sources.append(s if s.path is None else s.model_copy(update={"path": resolve_path(s.path, base)}))
        else:
            sources.append(s.model_copy(update={"url": resolve_path(s.url, base)}))
    channels = [
        c.model_copy(update={"path": resolve_path(c.path, base)}) if isinstance(c, FileChannel) else c
        for c in cfg.channels
    ]
    rules = [r if r.startswith(BUILTIN) else resolve_path(r, base) for r in cfg.rules]
    store = cfg.store
    prefix = "sqlite:///"
    if store.startswith(prefix) and not store.startswith(prefix + "/") and ":memory:" not in store:
        store = prefix + str(base / store[len(prefix) :])
    return cfg.model_copy(update={"sources": sources, "channels": channels, "rules": rules, "store": store})


def load_config(path: str | Path | None = None, *, base: Path | None = None) -> AppConfig:
    """Read and validate a config file. Without a path, the bundled embedded default (paths relative to
    the working directory). Relative paths in a user's file are relative to that file."""
    if path is None:
        cfg_path = default_config_path()
        base = base or Path.cwd()
    else:
        cfg_path = Path(path)
        base = base or cfg_path.resolve().parent
    name = str(cfg_path)
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such config file") from None
    except UnicodeDecodeError as e:
        before = e.object[: e.start].decode("utf-8", errors="replace")
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise ConfigError(f"{name}:{line}:{col}: not valid UTF-8 (byte {e.start} of the file)") from None
    try:
        tree = YAML(typ="rt").load(io.StringIO(text))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError(f"{name}:{line}:{col}: YAML syntax: {e.problem or e.context}") from None
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, CommentedMap):
        raise ConfigError(f"{name}:1:1: a config file is a mapping (store, rules, sources, channels, subscriptions)")
    bomb = alias_expansion_problem(tree, name)
    if bomb is not None:
        raise ConfigError(str(bomb))
    data: Any = plain(tree)
    try:
        cfg = AppConfig.model_validate(data)
    except ValidationError as e:
        problems = []
        # (AppConfig's cross-reference check says each unknown channel on a line of its own)
        found = [
            (err, part)
            for err in e.errors()
            for part in err["msg"].removeprefix("Value error, ").split("\n" if not err["loc"] else "\0")
        ]
        for err, msg in found:
            loc = list(err["loc"])
            sub = _SUBSCRIPTION_PROBLEM.match(msg) if not loc else None
            if sub is not None:  # AppConfig's cross-reference check: at the subscription's channel, not 1:1
                loc = ["subscriptions", int(sub.group(1)), "channel"]
            # A mapping's key that is wrong (pydantic's loc ends in '[key]': an empty `where` key) is placed at the
            # key, not at its value.
            at_key = err["type"] == "extra_forbidden" or loc[-1:] == ["[key]"]
            kind = _unknown_kind(loc, err["type"], err.get("input"))
            if kind is not None:  # pydantic's union wording names neither the place nor a near match (trial 14, L3)
                loc, msg = kind
            line, col = yaml_position(tree, loc, at_key=at_key)
            if err["type"] == "extra_forbidden":
                msg = _unknown_member_key(loc) or unknown_key(loc[-1], AppConfig)
            elif err["type"] == "missing":
                msg = f"missing required key {loc[-1]!r}"
            problems.append(RuleProblem(name, line, col, msg))
        raise ConfigError("\n".join(str(p) for p in sorted(set(problems)))) from None
    for warning in credential_warnings(cfg, tree, name):
        log.warning("config: %s", warning)
    resolved = _resolve(cfg, base)
    resolved._origin = name
    return resolved


# The lists whose entries are one of several kinds, by the key that says which: what an entry's key belongs to.
_KINDS: dict[str, tuple[str, str, Any]] = {
    "sources": ("kind", "source", SourceConfig),
    "channels": ("type", "channel", ChannelConfig),
}


def _unknown_member_key(loc: list[Any]) -> str | None:
    """An unknown key of a source or channel, said for its kind (outside trial 9, F7: `poll` on a jsonl source read
    `unknown key 'poll' (did you mean 'poll'?)`): the kinds that do take it, else the closest key of its own kind;
    None for any other place."""
    from difflib import get_close_matches

    if len(loc) != 4 or loc[0] not in _KINDS or not isinstance(loc[2], str):
        return None
    tag, noun, union = _KINDS[loc[0]]
    members = {m.model_fields[tag].default: m for m in get_args(get_args(union)[0])}
    kind, key = loc[2], str(loc[3])
    if kind not in members:
        return None
    msg = f"unknown key {key!r} in a `{tag}: {kind}` {noun}"
    others = [k for k, m in members.items() if k != kind and key in m.model_fields]
    if others:
        msg += f" (a key of {' and '.join(others)} {noun}s)"
    else:
        close = get_close_matches(key, sorted(members[kind].model_fields), n=1, cutoff=0.75)
        msg += f" (did you mean {close[0]!r}?)" if close else ""
    if kind == "jsonl" and key == "poll":
        msg += "; JSON Lines files are read every `poll_interval` (a top-level key)"
    return msg


def _unknown_kind(loc: list[Any], kind: str, given: Any) -> tuple[list[Any], str] | None:
    """(where, what) for a source's `kind` or a channel's `type` that is none of the known ones, or missing:
    said as the other config errors are, at the value, with the known ones and the closest; None otherwise."""
    from difflib import get_close_matches

    if kind not in ("union_tag_invalid", "union_tag_not_found") or len(loc) != 2 or loc[0] not in _KINDS:
        return None
    tag, noun, union = _KINDS[loc[0]]
    known = [m.model_fields[tag].default for m in get_args(get_args(union)[0])]
    listed = ", ".join(known)
    value = given.get(tag) if isinstance(given, dict) else None
    if kind == "union_tag_not_found" or value is None:
        return loc, f"missing required key {tag!r}: the {noun} {tag}s are {listed}"
    close = get_close_matches(str(value), known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return [*loc, tag], f"unknown {noun} {tag} {value!r}{hint}: the {noun} {tag}s are {listed}"


def credential_warnings(cfg: AppConfig, tree: Any, name: str) -> list[str]:
    """A warning at FILE:LINE:COL for each source URL that carries a credential (schemas.redact.
    embedded_credentials: user:password@, ?api_key=, ?token=, ...). It still works, but the URL is the source's
    identity, stored as written: the checkpoint's name, each document's origin, a feed's source.url."""
    out = []
    for i, source in enumerate(cfg.sources):
        url = getattr(source, "url", None)
        found = embedded_credentials(url) if url else []
        if not found:
            continue
        line, col = yaml_position(tree, ["sources", i, "url"])
        out.append(
            f"{name}:{line}:{col}: this url carries a credential ({', '.join(found)}): it is the source's identity "
            "and the store keeps it as written (the checkpoint's name, every document's origin, a feed's "
            "source.url), masked only where it is shown. Keep the secret in an environment variable instead: "
            "username + password_env for HTTP Basic, headers_env ({Authorization: VAR} or {X-Api-Key: VAR}) for "
            "a token or key the server takes in a header, query_env ({api_key: VAR}) for one it takes only in the "
            'query (README: "Feeds that need credentials")'
        )
    return out


_SUBSCRIPTION_PROBLEM = re.compile(r"subscriptions\[(\d+)\]: ")


def subscription_problems(
    cfg: AppConfig,
    rules: Collection[str],
    tags: Collection[str],
    *,
    vocabulary: RuleVocabulary | None = None,
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the config's subscriptions against the rule packs loaded: a rule id no pack has is an
    error (the channel would silently get nothing of it, as the CLI refuses it), a tag no rule carries a warning
    (a rule that carries it may come later), and so is a `where` that Slack and the CLI would refuse, as it could
    never match (with the packs' `vocabulary`: alerts.control.parse_where), each at FILE:LINE:COL of the config
    when it was read from one."""
    errors: list[str] = []
    warnings: list[str] = []
    tree = _tree_of(cfg._origin)
    known_rules = ", ".join(sorted(rules)) or "none"
    known_tags = ", ".join(sorted(tags)) or "none"
    for i, sub in enumerate(cfg.subscriptions):
        for j, rule in enumerate(sub.rules):
            if rule != "*" and rule not in rules:
                where = _where(cfg, tree, ["subscriptions", i, "rules", j])
                close = difflib.get_close_matches(rule, sorted(rules), n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append(
                    f"{where}: unknown rule {rule!r}{hint} in the subscription of channel {sub.channel!r} "
                    f"(the rule packs have: {known_rules})"
                )
        for j, tag in enumerate(sub.tags):
            if tag not in tags:
                where = _where(cfg, tree, ["subscriptions", i, "tags", j])
                warnings.append(
                    f"{where}: no rule carries the tag {tag!r} (subscription of channel {sub.channel!r}; tags: "
                    f"{known_tags})"
                )
        for key, values in sub.where.items():
            for j, value in enumerate(values):
                try:
                    parse_where([value if key == "*" else f"{key}={value}"], vocabulary, sub.rules, sub.tags)
                except ControlError as e:
                    where = _where(cfg, tree, ["subscriptions", i, "where", key, j])
                    warnings.append(f"{where}: {e} (subscription of channel {sub.channel!r}: it never matches)")
    return errors, warnings


def _tree_of(origin: str | None) -> Any:
    if origin is None:
        return None
    try:
        return YAML(typ="rt").load(io.StringIO(Path(origin).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, MarkedYAMLError):
        return None


def _where(cfg: AppConfig, tree: Any, loc: list[Any]) -> str:
    if cfg._origin is None:
        return "config"
    if not isinstance(tree, CommentedMap):
        return cfg._origin
    line, col = yaml_position(tree, loc)
    return f"{cfg._origin}:{line}:{col}"

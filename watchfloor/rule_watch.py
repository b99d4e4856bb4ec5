"""Rule files watched for edits a running `run` or `worker` does not take in: both read their rules at start."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from watchfloor.stream_processors.rulefile import builtin_dir, resolve_rule_paths

log = logging.getLogger("watchfloor.rules")

# How often a worker looks: a stat per file, so cheap; an edit is said within this many seconds.
WATCH_EVERY = 30.0

_Stamp = tuple[int, int]  # (mtime in ns, size): looked at first, so an unchanged file is never read again
_Digest = str | None  # the content's SHA-256, None when the file is gone


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _digest(path: Path) -> _Digest:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class RuleFilesWatch:
    """The rule files as a process loaded them; `edited()` names those whose content has changed since the last
    look (each edit said once; an edit undone is said again, as "back as loaded"). Bundled packs are not watched:
    they change only with the installed release."""

    def __init__(self, specs: Iterable[str]) -> None:
        self._specs = list(specs)
        self._loaded: dict[Path, _Digest] = {}
        self._last: dict[Path, tuple[_Stamp | None, _Digest]] = {}
        for p in self._paths():
            d = _digest(p)
            self._loaded[p] = d
            self._last[p] = (_stamp(p), d)

    def _paths(self) -> list[Path]:
        builtin = builtin_dir()
        try:
            paths = resolve_rule_paths(self._specs)
        except ValueError:  # a file or directory gone: the known files are looked at one by one below
            paths = []
        return [p for p in dict.fromkeys([*self._loaded, *paths]) if p.parent != builtin]

    def edited(self) -> list[str]:
        """One line per rule file that differs from the last look: edited, added to a watched directory, removed,
        or back as loaded."""
        return [f"{p}: {what}" for p, what in self.edited_paths()]

    def edited_paths(self) -> list[tuple[Path, str]]:
        """(path, what) per rule file that differs from the last look (edited())."""
        said: list[tuple[Path, str]] = []
        for p in self._paths():
            stamp = _stamp(p)
            before = self._last.get(p)
            if before is not None and before[0] == stamp:
                continue
            d = _digest(p)
            self._last[p] = (stamp, d)
            if before is not None and before[1] == d:  # touched, not changed
                continue
            if p not in self._loaded:
                self._loaded[p] = None  # a file that was not there at start: "added", then edits of it
                said.append((p, "a new rule file, not loaded"))
            elif d is None:
                said.append((p, "removed"))
            elif d == self._loaded[p]:
                said.append((p, "back as loaded"))
            else:
                said.append((p, "edited"))
        return said


class ConfigFileWatch:
    """A config file as a process read it at start: `edited()` is True once per change of its content (outside trial
    30, F4: a `run` kept routing as before an edit of `subscriptions:`, and said nothing; `config_edit` applies it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last: tuple[_Stamp | None, _Digest] = (_stamp(path), _digest(path))
        self._before = self._last[1]

    def edited(self) -> bool:
        stamp = _stamp(self.path)
        if stamp == self._last[0]:
            return False
        digest = _digest(self.path)
        changed = digest != self._last[1]
        self._before, self._last = self._last[1], (stamp, digest)
        return changed

    def again(self) -> None:
        """The last edit `edited()` told was not applied (the store was away): the next look tells it again."""
        self._last = (None, self._before)


def rules_load_problem(rules: Sequence[str]) -> str | None:
    """Why the rule files as they are now would not load (the first problem `rules check` says), None when they
    load: an edit said to a running process must tell whether a restart would start (outside trial 69, L5)."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        load_rules(list(rules))
    except RuleLoadError as e:
        problems = [str(p) for p in e.problems] or [str(e)]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return problems[0] + more
    except (OSError, ValueError) as e:
        return str(e)
    return None


def edited_rules_note(changes: list[str], fingerprint: str | None = None) -> str:
    """What to tell an operator whose rule files changed under a running process."""
    running = f" (fingerprint {fingerprint})" if fingerprint else ""
    return (
        f"rule files changed since this process started ({'; '.join(changes)}): it still runs the rules it started "
        f"with{running}, and reads them again only when started again"
    )


def watch_in_background(
    watch: RuleFilesWatch, say: Callable[[list[str]], None], every: float = WATCH_EVERY
) -> threading.Event:
    """Look every `every` seconds on a daemon thread and `say` what changed; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                changes = watch.edited()
            except Exception as e:  # a look that fails must not take the worker down
                log.debug("rule files not looked at: %s", e)
                continue
            if changes:
                say(changes)

    threading.Thread(target=loop, name="rule-files-watch", daemon=True).start()
    return stop

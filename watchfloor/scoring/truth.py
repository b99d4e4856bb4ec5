"""Ground truth for scored backtests: a labels CSV, a label map (label -> rule ids) and a timeline CSV.

Every problem is a TruthError whose message starts FILE:LINE (FILE:LINE:COL for YAML), so a user fixes
the file without guessing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from watchfloor.schemas.inputs import InputError, parse_timestamp
from watchfloor.schemas.plural import noun

# Defined below the alerts layer, so a subscription's `where` is checked by the same code as a timeline.
from watchfloor.stream_processors.vocabulary import RuleVocabulary as RuleVocabulary
from watchfloor.stream_processors.vocabulary import Spellings
from watchfloor.stream_processors.vocabulary import rule_vocabulary as rule_vocabulary

NEGATIVE_LABELS = frozenset({"", "NONE", "none", "-"})
"""Label cells that mean "labelled, and about nothing a rule should catch"."""

LABEL_SEPARATORS = (";", "|")


class TruthError(ValueError):
    """A labels, label-map or timeline file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class LabelledItem:
    """One labelled event id: its labels (empty: a negative) and, when the file gives it, the time the
    labelled fact became true (lead times are counted from it; else from the item's published_at)."""

    id: str
    labels: frozenset[str]
    time: datetime | None = None
    line: int = 0
    # The id as the labels file writes it (a URL for an event without an id); "" when the same. What reports
    # show; not part of the item's identity.
    key: str = field(default="", compare=False)
    # The story the item reports, when the file says (`event` column): items of one event are one thing to be
    # told. Alerts that only retell a told event are repeats, and a held-back repeat is covered only by an alert
    # of its own event (scores.score).
    event: str | None = None
    # The event of each of its labels, when the file says ((label, event) pairs): an item that reports two stories,
    # one for each label (outside trial 28, F10: a single `event` per id made a caught event read as missed).
    # `event` is then their events joined by ";", for display only.
    events: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # Every event the file names for the item (its labels' and a row's without a label), distinct and sorted: kept
    # apart, never read back out of the joined `event` (review 24, M2: "Gaza; wave 2" split into two stories).
    named_events: tuple[str, ...] = field(default=(), compare=False)
    # Whose story it is, when the file says (`group` column, a timeline's syntax: `party=RUS`, or a bare `RUS`): only
    # an alert carrying it counts the item as caught (outside trial 61, M4: "Ukraine quit the grain deal", citing a
    # report of Russia quitting, scored as a true alert and the event as caught).
    group: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    any_group_value: str | None = field(default=None, compare=False)

    @property
    def group_text(self) -> str:
        """The `group` cell as the labels file wrote it (`party=PRK;place=KURSK`, or a bare value); "" when none."""
        if self.any_group_value is not None:
            return self.any_group_value
        return ";".join(f"{k}={v}" for k, v in self.group)

    def carried_by(
        self, alert_group: Mapping[str, str], attributes: Mapping[str, Iterable[str]], names: Spellings | None
    ) -> bool:
        """Whether an alert (its group and attributes) is about this item's group; True when the file gives none."""
        if not self.group and self.any_group_value is None:
            return True
        return alert_carries(dict(self.group), alert_group, attributes, names, any_value=self.any_group_value)

    def event_for(self, labels: Iterable[str]) -> str | None:
        """The event of the first of `labels` (sorted) that has one; else the item's one event when the file names
        exactly one for it; else None (the scores then count the item as its own story, as when no event is named):
        never the joined events of two stories, a story nobody wrote (review 24, M2)."""
        own = dict(self.events)
        for label in sorted(labels):
            if label in own:
                return own[label]
        if len(self.named_events) > 1:
            return None
        return self.named_events[0] if self.named_events else self.event

    @property
    def label_key(self) -> str:
        """What the labels file calls the item: its URL when it was labelled by URL, else its id."""
        return self.key or self.id


@dataclass(frozen=True)
class Labels:
    path: str
    items: dict[str, LabelledItem]
    # What the file says that is accepted but likely a mistake (an id labelled both NONE and positive), each
    # naming FILE:LINE; the backtest prints them as warnings.
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # Each label -> the lines that write it, in order: where a misspelt label is to be fixed.
    label_lines: dict[str, list[int]] = field(default_factory=dict, compare=False)
    # The packs' entity spellings, what a `group` cell's values are compared in (set by Truth.load)
    names: Spellings = field(default_factory=Spellings, compare=False)

    def positives(self) -> dict[str, LabelledItem]:
        return {k: v for k, v in self.items.items() if v.labels}

    def all_labels(self) -> set[str]:
        return {lab for it in self.items.values() for lab in it.labels}


@dataclass(frozen=True)
class LabelMap:
    """Which rules answer which label. `source` says where it came from (a YAML file or the packs)."""

    source: str
    rules_by_label: dict[str, tuple[str, ...]]

    def labels_by_rule(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for label, rules in self.rules_by_label.items():
            for r in rules:
                out.setdefault(r, set()).add(label)
        return {r: frozenset(ls) for r, ls in out.items()}

    def rules(self) -> set[str]:
        return {r for rules in self.rules_by_label.values() for r in rules}


@dataclass(frozen=True)
class ExpectedEvent:
    """A row of a timeline: `event` should be alerted by `rule` (in `group`, when given) around `time`."""

    event: str
    time: datetime
    rule: str
    group: dict[str, str] = field(default_factory=dict)
    any_group_value: str | None = None  # a bare group cell ("RUS") matches any capture with that value
    line: int = 0

    def matches_group(self, group: Mapping[str, str]) -> bool:
        return self.matches_alert(group, {})

    def matches_alert(
        self,
        group: Mapping[str, str],
        attributes: Mapping[str, Iterable[str]],
        names: Spellings | Mapping[str, str] | None = None,
    ) -> bool:
        """`name=value`: the alert's group value of that name or one of its attributes' (a capture outside the
        group, such as `place`); a bare value: any of them. Values compare in every spelling of the entity they
        name (`names`: the packs' Spellings, or id -> display name; attributes hold names, groups ids)."""
        return alert_carries(self.group, group, attributes, names, any_value=self.any_group_value)


def alert_carries(
    want: Mapping[str, str],
    group: Mapping[str, str],
    attributes: Mapping[str, Iterable[str]],
    names: Spellings | Mapping[str, str] | None = None,
    *,
    any_value: str | None = None,
) -> bool:
    """Whether an alert (its `group` and `attributes`) carries every `name: value` of `want`: the group's value
    of that name or one of its attributes' (a capture outside the group, such as `place`); `any_value`: any of
    them. A value compares in every spelling of the entity it names, as a subscription's `where` does
    (alerts.routing.carries): by id, display name or gazetteer alias, folded (`names`: the packs' Spellings, or
    just id -> display name). What timelines and expectations match alerts by."""
    spellings = names if isinstance(names, Spellings) else Spellings(names or {})

    def has(values: Iterable[str], wanted: str) -> bool:
        forms = spellings.of(wanted)
        return any(not forms.isdisjoint(spellings.of(v)) for v in values)

    def values_of(key: str) -> list[str]:
        return ([group[key]] if key in group else []) + list(attributes.get(key, ()))

    if any_value is not None:
        every = [*group.values(), *(v for vs in attributes.values() for v in vs)]
        if not has(every, any_value):
            return False
    return all(has(values_of(k), v) for k, v in want.items())


@dataclass(frozen=True)
class Timeline:
    path: str
    events: list[ExpectedEvent]
    names: Spellings = field(default_factory=Spellings)  # the packs' entity spellings, for matching


def _read_csv(
    path: str | Path, what: str, problems: list[str] | None = None
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header (lower case) and the (line, row) of each non-empty record, comma-separated, or semicolon-separated
    when the header line is. A row of more cells than the header names is an error, raised, or added to `problems`
    (and left out) when given."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise TruthError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise TruthError(f"{path}: is a directory, not a {what} file") from None
    except UnicodeDecodeError as e:
        raise TruthError(f"{path}: not UTF-8 (byte {e.start}); save the {what} file as UTF-8") from None
    except OSError as e:
        raise TruthError(f"{path}: cannot read the {what} file: {e.strerror or e}") from None
    # A spreadsheet saved in a locale whose list separator is ';' (Russian, German, French Excel: "CSV UTF-8" there
    # writes "id;label;event") is read with it: a header line with ';' and no ',' (outside trial 57, LOW-4). A cell
    # holding ';' (several labels) is quoted by such an export, as the csv module reads it.
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise TruthError(f"{path}:1: empty {what} file (expected a header line)") from None
    except csv.Error as e:
        raise TruthError(f"{path}:1: {e}") from None
    header = [h.strip().lower() for h in header]
    rows: list[tuple[int, dict[str, str]]] = []
    end = reader.line_num
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num  # the record's first line, and its last
            if end > line:
                # One record over several lines: a quoted cell holding line breaks, which in these files is a
                # quote left open, swallowing the rows after it (they would silently be one row).
                column = next((h for h, c in zip(header, cells, strict=False) if "\n" in c or "\r" in c), "?")
                raise TruthError(
                    f"{path}:{line}: a quoted cell (column '{column}') runs on to line {end}: an unclosed quote? "
                    f"Lines {line}-{end} would be read as one row"
                )
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                ragged = f"{path}:{line}: {len(cells)} cells, but the header names {len(header)} columns"
                if problems is None:
                    raise TruthError(ragged)
                problems.append(ragged)
                continue
            rows.append((line, {h: c.strip() for h, c in zip(header, cells, strict=False)}))
    except csv.Error as e:
        raise TruthError(f"{path}:{reader.line_num}: {e}") from None
    return header, rows


def _need(path: str | Path, header: list[str], columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        # One column holding another delimiter: a spreadsheet's export in a locale that separates with ";".
        sep = next((d for d in ("\t", "|") if len(header) == 1 and d in header[0]), None)
        hint = f"; the header is one column with {sep!r} in it: write the file comma-separated" if sep else ""
        raise TruthError(
            f"{path}:1: a {what} file needs the {noun(len(missing), 'column')} {', '.join(missing)} "
            f"(header has: {', '.join(header) or 'nothing'}){hint}"
        )


def _time(path: str | Path, line: int, value: str, column: str) -> datetime:
    try:
        return parse_timestamp(value, column)
    except InputError as e:
        raise TruthError(f"{path}:{line}: column '{column}': {e.message}") from None


def split_labels(cell: str) -> list[str]:
    parts = [cell]
    for sep in LABEL_SEPARATORS:
        parts = [q for p in parts for q in p.split(sep)]
    return [p.strip() for p in parts if p.strip() not in NEGATIVE_LABELS]


def yaml_error_where(text: str, e: YAMLError) -> str:
    """LINE:COL of a ruamel error: its mark, else (a ReaderError: a control character, a bad encoding) the
    character position it gives, else 1:1."""
    if isinstance(e, MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        if mark is not None:
            return f"{mark.line + 1}:{mark.column + 1}"
        return "1:1"
    position = getattr(e, "position", None)
    if isinstance(position, int) and 0 <= position <= len(text):
        before = text[:position]
        line = before.count("\n") + 1
        return f"{line}:{position - (before.rfind(chr(10)) + 1) + 1}"
    return "1:1"


def yaml_error_text(e: YAMLError) -> str:
    """The problem a ruamel error states, without its own position lines ('in "<file>", position 23')."""
    if isinstance(e, MarkedYAMLError):
        return str(e.problem or e)
    return str(e).splitlines()[0] if str(e) else type(e).__name__


CONTRADICTIONS_SHOWN = 5
"""Ids labelled both NONE and positive that are named one by one; the rest are counted."""

BAD_LINES_SHOWN = 20
"""The bad lines of a labels file named one by one in its error; the rest are counted."""


def _line_of(path: str | Path, problem: str) -> int:
    """The LINE of a problem told as FILE:LINE: …"""
    number = problem[len(str(path)) + 1 :].split(":", 1)[0]
    return int(number) if number.isdigit() else 0


def bad_lines_error(path: str | Path, problems: list[str]) -> TruthError:
    """One error for every bad line of a file (outside trial 53, LOW-4: only the first of three bad times was told,
    a run per mistake): a single one as it is, more under a line counting them, past BAD_LINES_SHOWN counted."""
    if len(problems) == 1:
        return TruthError(problems[0])
    shown = "".join(f"\n  {p}" for p in problems[:BAD_LINES_SHOWN])
    more = len(problems) - BAD_LINES_SHOWN
    tail = f"\n  … and {more} more bad {noun(more, 'line')}" if more > 0 else ""
    return TruthError(f"{path}: {len(problems)} bad lines:{shown}{tail}")


def _labelled_row(
    path: str | Path,
    line: int,
    row: dict[str, str],
    column: str,
    items: dict[str, LabelledItem],
    positive_at: dict[str, int],
    negative_at: dict[str, tuple[int, str]],
    event_lines: dict[tuple[str, str], int],
) -> LabelledItem:
    """The item a labels row makes (with what `items` had of its id); a TruthError naming FILE:LINE when the row is
    bad, before it has changed anything."""
    item_id = row.get("id", "")
    if not item_id:
        raise TruthError(f"{path}:{line}: empty id")
    cell = row.get(column, "")
    row_labels = set(split_labels(cell))
    labels = set(row_labels)
    t = _time(path, line, row["time"], "time") if row.get("time") else None
    event = (row.get("event") or "").strip() or None
    try:
        group_cell, bare = parse_group(row.get("group") or "")
    except ValueError as e:
        raise TruthError(f"{path}:{line}: column 'group': {e}") from None
    group = tuple(sorted(group_cell.items()))
    prev = items.get(item_id)
    if prev is not None and (group or bare) and (prev.group or prev.any_group_value):
        if (prev.group, prev.any_group_value) != (group, bare):
            raise TruthError(
                f"{path}:{line}: id {item_id!r} has another group than on line {prev.line}: one item is one "
                "story's (label its other story's report apart, or leave the group out)"
            )
    if prev is not None and not (group or bare):
        group, bare = prev.group, prev.any_group_value
    events = dict(prev.events) if prev is not None else {}
    if event is not None:
        for label in sorted(labels):
            had = events.get(label)
            if had is not None and had != event:
                raise TruthError(
                    f"{path}:{line}: id {item_id!r} has the event {event!r} for the label {label!r}, and "
                    f"{had!r} on line {event_lines[(item_id, label)]}"
                )
            events[label] = event
    if prev is not None:
        if prev.time is not None and t is not None and prev.time != t:
            raise TruthError(f"{path}:{line}: id {item_id!r} has another time on line {prev.line}")
        labels |= prev.labels
        t = t or prev.time
    if event is not None:
        for label in row_labels:
            event_lines.setdefault((item_id, label), line)
    if row_labels:
        positive_at.setdefault(item_id, line)
    if not row_labels or _negative_parts(cell):
        negative_at.setdefault(item_id, (line, cell))
    # The item's events: its labels' and any a row without a label gave (a negative's)
    named = set(events.values()) | set(prev.named_events if prev is not None else ())
    if event is not None:
        named.add(event)
    item_event = ";".join(sorted(named)) if named else None
    return LabelledItem(
        item_id,
        frozenset(labels),
        t,
        prev.line if prev else line,
        item_id,
        item_event,
        tuple(sorted(events.items())),
        tuple(sorted(named)),
        group,
        bare,
    )


def load_labels(path: str | Path) -> Labels:
    """`id,label[,time][,event][,group]` (other columns ignored; `labels` for `label` too, as `backtest --csv`
    writes it). An id may have several rows or `;`-separated labels;
    NONE (or an empty cell) marks a labelled negative. An id with a label and NONE is a positive, with a
    warning naming both lines. `event` names the story an item reports, per label (an item reporting two stories
    has a row per label, each with its event; one label has one event)."""
    problems: list[str] = []  # every bad line, told together (a run per mistake was a run per line)
    header, rows = _read_csv(path, "labels", problems)
    # `backtest --csv` writes its labels.csv with a `labels` column: read back as it is (outside trial 40).
    column = "labels" if "label" not in header and "labels" in header else "label"
    _need(path, header, ("id", column), "labels")
    items: dict[str, LabelledItem] = {}
    positive_at: dict[str, int] = {}  # id -> the first line giving it a label
    negative_at: dict[str, tuple[int, str]] = {}  # id -> the first line marking it a negative, and its cell
    event_lines: dict[tuple[str, str], int] = {}  # (id, label) -> the line that gave its event
    label_lines: dict[str, list[int]] = {}
    for line, row in rows:
        try:
            item = _labelled_row(path, line, row, column, items, positive_at, negative_at, event_lines)
        except TruthError as e:
            problems.append(str(e))
            continue
        items[item.id] = item
        for label in split_labels(row.get(column, "")):
            label_lines.setdefault(label, []).append(line)
    if problems:
        raise bad_lines_error(path, sorted(problems, key=lambda p: _line_of(path, p)))
    if not items:
        raise TruthError(f"{path}: no labelled rows")
    return Labels(str(path), items, _contradictions(path, items, positive_at, negative_at), label_lines)


def _negative_parts(cell: str) -> list[str]:
    """The NONE marks written in a label cell (not its empty parts: `A;` is just A)."""
    parts = [cell]
    for sep in LABEL_SEPARATORS:
        parts = [q for p in parts for q in p.split(sep)]
    return [p.strip() for p in parts if p.strip() in NEGATIVE_LABELS and p.strip()]


def _contradictions(
    path: str | Path,
    items: dict[str, LabelledItem],
    positive_at: dict[str, int],
    negative_at: dict[str, tuple[int, str]],
) -> tuple[str, ...]:
    """A warning per id labelled both a negative and a positive (it is scored as a positive), naming FILE:LINE of
    both; past CONTRADICTIONS_SHOWN ids, one line counts the rest."""
    both = [i for i in items if i in positive_at and i in negative_at]
    out = []
    for item_id in both[:CONTRADICTIONS_SHOWN]:
        neg_line, cell = negative_at[item_id]
        pos_line = positive_at[item_id]
        labels = ";".join(sorted(items[item_id].labels))
        marks = _negative_parts(cell)
        if neg_line == pos_line:
            said = f"is labelled both {marks[0]} and {labels}"
        else:
            negative = f"is labelled {marks[0]}" if marks else "has an empty label (a negative)"
            said = f"{negative}, but {path}:{pos_line} labels it {labels}"
        out.append(f"{path}:{neg_line}: id {item_id!r} {said}: it is scored as a positive")
    if len(both) > CONTRADICTIONS_SHOWN:
        rest = both[CONTRADICTIONS_SHOWN:]
        lines = ", ".join(str(negative_at[i][0]) for i in rest[:10]) + (", …" if len(rest) > 10 else "")
        out.append(
            f"{path}: {len(rest)} more ids are labelled both a negative and a positive, scored as positives "
            f"(negative on {noun(len(rest), 'line')} {lines})"
        )
    return tuple(out)


def load_label_map(path: str | Path, known_rules: Iterable[str]) -> LabelMap:
    """YAML: `LABEL: rule-id` or `LABEL: [rule-id, ...]`. Every rule id must be a loaded detection."""
    known = set(known_rules)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TruthError(f"{path}: no such label map file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TruthError(f"{path}: cannot read the label map: {e}") from None
    try:
        tree = YAML(typ="rt").load(io.StringIO(text))
    except YAMLError as e:
        raise TruthError(f"{path}:{yaml_error_where(text, e)}: YAML syntax: {yaml_error_text(e)}") from None
    if not isinstance(tree, CommentedMap):
        raise TruthError(
            f"{path}:1:1: a label map is a mapping of label -> rule id(s), e.g. TREATY_SIGNED: [treaty-signed]"
        )
    out: dict[str, tuple[str, ...]] = {}
    for label in tree:
        value = tree[label]
        kl, kc = tree.lc.key(label)
        vl, vc = tree.lc.value(label)
        if isinstance(value, str):
            rules = [(value, vl + 1, vc + 1)]
        elif isinstance(value, CommentedSeq) and value and all(isinstance(v, str) for v in value):
            rules = [(v, value.lc.item(i)[0] + 1, value.lc.item(i)[1] + 1) for i, v in enumerate(value)]
        else:
            raise TruthError(f"{path}:{kl + 1}:{kc + 1}: label {label!r}: give a rule id or a list of rule ids")
        for rule, line, col in rules:
            if rule not in known:
                raise TruthError(
                    f"{path}:{line}:{col}: unknown rule {rule!r} for label {label!r} "
                    f"(loaded rules: {', '.join(sorted(known)) or 'none'})"
                )
        out[str(label)] = tuple(dict.fromkeys(r for r, _, _ in rules))
    if not out:
        raise TruthError(f"{path}:1:1: empty label map")
    return LabelMap(str(path), out)


def label_map_from_packs(detection_labels: Mapping[str, Iterable[str]], source: str = "rule packs") -> LabelMap:
    """The map the packs declare (`labels:` per detection): detection id -> labels, inverted."""
    out: dict[str, list[str]] = {}
    for rule, labels in detection_labels.items():
        for label in labels:
            out.setdefault(label, []).append(rule)
    return LabelMap(source, {k: tuple(v) for k, v in out.items()})


def parse_group(cell: str) -> tuple[dict[str, str], str | None]:
    """'party=RUS;place=KURSK' -> ({party: RUS, place: KURSK}, None); 'RUS' -> ({}, 'RUS')."""
    cell = cell.strip()
    if not cell:
        return {}, None
    if "=" not in cell:
        return {}, cell
    group: dict[str, str] = {}
    for part in cell.replace("|", ";").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"group {cell!r}: write name=value pairs separated by ';'")
        k, v = part.split("=", 1)
        group[k.strip()] = v.strip()
    return group, None


def load_timeline(path: str | Path, known_rules: Iterable[str] | RuleVocabulary) -> Timeline:
    """`event,time,rule[,group]`: what should have been alerted, by which rule, around when. With a
    RuleVocabulary, a group names only what the rule's alerts can carry (a misspelt `plce=` is an error,
    not a silent miss)."""
    vocab: RuleVocabulary | None = None
    if isinstance(known_rules, RuleVocabulary):
        vocab = known_rules
        known = set(vocab.keys)
    else:
        known = set(known_rules)
    header, rows = _read_csv(path, "timeline")
    _need(path, header, ("event", "time", "rule"), "timeline")
    events: list[ExpectedEvent] = []
    for line, row in rows:
        if not row.get("event"):
            raise TruthError(f"{path}:{line}: empty event name")
        rule = row.get("rule", "")
        if rule not in known:
            raise TruthError(f"{path}:{line}: unknown rule {rule!r} (loaded rules: {', '.join(sorted(known))})")
        try:
            group, bare = parse_group(row.get("group", ""))
        except ValueError as e:
            raise TruthError(f"{path}:{line}: {e}") from None
        allowed = vocab.keys.get(rule) if vocab is not None else None
        if allowed is not None:
            for k in group:
                if k not in allowed:
                    raise TruthError(
                        f"{path}:{line}: column 'group': {rule}'s alerts carry no {k!r} "
                        f"(they can carry: {', '.join(sorted(allowed))})"
                    )
        for k, v in group.items():
            wrong = vocab.value_problem(rule, k, v) if vocab is not None else None
            if wrong is not None:
                raise TruthError(f"{path}:{line}: column 'group': {wrong}")
        t = _time(path, line, row.get("time", ""), "time")
        events.append(ExpectedEvent(row["event"], t, rule, group, bare, line))
    if not events:
        raise TruthError(f"{path}: no expected events")
    return Timeline(str(path), events, vocab.spellings if vocab is not None else Spellings())

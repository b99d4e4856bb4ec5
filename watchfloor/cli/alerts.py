"""The `watchfloor alerts` commands: alerts raised so far."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from watchfloor.schemas.events import Detection, EventType

from ._common import ConfigOpt, alerts_app, app_config, out


@alerts_app.command("list")
def alerts_list(
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Alerts raised so far, from the store, with their delivery status per channel."""
    from watchfloor.wiring import open_store  # the one store opener

    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False)  # a read: a wrong path must not create a store
    try:
        dets: list[Detection] = []
        channels: dict[str, tuple[str, ...]] = {}
        position = 0
        while True:
            got = st.read(position, types={EventType.DETECTION.value, EventType.ALERT.value}, limit=5000)
            if not got:
                break
            for se in got:
                if se.event.type == EventType.DETECTION.value:
                    d = Detection.model_validate(se.event.payload)
                    if rule is None or d.rule == rule:
                        dets.append(d)
                else:
                    channels[se.event.payload["id"]] = tuple(se.event.payload.get("channels", ()))
            position = got[-1].position
        status = {d.id: {ch: st.delivery_status(d.id, ch) or "?" for ch in channels.get(d.id, ())} for d in dets}
        # A silenced alert says which silence held it back ("suppressed" rows carry "silenced by sil-...").
        silenced = {
            (r.alert_id, r.channel): r.detail.removeprefix("silenced by ")
            for r in st.deliveries(statuses=("suppressed",))
            if r.detail.startswith("silenced by ")
        }
    finally:
        st.close()
    if as_json:
        from watchfloor.stream_processors.replay import detection_to_json

        for d in dets:
            row = {**detection_to_json(d), "deliveries": status[d.id]}
            row["silenced_by"] = {ch: silenced[(d.id, ch)] for ch in status[d.id] if (d.id, ch) in silenced}
            sys.stdout.write(json.dumps(row) + "\n")
        return
    table = Table()
    for col in ("fired at", "rule", "severity", "title", "deliveries"):
        table.add_column(col)
    for d in sorted(dets, key=lambda d: d.fired_at):
        table.add_row(
            d.fired_at.isoformat(),
            d.rule,
            d.severity,
            d.title,
            ", ".join(f"{k}:{v}" + _by(silenced.get((d.id, k))) for k, v in status[d.id].items()) or "—",
        )
    out.print(table)
    out.print(f"{len(dets)} alerts", highlight=False)


def _by(silence_id: str | None) -> str:
    return f" ({silence_id})" if silence_id else ""

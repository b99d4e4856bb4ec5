"""The `watchfloor schemas` commands: JSON Schema export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import out, schemas_app


@schemas_app.command("export")
def schemas_export(directory: Annotated[Path, typer.Argument(help="Where to write the *.schema.json files.")]) -> None:
    """Write JSON Schemas: the input contract, every event payload, rule packs and config."""
    from watchfloor.schemas.export import export_all

    written = export_all(directory)
    for p in written:
        out.print(str(p), highlight=False)

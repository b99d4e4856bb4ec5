"""watchfloor: CLI and wiring, the one place that names concrete classes."""

from . import native as _native

_native.install()  # the compiled engine, when built from these very sources (watchfloor/native.py)

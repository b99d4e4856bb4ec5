"""watchfloor: CLI and wiring, the one place that names concrete classes."""

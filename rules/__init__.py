"""Bundled detection rule packs (YAML), found by name as builtin:NAME."""

"""Producers: turn sources (JSON Lines, RSS/Atom feeds) into events and publish them to a log."""

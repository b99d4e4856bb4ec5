"""Notifiers: one class per kind of channel, each with a send(alert) method."""

"""The HTTP side of watchfloor: the Slack app's request URL, health, metrics and the status page (`serve`)."""

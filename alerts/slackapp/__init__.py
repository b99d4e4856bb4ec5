"""The Slack app: slash command, message buttons and events (slack-bolt), and the button contract shared with
the Slack notifier. Importing this package does not import Bolt: the notifier only needs `buttons`."""

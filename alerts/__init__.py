"""Alert delivery: route detections to channels, dedup, retry and notify (console, file, Slack, webhook)."""

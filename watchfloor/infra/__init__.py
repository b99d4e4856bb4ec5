"""Generic I/O shared by the producers, the alerts and stream_processors: an HTTP deadline, durable file creation."""

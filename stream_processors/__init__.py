"""Stream processors: the pure engine (extract, correlate) and the runtimes that drive it."""

"""Process entry points (faces, like cli/ and tui/): each runs as its own process and calls the
services, e.g. `python -m fieldkit.workers.transcription --study DIR`."""

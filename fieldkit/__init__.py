"""fieldkit: offline field interviewing and transcript management for qualitative research."""

__version__ = "0.1.0"

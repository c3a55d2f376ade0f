"""Transcription adapter: bundled-model lookup (models), faster-whisper engine (engine), speakers.

Import the submodules directly; this package imports nothing heavy so `fieldkit --help` stays fast.
"""

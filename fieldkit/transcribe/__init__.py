"""Transcription adapter: the only code that talks to faster-whisper.

models (which local models exist), loading (a model, once per process), options (settings every
stage shares), stretches (cutting a recording at pauses, numpy only), decoding (Whisper calls),
speakers and crosstalk (who said what, from the channels), engine (StretchTranscriber and
transcribe_recording), live and live_engine (the live guard's chunks and its process).

Import the submodules directly; this package imports nothing heavy so `fieldkit --help` stays fast.
"""

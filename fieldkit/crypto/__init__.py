"""Encryption at rest: per-study data keys in passphrase-wrapped key slots, passphrase sources, and
an authenticated-encryption stream format for recordings.

An adapter like store/ and audio/: it builds on the `cryptography` package and never on the UI.
Submodules are imported where they are used, so importing fieldkit stays instant.
"""

"""The Textual app: a participant queue and the live interview screen, over fieldkit.services."""

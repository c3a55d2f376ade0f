"""Widgets grouped by area of the interview screen."""

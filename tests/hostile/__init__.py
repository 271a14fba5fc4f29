"""Hostile input: a corpus of bad requests for every write endpoint (docs/errors.md)."""

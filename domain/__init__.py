"""Arbiter's domain: the rules of human-in-the-loop decisions, in plain Python.

Nothing here imports a framework or a database driver; the store and the API
adapt to these types, never the other way round.
"""

"""The decision log: verdicts, overrides and their connections."""

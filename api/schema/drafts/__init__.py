"""Editable drafts: previewEdit (re-scored before shipping) and recordOutcome."""

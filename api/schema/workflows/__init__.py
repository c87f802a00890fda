"""Workflows, their escalation policies and queue counts."""

"""Persistence: SQLModel tables, repositories and the unit of work (SQLite and PostgreSQL)."""

"""Shared GraphQL pieces: Node, PageInfo, enums, problems."""

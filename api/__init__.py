"""Arbiter's outside: the Starlette app, the GraphQL schema, authentication and the CLI."""

"""The learning loop in GraphQL: models, themes, the feedback report, model events."""

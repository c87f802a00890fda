"""Background jobs as GraphQL sees them: job(id) and the Job type."""

"""Webhooks: signed, retried deliveries of queue events to services (ADMIN only)."""

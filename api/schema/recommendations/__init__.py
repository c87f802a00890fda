"""Recommendations: submission, the queue, and the reviewer's leases."""

"""Live queues: subscriptions to queue events and job progress."""

"""Use cases: one per mutation. Each takes a unit of work and commits it once, or not at all."""

"""Background work: arq WorkerSettings and job functions (arrives with the live-queue work)."""

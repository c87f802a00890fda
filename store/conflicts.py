"""Which database errors are transient conflicts: a unit of work that failed with one
may be run again whole and succeed."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

# PostgreSQL: serialization failure, deadlock detected. Both are safe to retry whole.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def is_transient_conflict(error: BaseException) -> bool:
    """A serialization failure, a deadlock, or a concurrent insert of the same unique
    key (on retry the use case finds the row)."""
    if not isinstance(error, DBAPIError):
        return False
    if isinstance(error, IntegrityError):
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in RETRYABLE_SQLSTATES

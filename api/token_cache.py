"""A bounded, expiring map from bearer-token hashes to their users."""

from __future__ import annotations

import time
from collections import OrderedDict

from domain.model import User


class TokenCache:
    """Recently resolved tokens (by hash) → their users, for `seconds`, at most `size` of them.

    Only tokens that resolved are kept: an unknown token always asks the database,
    so a user created on another replica can use their token at once.
    """

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[str, tuple[float, User]] = OrderedDict()

    def get(self, token_hash: str) -> User | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires, user = entry
        if expires <= time.monotonic():
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return user

    def put(self, token_hash: str, user: User) -> None:
        if self.seconds <= 0 or self.size <= 0:
            return
        self._entries[token_hash] = (time.monotonic() + self.seconds, user)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

"""An identity provider's signing keys (its JWKS), fetched with httpx and cached.

A token naming a key id the cache lacks refetches the set, at most once every
`refetch_seconds`, so that junk tokens with made-up key ids cannot make Arbiter hammer
the issuer. Only keys of the accepted algorithms (RS256, ES256) are kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from domain.errors import AuthenticationError

log = logging.getLogger("arbiter.oidc")

ACCEPTED_ALGORITHMS = ("RS256", "ES256")
TIMEOUT_SECONDS = 5.0


class JwksKeys:
    """The issuer's keys by key id: from `jwks_url`, or the `jwks_uri` its discovery
    document (<issuer>/.well-known/openid-configuration) names."""

    def __init__(self, issuer: str, jwks_url: str | None, refetch_seconds: float) -> None:
        self.issuer = issuer.rstrip("/")
        self.jwks_url = jwks_url
        self.refetch_seconds = refetch_seconds
        self.fetches = 0  # how often the key set was asked for
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._throttled_at = float("-inf")  # the last refetch for an unknown key id
        self._loaded = False
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key with this id (the only key when the token names none and there is
        one); AuthenticationError when the issuer has none such, even after a refetch."""
        found = self._find(kid)
        if found is None:
            await self._refetch()
            found = self._find(kid)
        if found is None:
            raise AuthenticationError(
                "the token is signed with a key the identity provider does not publish"
            )
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    async def _refetch(self) -> None:
        """Fetch the key set: the first time, and then for an unknown key id at most once
        every `refetch_seconds` (a failed fetch waits as long before the next)."""
        started = time.monotonic()
        async with self._lock:
            if self._fetched_at > started:
                return  # fetched while this request waited
            if started - self._throttled_at < self.refetch_seconds:
                return
            if self._loaded:
                self._throttled_at = time.monotonic()
            self._fetched_at = time.monotonic()
            self.fetches += 1
            try:
                self._keys = parse_key_set(await self._download())
                self._loaded = True
            except (httpx.HTTPError, ValueError, TypeError, KeyError) as error:
                self._throttled_at = time.monotonic()
                log.warning("could not fetch the identity provider's keys: %s", error)
                raise AuthenticationError(
                    "the identity provider's keys could not be fetched; try again later"
                ) from error

    async def _download(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            url = self.jwks_url
            if url is None:
                discovery = f"{self.issuer}/.well-known/openid-configuration"
                response = await client.get(discovery)
                response.raise_for_status()
                url = str(response.json()["jwks_uri"])
                self.jwks_url = url
            response = await client.get(url)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("the key set is not a JSON object")
            return document


def parse_key_set(document: dict[str, Any]) -> dict[str | None, jwt.PyJWK]:
    """The usable keys of a JWKS document by key id; keys of other algorithms or uses
    (symmetric ones above all) are left out."""
    keys: dict[str | None, jwt.PyJWK] = {}
    for data in document.get("keys", []):
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ACCEPTED_ALGORITHMS:
            keys[data.get("kid")] = key
    return keys

"""OpenID Connect bearer tokens: a JWT from the identity provider names its user.

Verified: the signature, by a key from the issuer's JWKS (api.jwks), with exactly
RS256 or ES256 (never `none`, never HS*: a header naming another algorithm is refused
before any key is looked at, so a public key can never serve as an HMAC secret);
`iss`, `aud`, `exp`, `iat` and `sub` required and checked, `nbf` when present, with
LEEWAY_SECONDS of clock skew. The role claim must name a role. The user is the one
whose external id is "<iss> <sub>", created on first sign-in; when the provider's
role claim changed, the stored role follows it (domain.usecases.accounts:
sign_in_external, which records both as admin actions of the operator: the provider
is the authority on who is what, and the record shows when it changed its mind).

Every refusal is an AuthenticationError (a 401) whose message says what was wrong
with the token, never anything about the keys.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import jwt

from api.jwks import ACCEPTED_ALGORITHMS, JwksKeys
from api.settings import Settings
from domain.enums import Role
from domain.errors import AuthenticationError
from domain.usecases.accounts import ExternalIdentity

LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")

REFUSALS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.ExpiredSignatureError, "the token expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (nbf or iat in the future)"),
    (jwt.InvalidAudienceError, "the token is not meant for this service (aud)"),
    (jwt.InvalidIssuerError, "the token is not from the configured identity provider (iss)"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
]


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated base64url parts (opaque tokens have no dots)."""
    return bool(_JWT.match(token))


class OidcVerifier:
    """Turns a provider's JWT into an ExternalIdentity, or refuses it."""

    def __init__(self, settings: Settings, keys: JwksKeys | None = None) -> None:
        assert settings.oidc_issuer and settings.oidc_audience
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.role_claim = settings.oidc_role_claim
        self.name_claim = settings.oidc_name_claim
        self.keys = keys or JwksKeys(
            settings.oidc_issuer, settings.oidc_jwks_url, settings.oidc_jwks_refetch_seconds
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcVerifier | None:
        return cls(settings) if settings.oidc_issuer else None

    async def identity(self, token: str) -> tuple[ExternalIdentity, datetime]:
        """Who the token says is asking, and when the token expires."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthenticationError("the token is not a well-formed JWT") from error
        algorithm = header.get("alg")
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise AuthenticationError(
                f"the token's algorithm {str(algorithm)[:20]!r} is not accepted "
                f"(only {' and '.join(ACCEPTED_ALGORITHMS)})"
            )
        kid = header.get("kid")
        key = await self.keys.key(kid if isinstance(kid, str) else None)
        if key.algorithm_name != algorithm:
            raise AuthenticationError("the token's algorithm does not match its key")
        claims = self._claims(token, key, algorithm)
        return self._identity(claims), datetime.fromtimestamp(int(claims["exp"]), UTC)

    def _claims(self, token: str, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            for kind, message in REFUSALS:
                if isinstance(error, kind):
                    raise AuthenticationError(message) from error
            raise AuthenticationError("the token is not valid") from error

    def _identity(self, claims: dict[str, Any]) -> ExternalIdentity:
        named = claims.get(self.role_claim)
        try:
            role = Role(str(named).upper()) if isinstance(named, str) else None
        except ValueError:
            role = None
        if role is None:
            roles = ", ".join(r.value for r in Role)
            raise AuthenticationError(
                f"the token's {self.role_claim!r} claim must name a role ({roles})"
            )
        subject = str(claims["sub"])
        name = next(
            (
                str(claims[claim])
                for claim in (self.name_claim, "email")
                if isinstance(claims.get(claim), str) and claims[claim].strip()
            ),
            subject,
        )
        return ExternalIdentity(issuer=str(claims["iss"]), subject=subject, name=name, role=role)

"""OpenID Connect bearer tokens, against an identity provider this test serves on
127.0.0.1 (its discovery document and JWKS, from a real HTTP server), with real keys
(RSA and EC P-256, made here) and real tokens minted with PyJWT.

Accepted: RS256 and ES256 tokens of the issuer for the audience, naming a role; the
user is created on first sign-in and found again after. Refused with a 401: expired,
another audience, another issuer, a key id the JWKS lacks (after one refetch),
`alg: none`, HS256 keyed with the public key, no role claim. A new key in the JWKS
(rotation) is found by a refetch.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.app import create_app
from tests.conftest import GraphQLClient, make_settings
from tests.factories import create_user

AUDIENCE = "arbiter-test"
ME = "{ me { id name role active } }"
USERS = "{ users(includeInactive: true) { id name role } }"
ACTIONS = "{ adminActions { action target details actor { id } } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { __typename } }"


@dataclass
class Provider:
    """The identity provider: its keys by kid (private, to sign), the kids its JWKS
    publishes, and how often the JWKS was fetched."""

    issuer: str = ""
    keys: dict[str, Any] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    jwks_fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid in self.published:
            public = self.keys[kid].public_key()
            algorithm: Any = (
                jwt.algorithms.RSAAlgorithm
                if isinstance(public, rsa.RSAPublicKey)
                else jwt.algorithms.ECAlgorithm
            )
            published.append({**json.loads(algorithm.to_jwk(public)), "kid": kid, "use": "sig"})
        return {"keys": published}

    def add_key(self, kid: str, kind: str = "RSA", publish: bool = True) -> None:
        if kind == "RSA":
            self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        if publish:
            self.published.append(kid)

    def claims(self, **changes: Any) -> dict[str, Any]:
        """Valid claims for the test's audience, with `changes` (None: left out)."""
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "subject-1",
            "iat": now,
            "exp": now + 300,
            "arbiter_role": "analyst",
            "preferred_username": "alice",
            **changes,
        }
        return {name: value for name, value in payload.items() if value is not None}

    def mint(self, kid: str = "rsa-1", algorithm: str = "RS256", **changes: Any) -> str:
        payload = self.claims(**changes)
        return jwt.encode(payload, self.keys[kid], algorithm=algorithm, headers={"kid": kid})

    def public_pem(self, kid: str) -> bytes:
        return bytes(
            self.keys[kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token PyJWT would not make: `alg: none`, or HS256 keyed with a public key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if key is None:
        return f"{signing_input}."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@contextlib.contextmanager
def serving(provider: Provider) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/jwks"}
            elif self.path == "/jwks":
                provider.jwks_fetches += 1
                body = provider.jwks()
            else:
                self.send_error(404)
                return
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    found.add_key("rsa-1", "RSA")
    found.add_key("ec-1", "EC")
    with serving(found) as issuer:
        found.issuer = issuer
        yield found


@contextlib.asynccontextmanager
async def app_for(database_url: str, provider: Provider, **settings: Any) -> AsyncIterator[Any]:
    app = create_app(
        make_settings(database_url, oidc_issuer=provider.issuer, oidc_audience=AUDIENCE, **settings)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield GraphQLClient(http, app.state.services)


@pytest_asyncio.fixture(loop_scope="session")
async def oidc(database: Any, database_url: str, provider: Provider) -> AsyncIterator[Any]:
    async with app_for(database_url, provider, oidc_jwks_refetch_seconds=0) as client:
        yield client


async def test_an_rs256_token_signs_in_a_new_user_once_with_the_role_its_claim_names(
    oidc, provider
):
    first = (await oidc(ME, token=provider.mint()))["me"]
    again = (await oidc(ME, token=provider.mint(iat=int(time.time()) - 5)))["me"]

    assert first == {"id": first["id"], "name": "alice", "role": "ANALYST", "active": True}
    assert again["id"] == first["id"]
    admin = await create_user(oidc.services, "admin")
    users = (await oidc(USERS, token=admin))["users"]
    assert [u["name"] for u in users].count("alice") == 1


async def test_an_es256_token_is_accepted_and_the_role_claim_is_case_insensitive(oidc, provider):
    token = provider.mint("ec-1", "ES256", sub="subject-ec", arbiter_role="Senior")
    found = (await oidc(ME, token=token))["me"]
    assert found["role"] == "SENIOR"


async def test_a_taken_name_is_made_unique_and_the_email_names_a_user_without_a_username(
    oidc, provider
):
    await create_user(oidc.services, "analyst", name="alice")
    taken = (await oidc(ME, token=provider.mint(sub="another")))["me"]
    by_email = provider.mint(sub="third", preferred_username=None, email="eve@example.org")
    assert taken["name"] == "alice (2)"
    assert (await oidc(ME, token=by_email))["me"]["name"] == "eve@example.org"


def refused_tokens(provider: Provider) -> dict[str, str]:
    now = int(time.time())
    claims = provider.claims(arbiter_role="admin")
    provider.add_key("rsa-unpublished", "RSA", publish=False)
    forged = jwt.encode(claims, provider.keys["rsa-unpublished"], "RS256", {"kid": "rsa-1"})
    return {
        "expired": provider.mint(iat=now - 3600, exp=now - 600),
        "another audience": provider.mint(aud="someone-else"),
        "another issuer": provider.mint(iss="https://evil.example.org"),
        "unknown key": provider.mint("rsa-unpublished"),
        "alg none": unsigned_token({"alg": "none", "kid": "rsa-1"}, claims, None),
        "hs256 with the public key": unsigned_token(
            {"alg": "HS256", "kid": "rsa-1"}, claims, provider.public_pem("rsa-1")
        ),
        "no role claim": provider.mint(arbiter_role=None),
        "a role that is none": provider.mint(arbiter_role="root"),
        "signed by another key": forged,
        "no expiry": provider.mint(exp=None),
    }


async def test_every_bad_token_is_a_401_that_says_why_and_leaks_no_key(oidc, provider):
    tokens = refused_tokens(provider)
    answers = {name: await oidc.post(ME, token=token) for name, token in tokens.items()}

    assert {name: r.status_code for name, r in answers.items()} == {n: 401 for n in tokens}
    published = provider.jwks()["keys"]
    for name, response in answers.items():
        text = response.text
        assert "message" in text or "error" in text, (name, text)
        assert "BEGIN" not in text, name
        for key in published:
            assert key.get("n", key.get("x")) not in text, name
    assert "algorithm" in answers["alg none"].text
    assert "expired" in answers["expired"].text
    assert "aud" in answers["another audience"].text
    assert "iss" in answers["another issuer"].text
    assert "arbiter_role" in answers["no role claim"].text
    admin = await create_user(oidc.services, "admin", name="keeper")
    users = (await oidc(USERS, token=admin))["users"]
    assert [u["name"] for u in users] == ["keeper"]  # no refused token signed anyone in


async def test_an_unknown_key_refetches_the_jwks_once_then_is_refused(
    database, database_url, provider
):
    async with app_for(database_url, provider, oidc_jwks_refetch_seconds=60) as oidc:
        assert (await oidc.post(ME, token=provider.mint())).status_code == 200
        fetched = provider.jwks_fetches
        provider.add_key("rsa-unpublished", "RSA", publish=False)

        junk = [provider.mint("rsa-unpublished", sub=f"junk-{n}") for n in range(5)]
        statuses = [(await oidc.post(ME, token=token)).status_code for token in junk]

    assert statuses == [401] * 5
    assert provider.jwks_fetches == fetched + 1  # one refetch for five junk tokens


async def test_a_rotated_key_is_found_by_a_refetch(oidc, provider):
    assert (await oidc.post(ME, token=provider.mint())).status_code == 200
    provider.add_key("rsa-2", "RSA")
    provider.published.remove("rsa-1")

    rotated = await oidc.post(ME, token=provider.mint("rsa-2", sub="subject-rotated"))

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["data"]["me"]["role"] == "ANALYST"


async def test_the_stored_role_follows_the_claim_and_the_change_is_recorded(oidc, provider):
    before = (await oidc(ME, token=provider.mint(arbiter_role="analyst")))["me"]
    after = (await oidc(ME, token=provider.mint(arbiter_role="admin", jti="later")))["me"]

    assert (before["id"], before["role"], after["role"]) == (after["id"], "ANALYST", "ADMIN")
    record = (await oidc(ACTIONS, token=provider.mint(arbiter_role="admin", jti="x")))[
        "adminActions"
    ]
    synced = [a for a in record if a["action"] == "syncRoleFromIdentityProvider"]
    assert len(synced) == 1 and synced[0]["target"] == after["id"]
    assert synced[0]["details"]["from"] == "ANALYST" and synced[0]["details"]["to"] == "ADMIN"
    assert synced[0]["actor"]["id"] == "operator"


async def test_a_deactivated_identity_provider_user_is_refused(oidc, provider):
    user = (await oidc(ME, token=provider.mint()))["me"]
    admin = await create_user(oidc.services, "admin")
    await oidc(DEACTIVATE, {"id": user["id"]}, token=admin)

    response = await oidc.post(ME, token=provider.mint(jti="after"))

    assert response.status_code == 401
    assert "deactivated" in response.text


async def test_opaque_tokens_keep_working_beside_the_identity_provider(oidc, provider):
    token = await create_user(oidc.services, "senior", name="local")
    assert (await oidc(ME, token=token))["me"]["name"] == "local"
    assert (await oidc.post(ME, token="not.a-token.at-all")).status_code == 401


async def test_first_sign_ins_at_once_make_one_user(oidc, provider):
    tokens = [provider.mint(sub="racer", jti=f"t{n}") for n in range(5)]

    answers = await asyncio.gather(*(oidc.post(ME, token=token) for token in tokens))

    assert [r.status_code for r in answers] == [200] * 5, [r.text for r in answers]
    assert len({r.json()["data"]["me"]["id"] for r in answers}) == 1

"""Fakes of Microsoft's side on 127.0.0.1: the Bot Connector, the token endpoint, Graph, JWKS.

`FakeConnector` speaks the Bot Connector REST API the way Teams does (POST a new activity,
reply to one, PUT an update, POST /v3/conversations for a 1:1 chat, GET /v3/teams/{id}), plus
the identity platform (OpenID discovery and the token endpoint, over HTTPS as MSAL insists, with
a certificate made here: `trust_fake_identity_platform` makes MSAL trust it) and the Graph call
that lists a team's owners. It records every call and can answer 429/5xx on demand.
`FakeBotFramework` is the OpenID metadata / JWKS server the Bot Framework signs tokens with, and
mints tokens like it. Builders at the end make the activities Teams POSTs to a bot;
`RecordingAdapter` runs a turn in memory and keeps what the bot sent.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import itertools
import json
import ssl
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from tempfile import mkdtemp
from typing import Any
from urllib.parse import unquote

import aiohttp
import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.activity import Activity, ConversationReference, ResourceResponse
from microsoft_agents.hosting.core import ChannelAdapter, TurnContext

from adapters.server import create_app
from adapters.teams.adapter import TeamsAdapter
from tests.loopback import LoopbackServer

APP_ID = "11111111-2222-3333-4444-555555555555"
BOT_ID = f"28:{APP_ID}"
TENANT = "tenant-1"
TEAM = "19:team-root@thread.tacv2"
TEAM_GROUP = "group-aad-1"
CHANNEL = "19:general-channel@thread.tacv2"
ISSUER = "https://api.botframework.com"


@dataclass
class Call:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    answer: Any = None  # what the fake answered (e.g. {"id": <new activity id>})


@dataclass
class FakeConnector(LoopbackServer):
    """The Bot Connector at `url` (the serviceUrl), tokens at `/{tenant}/oauth2/v2.0/token`."""

    calls: list[Call] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    owners: dict[str, list[str]] = field(default_factory=dict)  # aad group -> owner object ids
    team_groups: dict[str, str] = field(default_factory=dict)  # team id -> aad group id
    refuse_personal: bool = False
    require_token: bool = False
    rejected_tokens: set[str] = field(default_factory=set)  # answered 401 (e.g. revoked)
    token_lifetime: int = 3600
    token_delay: float = 0.0
    server: TestServer | None = None
    tls_port: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1700000000001))

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/graph/v1.0/teams/{group}/members", self._graph_members)
        app.router.add_route("*", "/v3/{tail:.*}", self._v3)
        await self.serve(app)
        assert self.server is not None and self.server.runner is not None
        tls = web.TCPSite(self.server.runner, "127.0.0.1", 0, ssl_context=server_tls())
        await tls.start()
        self.tls_port = tls._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    @property
    def graph_url(self) -> str:
        return f"{self.url}/graph"

    @property
    def identity_url(self) -> str:
        """The identity platform's root (HTTPS, as MSAL requires)."""
        return f"https://127.0.0.1:{self.tls_port}"

    def login_url(self, tenant: str = "botframework.com") -> str:
        return f"{self.identity_url}/{tenant}"

    # -- what the bot sent --------------------------------------------------------------------

    def activities(self, method: str = "POST") -> list[Call]:
        """Activities the bot sent (POST) or updated (PUT), in order."""
        return [c for c in self.calls if c.method == method and "/activities" in c.path]

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [c.body for c in self.activities("POST")]

    @property
    def updates(self) -> list[Call]:
        return self.activities("PUT")

    def texts(self) -> list[str]:
        """Each sent activity's words: its text, or its card's text blocks."""
        return [activity_text(body) for body in self.sent]

    # -- handlers -----------------------------------------------------------------------------

    async def _discovery(self, request: web.Request) -> web.Response:
        """OpenID discovery, which MSAL reads before its first token request."""
        base = f"{self.identity_url}/{request.match_info['tenant']}"
        return web.json_response({
            "issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint_auth_methods_supported": ["client_secret_post"]})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        self.token_requests.append({"tenant": request.match_info["tenant"],
                                    **{k: str(v) for k, v in form.items()}})
        if form.get("client_secret") != "s3cret-password":
            return web.json_response({"error": "invalid_client",
                                      "error_description": "bad secret"}, status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": self.token_lifetime,
                                  "access_token": f"token-{len(self.token_requests)}"})

    def _authorised(self, request: web.Request) -> bool:
        if not self.require_token:
            return True
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer token-") and header[7:] not in self.rejected_tokens

    async def _graph_members(self, request: web.Request) -> web.Response:
        self.calls.append(Call("GET", request.path_qs, None, dict(request.headers)))
        if not self._authorised(request):
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        group = request.match_info["group"]
        if group not in self.owners:
            return web.json_response({"error": {"code": "Forbidden"}}, status=403)
        return web.json_response({"value": [
            {"@odata.type": "#microsoft.graph.aadUserConversationMember", "userId": user,
             "roles": ["owner"]} for user in self.owners[group]]})

    async def _v3(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        path = unquote(request.path)
        self.calls.append(Call(request.method, path, body, dict(request.headers)))
        if not self._authorised(request):
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response({"error": {"code": "Throttled"}}, status=status,
                                     headers=headers)
        parts = path.split("/")  # ['', 'v3', 'conversations', id, 'activities', ...]
        if parts[2] == "teams" and request.method == "GET":
            team = parts[3]
            return web.json_response({"id": team, "name": "AWS learners",
                                      "aadGroupId": self.team_groups.get(team)})
        if parts[2] == "conversations" and len(parts) == 3 and request.method == "POST":
            if self.refuse_personal:
                return web.json_response({"error": {"code": "Forbidden"}}, status=403)
            member = (body or {}).get("members", [{}])[0].get("id", "")
            return web.json_response({"id": f"a:personal-{member}"}, status=201)
        if parts[2] == "conversations" and len(parts) >= 5 and parts[4] == "activities":
            if request.method == "PUT":
                self.calls[-1].answer = {"id": parts[5]}
                return web.json_response({"id": parts[5]})
            self.calls[-1].answer = {"id": str(next(self._ids))}
            return web.json_response(self.calls[-1].answer, status=201)
        return web.json_response({"error": {"code": "NotFound"}}, status=404)


def activity_text(activity: dict[str, Any]) -> str:
    """The words of an activity as a person would read them (text or card text blocks)."""
    parts = [activity.get("text") or ""]
    for attachment in activity.get("attachments") or []:
        for block in (attachment.get("content") or {}).get("body", []):
            if block.get("type") == "TextBlock":
                parts.append(block["text"])
            if block.get("type") == "FactSet":
                parts += [f"{f['title']}: {f['value']}" for f in block["facts"]]
    return "\n".join(p for p in parts if p)


def card_buttons(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The Action.Submit buttons of an activity's Adaptive Card."""
    buttons = []
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content") or {}
        buttons += content.get("actions", [])
        for block in content.get("body", []):
            if block.get("type") == "ActionSet":
                buttons += block["actions"]
    return buttons


@dataclass
class FakeBotFramework(LoopbackServer):
    """The Bot Framework's OpenID metadata and signing keys; `token()` mints like it does."""

    private_key: Any = None
    kid: str = "test-key-1"
    server: TestServer | None = None
    metadata_requests: int = 0
    key_requests: int = 0

    async def start(self) -> FakeBotFramework:
        if self.private_key is None:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        await self.serve(app)
        return self

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def keys_url(self) -> str:
        return f"{self.url}/v1/keys"

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/v1/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, request: web.Request) -> web.Response:
        self.key_requests += 1
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams"]})
        return web.json_response({"keys": [jwk]})

    def token(self, audience: str = APP_ID, service_url: str = "", expires_in: int = 3600,
              issuer: str = ISSUER, key: Any = None, kid: str | None = None) -> str:
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url, "nbf": now - 10,
                  "iat": now - 10, "exp": now + expires_in}
        return jwt.encode(claims, key or self.private_key, algorithm="RS256",
                          headers={"kid": kid or self.kid})


# -- TLS for the identity platform -------------------------------------------------------------

@cache
def _certificate() -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made once per test run): (cert, key) PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake identity platform")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = Path(mkdtemp(prefix="teams-fake-tls-"))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def server_tls() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, _certificate()))
    return context


def trusted_ca_bundle() -> str:
    """The PEM file that makes MSAL (requests) trust the fake identity platform."""
    return str(_certificate()[0])


# -- a turn in memory ---------------------------------------------------------------------------

class RecordingAdapter(ChannelAdapter):
    """Runs the bot's turns without HTTP; keeps the activities it sent and the cards it updated."""

    def __init__(self, on_turn: Any) -> None:
        super().__init__()
        self.on_turn = on_turn
        self.sent: list[Activity] = []
        self.updated: list[Activity] = []

    async def receive(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        """One turn; the activities the bot sent, as JSON."""
        self.sent.clear()
        await self.run_pipeline(TurnContext(self, Activity.model_validate(activity)), self.on_turn)
        return [a.model_dump(by_alias=True, exclude_none=True, mode="json") for a in self.sent]

    async def send_activities(self, context: TurnContext,
                              activities: list[Activity]) -> list[ResourceResponse]:
        self.sent += activities
        return [ResourceResponse(id=f"sent-{len(self.sent)}") for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        self.updated.append(activity)
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext,
                              reference: ConversationReference) -> None:
        raise NotImplementedError


# -- activities as Teams sends them --------------------------------------------------------------

_activity_ids = itertools.count(1)


def _base(service_url: str, conversation: dict[str, Any], user: str, name: str,
          channel_data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message", "id": f"act-{next(_activity_ids)}", "channelId": "msteams",
        "serviceUrl": service_url, "timestamp": "2026-11-02T08:00:00.000Z", "locale": "en-US",
        "from": {"id": f"29:{user}", "name": name, "aadObjectId": f"aad-{user}"},
        "recipient": {"id": BOT_ID, "name": "AWS Quiz"},
        "conversation": conversation, "channelData": channel_data,
    }


def personal(service_url: str, text: str = "", user: str = "alice", name: str = "Alice",
             value: dict[str, Any] | None = None,
             reply_to: str | None = None) -> dict[str, Any]:
    """A message (or card submit) in the user's personal chat with the bot."""
    activity = _base(service_url, {"id": f"a:personal-29:{user}", "conversationType": "personal",
                                   "tenantId": TENANT},
                     user, name, {"tenant": {"id": TENANT}})
    activity["text"] = text
    if value is not None:
        activity["value"] = value
    if reply_to is not None:
        activity["replyToId"] = reply_to
    return activity


def channel(service_url: str, text: str = "", user: str = "bob", name: str = "Bob",
            mention: bool = True, thread: str | None = None, value: dict[str, Any] | None = None,
            reply_to: str | None = None, with_group: bool = True) -> dict[str, Any]:
    """A message in a team channel; `mention` prefixes `<at>AWS Quiz</at>` as Teams does."""
    conversation_id = CHANNEL + (f";messageid={thread}" if thread else "")
    team = {"id": TEAM, "name": "AWS learners"}
    if with_group:
        team["aadGroupId"] = TEAM_GROUP
    activity = _base(service_url, {"id": conversation_id, "conversationType": "channel",
                                   "tenantId": TENANT, "isGroup": True},
                     user, name, {"teamsChannelId": CHANNEL, "teamsTeamId": TEAM,
                                  "channel": {"id": CHANNEL}, "team": team,
                                  "tenant": {"id": TENANT}})
    if mention:
        activity["text"] = f"<at>AWS Quiz</at> {text}"
        activity["entities"] = [{"type": "mention", "text": "<at>AWS Quiz</at>",
                                 "mentioned": {"id": BOT_ID, "name": "AWS Quiz"}}]
    else:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
        activity["text"] = ""
        activity.pop("entities", None)
    if reply_to is not None:
        activity["replyToId"] = reply_to
    return activity


def installed(service_url: str, action: str = "add") -> dict[str, Any]:
    """The installationUpdate Teams sends when the app is added to (or removed from) a team."""
    activity = channel(service_url, mention=False)
    activity.update({"type": "installationUpdate", "action": action, "text": None})
    activity["conversation"]["id"] = CHANNEL
    return activity


# -- our server, hosting the Teams adapter -------------------------------------------------------

@dataclass
class Bot:
    """`aws-quiz serve`'s aiohttp app with the Teams adapter, on 127.0.0.1 and port 0."""

    adapter: Any
    server: TestServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/api/messages"

    async def post(self, activity: dict[str, Any], token: str | None = None,
                   headers: dict[str, str] | None = None) -> int:
        """POST one activity as the Bot Framework does; the HTTP status."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, data=json.dumps(activity),
                                    headers=sent) as response:
                await response.read()
                return response.status


async def start_bot(core: Any, settings: Any, **adapter_options: Any) -> Bot:
    adapter = TeamsAdapter(core, settings, **adapter_options)
    server = TestServer(create_app(core, [adapter], scheduler_interval=None), host="127.0.0.1",
                        port=0)
    await server.start_server()
    return Bot(adapter, server)

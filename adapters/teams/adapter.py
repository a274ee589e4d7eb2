"""The Teams PlatformAdapter: POST /api/messages on the shared aiohttp server.

A request is read and checked here rather than in `CloudAdapter.process`, which answers a
missing Content-Type or a bad token with a 500: we answer 415 / 400 for bad requests, 401 for
any token problem (missing, malformed, expired, wrong audience, unknown key, bad signature) and
503 when the signing keys cannot be fetched, and nothing is sent in any of those cases. A valid
activity runs through `CloudAdapter.process_activity` with the authentication result, and the
HTTP answer is sent when the turn is done (replies are already posted by then). Invoke
activities get the SDK's invoke response.

In local mode (no app id) requests need no token, and replies go only to loopback service URLs
(the Bot Framework Emulator, test fakes): anything else gets 403, so that an unauthenticated
caller cannot make the bot post to other hosts.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.auth import AuthFailed, AuthUnavailable, TeamsAuthentication
from adapters.teams.bot import TeamsBot
from adapters.teams.connector import AiohttpConnectorFactory
from adapters.teams.http import HttpClient
from adapters.teams.outbound import TeamsOutbound
from adapters.teams.owners import OwnerDirectory
from adapters.teams.settings import TeamsSettings
from adapters.teams.tokens import CachedToken, ClientCredentials
from bot.app import Core
from bot.ports import Outbound
from bot.store.eventstore import EventStore

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
LOCAL_MODE_BANNER = (
    "Teams LOCAL MODE: MicrosoftAppId is not set, so %s accepts requests WITHOUT a Bot "
    "Framework token and replies only to loopback service URLs. Use it with the Bot Framework "
    "Emulator or tests only; set MicrosoftAppId and MicrosoftAppPassword for real Teams "
    "(docs/teams.md).")


def is_loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TeamsAdapter:
    """Microsoft Teams through the Bot Framework, hosted by our aiohttp server."""

    name = "teams"

    def __init__(self, core: Core, settings: TeamsSettings, http: HttpClient | None = None,
                 owners: OwnerDirectory | None = None) -> None:
        self.core = core
        self.settings = settings
        self.http = http or HttpClient()
        self.token = None if settings.local_mode else CachedToken(self.http, ClientCredentials(
            settings.token_url(), settings.app_id, settings.app_password,
            settings.oauth_scope_default))
        self.connectors = AiohttpConnectorFactory(self.http, self.token)
        self.auth = TeamsAuthentication(settings, self.connectors)
        self.cloud = CloudAdapter(self.auth)
        self.cloud.on_turn_error = self._on_turn_error
        if owners is None and settings.owner_check and not settings.local_mode:
            owners = OwnerDirectory(settings, self.http, self.token)
        events = EventStore(core.db) if core.db is not None else None
        self.bot = TeamsBot(core, owners, events)
        self.outbound: Outbound = TeamsOutbound(self.cloud, settings.app_id)
        if settings.local_mode:
            log.warning(LOCAL_MODE_BANNER, ROUTE)

    # -- hosting ----------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)

    async def start(self) -> None:
        await self.http.start()
        if self.settings.local_mode:
            log.warning("*" * 78)
            log.warning(LOCAL_MODE_BANNER, ROUTE)
            log.warning("*" * 78)
        else:
            log.info("Teams enabled at %s for app id %s (%s)", ROUTE, self.settings.app_id,
                     self.settings.app_type)

    async def stop(self) -> None:
        await self.http.close()

    async def ready(self) -> bool:
        return True

    # -- requests ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        if not self.settings.local_mode and not request.headers.get("Authorization"):
            log.warning("refused a Teams request without an Authorization header")
            return web.json_response({"error": "unauthorized"}, status=401)
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "expected an activity object"}, status=400)
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - msrest raises several kinds on bad shapes
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        if not activity.type:
            return web.json_response({"error": "the activity has no type"}, status=400)
        try:
            auth = await self.auth.authenticate(activity, request.headers.get("Authorization"))
        except AuthUnavailable:
            return web.json_response({"error": "cannot check tokens right now"}, status=503)
        except AuthFailed as exc:
            log.warning("refused a Teams request: %s", str(exc)[:200])
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.settings.local_mode and not is_loopback(activity.service_url):
            log.warning("local mode: refused an activity whose serviceUrl is not a loopback "
                        "address")
            return web.json_response({"error": "local mode replies only to loopback service "
                                      "URLs; set MicrosoftAppId"}, status=403)
        try:
            invoke = await self.cloud.process_activity(auth, activity, self.bot.on_turn)
        except Exception:  # noqa: BLE001 - the Bot Framework retries on 5xx
            log.exception("Teams %s activity failed", activity.type)
            return web.json_response({"error": "internal error"}, status=500)
        if invoke is not None:
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=200)

    async def _on_turn_error(self, turn: TurnContext, error: Exception) -> None:
        if turn.activity.type != ActivityTypes.message:
            raise error  # proactive posts (the scheduler) and events: the caller handles it
        log.error("Teams turn failed: %s", error, exc_info=error)
        try:
            await turn.send_activity("Sorry, something went wrong on my side. Please try again.")
        except Exception:  # noqa: BLE001
            log.warning("could not tell the user about the failure")

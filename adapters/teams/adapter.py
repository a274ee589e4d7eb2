"""The Teams PlatformAdapter: POST /api/messages on the shared aiohttp server.

A request is read and checked here rather than in the SDK's JWT middleware and
`CloudAdapter.process`, which answer unreachable signing keys with 401 and an activity that does
not validate with 500 (test_unreachable_signing_keys_give_503_not_a_pass,
test_malformed_or_unauthenticated_activities_get_4xx_and_no_traceback): we answer 415 / 400 for
bad requests, 401 for any token problem (missing, malformed, expired, wrong audience or issuer,
unknown key, bad signature, a serviceurl claim for another host) and 503 when the signing keys
cannot be fetched, and nothing is sent in any of those cases. A valid activity runs through the
SDK's `CloudAdapter.process_activity` with the token's claims, and the HTTP answer is sent when
the turn is done (replies are already posted by then). Invoke activities get the SDK's invoke
response.

In local mode (no app id) requests need no token, and replies go only to loopback service URLs
(the Bot Framework Emulator, test fakes): anything else gets 403, so that an unauthenticated
caller cannot make the bot post to other hosts.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from pydantic import ValidationError
from yarl import URL

from adapters.teams.auth import AuthFailed, AuthUnavailable, TokenCheck
from adapters.teams.bot import TeamsBot
from adapters.teams.connector import RetryPolicy, TeamsClientFactory, connection_manager
from adapters.teams.factory import is_loopback_host
from adapters.teams.outbound import TeamsOutbound
from adapters.teams.owners import OwnerDirectory
from adapters.teams.settings import TeamsSettings
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
    """True only for an http(s) URL whose parsed host is a loopback address.

    Decided on the host as the HTTP client will parse it (yarl), and only when the standard
    library's parser agrees: a backslash, user info or control characters make parsers disagree
    (`http://169.254.169.254\\@127.0.0.1` is 127.0.0.1 to one and 169.254.169.254 to another),
    so such URLs are never loopback.
    """
    if not url or any(c in url for c in "\\@") or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return False
    try:
        parsed = URL(url)
        std = urlsplit(url)
    except ValueError:
        return False
    if parsed.scheme not in ("http", "https") or parsed.user or parsed.password:
        return False
    host = (parsed.host or "").lower().rstrip(".")
    return host == (std.hostname or "").lower().rstrip(".") and is_loopback_host(host)


class _NoValidationTraceback(logging.Filter):
    """The SDK logs every activity that does not validate as an ERROR with a traceback, so any
    caller could fill the log; we refuse it with 400 and one line instead
    (test_malformed_or_unauthenticated_activities_get_4xx_and_no_traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Validation error for Activity")


logging.getLogger("microsoft_agents.activity.activity").addFilter(_NoValidationTraceback())


def same_host(claimed: str | None, service_url: str | None) -> bool:
    """A token's serviceurl claim (when it has one) names the host the activity replies to.

    The SDK compares them too but refuses a mismatch only with its outbound host validator on,
    which also refuses every loopback connector (test_bad_tokens_get_401_and_nothing_is_sent
    [other service url]).
    """
    if not claimed:
        return True
    try:
        return (URL(claimed).host or "").casefold() == (URL(service_url or "").host or "").casefold()
    except ValueError:
        return False


class _Refused(Exception):
    def __init__(self, status: int, reason: str, answer: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.answer = status, reason, answer


class TeamsAdapter:
    """Microsoft Teams through the Microsoft 365 Agents SDK, hosted by our aiohttp server."""

    name = "teams"

    def __init__(self, core: Core, settings: TeamsSettings, retry: RetryPolicy | None = None,
                 owners: OwnerDirectory | None = None) -> None:
        self.core = core
        self.settings = settings
        self.auth = TokenCheck(settings)
        self.connections = None if settings.local_mode else connection_manager(
            self.auth.configuration)
        self.cloud = CloudAdapter(channel_service_client_factory=TeamsClientFactory(
            self.connections, retry or RetryPolicy()))
        self.cloud.on_turn_error = self._on_turn_error
        if owners is None and settings.owner_check and not settings.local_mode:
            owners = OwnerDirectory(settings)
        events = EventStore(core.db) if core.db is not None else None
        self.bot = TeamsBot(core, owners, events)
        self.outbound: Outbound = TeamsOutbound(self.cloud, settings.app_id)
        if settings.local_mode:
            log.warning(LOCAL_MODE_BANNER, ROUTE)

    # -- hosting ----------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)

    async def start(self) -> None:
        if not self.settings.local_mode:  # local mode said so loudly when it was built
            log.info("Teams enabled at %s for app id %s (%s)", ROUTE, self.settings.app_id,
                     self.settings.app_type)

    async def stop(self) -> None:
        return None

    async def ready(self) -> bool:
        return True

    # -- requests ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        try:
            claims, activity = await self._admit(request)
        except _Refused as refused:
            log.warning("teams: refused a request from %s: %s (%d)", request.remote or "?",
                        refused.reason.replace("\n", " "), refused.status)
            return web.json_response({"error": refused.answer}, status=refused.status)
        try:
            invoke = await self.cloud.process_activity(claims, activity, self.bot.on_turn)
        except Exception:  # noqa: BLE001 - the Bot Framework retries on 5xx
            log.exception("Teams %s activity failed", activity.type)
            return web.json_response({"error": "internal error"}, status=500)
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    async def _admit(self, request: web.Request) -> tuple[ClaimsIdentity, Activity]:
        """Check a request before the SDK sees it: the token, the body, the activity's shape."""
        if not self.settings.local_mode and not request.headers.get("Authorization"):
            raise _Refused(401, "no Authorization header", "unauthorized")
        if request.content_type != "application/json":
            raise _Refused(415, "not application/json", "expected application/json")
        try:
            body = json.loads((await request.read()).decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise _Refused(400, "body is not JSON", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "body is not an object", "expected an activity object")
        if not body.get("type") or not isinstance(body.get("type"), str):
            raise _Refused(400, "activity without a type", "the activity has no type")
        try:
            activity = Activity.model_validate(body)
        except (ValidationError, ValueError, TypeError):
            raise _Refused(400, "not an activity", "not a Bot Framework activity") from None
        try:
            claims = await self.auth.claims(request.headers.get("Authorization"))
        except AuthUnavailable:
            raise _Refused(503, "signing keys unavailable", "cannot check tokens right now"
                           ) from None
        except AuthFailed as exc:
            raise _Refused(401, str(exc)[:120], "unauthorized") from None
        if not same_host(claims.get_claim_value("serviceurl"), activity.service_url):
            raise _Refused(401, "serviceurl claim names another host", "unauthorized")
        if self.settings.local_mode and not is_loopback(activity.service_url):
            raise _Refused(403, "local mode: serviceUrl is not a loopback address",
                           "local mode replies only to loopback service URLs; set "
                           "MicrosoftAppId")
        if not (activity.conversation and activity.conversation.id and activity.service_url):
            raise _Refused(400, "activity without a conversation or serviceUrl",
                           "the activity has no conversation or serviceUrl")
        return claims, activity

    async def _on_turn_error(self, turn: TurnContext, error: Exception) -> None:
        if turn.activity.type != ActivityTypes.message:
            raise error  # proactive posts (the scheduler) and events: the caller handles it
        log.error("Teams turn failed: %s", error, exc_info=error)
        try:
            await turn.send_activity("Sorry, something went wrong on my side. Please try again.")
        except Exception:  # noqa: BLE001
            log.warning("could not tell the user about the failure")

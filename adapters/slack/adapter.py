"""slack-bolt listeners that turn Slack payloads into core messages and replies into Block Kit.

Every listener acknowledges first (Slack wants an answer within 3 seconds) and then works;
bolt runs the rest after the acknowledgement. Before anything is acknowledged, a middleware
records it as a work item in the database (`WorkStore`): a command, a button press or a DM
message that this replica cannot finish (it dies, or is stopped) is finished by another one.
The work runs as in-flight work that shutdown waits for. Slash commands answer through
`respond` (ephemeral unless the reply is public), button presses replace the message they came
from when the reply says so, DM messages are handled once per message (channel and ts), and App
Home shows the learner's dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.lifecycle import InFlight
from adapters.slack.gate import Refused, check_signature, parse, refuse_line
from adapters.slack.outbound import ChannelPacer, SlackOutbound
from adapters.slack.render import blocks, home_view, plain, route_of
from bot.app import Core
from bot.home import dashboard
from bot.model import Action, Context, ConversationRef, Message, Reply
from bot.ports import Outbound
from bot.store.database import utcnow
from bot.store.eventstore import EventStore
from bot.store.retention import record_removal
from bot.store.workstore import WorkItem, WorkStore

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 300
REMEMBER_SECONDS = 600  # a channel's reference is written again at most this often


class ResponseUrlError(Exception):
    """Slack did not take an answer at its response_url now (5xx, 429, no connection)."""


class Responder:
    """`respond` for one response_url, through the adapter's shared connection pool (Bolt's
    own `respond` opens a new HTTP session for every answer). A 5xx or 429 raises, so the
    work item is tried again; a 4xx (the URL expired or was used up) is logged and dropped."""

    def __init__(self, url: str, session: aiohttp.ClientSession | None) -> None:
        self.url = url
        self.session = session

    async def __call__(self, **message: Any) -> None:
        client = AsyncWebhookClient(self.url, session=self.session, retry_handlers=[])
        try:
            response = await client.send(**message)
        except aiohttp.ClientError as exc:
            raise ResponseUrlError(type(exc).__name__) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ResponseUrlError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            log.warning("slack: response_url refused an answer (HTTP %d)", response.status_code)


class SlackAdapter:
    """One Slack app (single workspace or OAuth-installed into many) hosted by our server."""

    name = "slack"

    def __init__(self, core: Core, bolt: AsyncApp, events: EventStore,
                 installation_store: AsyncInstallationStore | None = None,
                 bot_token: str | None = None, app_token: str | None = None,
                 http_enabled: bool = True, pacer: ChannelPacer | None = None,
                 signing_secret: str | None = None, work: WorkStore | None = None) -> None:
        self.core = core
        self.signing_secret = signing_secret
        self.work = work
        self.inflight = InFlight()  # the server hands every adapter the process's own
        self.bolt = bolt
        self.events = events
        self.installation_store = installation_store
        self.bot_token = bot_token
        self.app_token = app_token
        self.http_enabled = http_enabled
        self.pacer = pacer or ChannelPacer()
        self.outbound: Outbound = SlackOutbound(bolt.client, self._token_for, self.pacer)
        self._profiles: dict[tuple[str, str], tuple[float, bool, str]] = {}
        self._remembered: dict[tuple[str, str], float] = {}
        self._socket: Any = None
        self._http: aiohttp.ClientSession | None = None
        self._register()

    # -- hosting ----------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        if self.http_enabled:
            app.router.add_post("/slack/events", self._handle_http)
        if self.bolt.oauth_flow is not None:
            app.router.add_get("/slack/install", self._handle_install)
            app.router.add_get("/slack/oauth_redirect", self._handle_oauth_redirect)

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        if self.app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.bolt, self.app_token)
            await self._socket.connect_async()
            log.info("Slack Socket Mode connected")

    async def stop_receiving(self) -> None:
        """Shutting down: take no more Socket Mode envelopes (work in flight goes on)."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    async def stop(self) -> None:
        await self.stop_receiving()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _responder(self, body: dict[str, Any]) -> Responder | None:
        url = body.get("response_url")
        return Responder(url, self._http) if url else None

    async def ready(self) -> bool:
        return True

    async def _handle_http(self, request: web.Request) -> web.Response:
        """Signature first, on the raw bytes; then a body Bolt can read; then Bolt."""
        try:
            body = await request.read()
            if self.signing_secret is not None:
                check_signature(self.signing_secret, body, request.headers)
            text, _ = parse(body, request.content_type)
        except Refused as refused:
            refuse_line(request.remote, refused)
            return web.json_response({"error": refused.reason}, status=refused.status)
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string,
                                        headers=request.headers)  # type: ignore[arg-type]
        try:
            response = await self.bolt.async_dispatch(bolt_request)
        except Exception as exc:  # noqa: BLE001 - a signed body Bolt cannot handle is malformed
            refuse_line(request.remote, Refused(400, f"unreadable payload ({type(exc).__name__})"))
            return web.json_response({"error": "unreadable payload"}, status=400)
        return await to_aiohttp_response(response)

    async def _handle_install(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request)))

    async def _handle_oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(
            await flow.handle_callback(await to_bolt_request(request)))

    async def _token_for(self, team: str) -> str | None:
        if self.installation_store is None:
            return self.bot_token
        bot = await self.installation_store.async_find_bot(enterprise_id=None, team_id=team)
        return bot.bot_token if bot is not None else None

    # -- listeners --------------------------------------------------------------------------

    def _register(self) -> None:
        self.bolt.middleware(self._record_work)
        self.bolt.command(re.compile(r"^/"))(self._on_command)
        self.bolt.action(re.compile(r".+"))(self._on_action)
        self.bolt.event("message")(self._on_message)
        self.bolt.event("app_home_opened")(self._on_home)
        self.bolt.event("app_uninstalled")(self._on_uninstalled)
        self.bolt.event("tokens_revoked")(self._on_tokens_revoked)

    # -- acknowledged work ------------------------------------------------------------------

    @staticmethod
    def _work_of(body: dict[str, Any], bot_user: str | None) -> tuple[str, str | None] | None:
        """(kind, key) of a request that asks us for work; None for everything else."""
        if body.get("command"):
            return "slack.command", None
        if body.get("type") == "block_actions":
            return "slack.action", None
        event = body.get("event") or {}
        if body.get("type") == "event_callback" and event.get("type") == "message" \
                and _is_dm_for_us(event, bot_user):
            return "slack.message", f"slack:msg:{event.get('channel')}:{event.get('ts')}"
        return None

    async def _record_work(self, body: dict[str, Any], context: Any,
                           next_: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        """Write the request down as a work item before it is acknowledged."""
        kind = self._work_of(body, context.get("bot_user_id"))
        if kind is None or self.work is None:
            return await next_()
        item = await self.work.record(kind[0], _team_of(body), body, key=kind[1])
        if item is None:
            return BoltResponse(status=200, body="")  # the same message delivered again
        context["work_item"] = item
        self.inflight.reserve(item.id)  # renewed and drained like running work from now on
        return await next_()

    async def _run_work(self, item: WorkItem | None, run: Callable[[], Awaitable[None]],
                        respond: Any | None) -> None:
        """Do one acknowledged item as in-flight work; done, retried later, or failed."""
        with self.inflight.track(item.id if item else None):
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the user hears about it; others go on
                if isinstance(exc, ResponseUrlError | SlackApiError | aiohttp.ClientError):
                    log.warning("slack: %s could not be answered now (%s); it is tried again",
                                item.kind if item else "a request", str(exc)[:100])
                else:
                    log.exception("slack: %s failed", item.kind if item else "a request")
                again = False
                if item is not None and self.work is not None:
                    again = await self.work.retry_later(item.id, item.attempts,
                                                        f"{type(exc).__name__}: {exc}")
                if not again and respond is not None:
                    try:
                        await respond(response_type="ephemeral", replace_original=False,
                                      text="Sorry, something went wrong on my side. Please "
                                           "try again.")
                    except Exception:  # noqa: BLE001
                        log.warning("slack: could not tell the user about the failure")
                return
            if item is not None and self.work is not None:
                await self.work.done(item.id)

    async def replay(self, item: WorkItem) -> None:
        """Finish an item another replica acknowledged but could not finish."""
        body = item.payload
        token = await self._token_for(item.tenant)
        base = self.bolt.client
        client = AsyncWebClient(token=token, base_url=base.base_url,
                                retry_handlers=base.retry_handlers)
        respond = self._responder(body)
        if item.kind == "slack.command":
            run = partial(self._command, body, client, respond)
        elif item.kind == "slack.action":
            from_home = (body.get("container") or {}).get("type") == "view"
            run = partial(self._action, body, client, None if from_home else respond)
        elif item.kind == "slack.message":
            run = partial(self._message, body, client)
        else:
            log.warning("slack: cannot replay work of kind %s", item.kind)
            return
        log.info("slack: finishing %s %s acknowledged by another replica", item.kind, item.id)
        await self._run_work(item, run, respond)

    async def _profile(self, client: AsyncWebClient, team: str, user: str,
                       fallback_name: str) -> tuple[bool, str]:
        """(is admin or owner, display name), cached for a few minutes."""
        key = (team, user)
        cached = self._profiles.get(key)
        if cached is not None and time.monotonic() - cached[0] < ADMIN_CACHE_SECONDS:
            return cached[1], cached[2]
        try:
            info = (await client.users_info(user=user))["user"]
            admin = bool(info.get("is_admin") or info.get("is_owner")
                         or info.get("is_primary_owner"))
            profile = info.get("profile") or {}
            name = (profile.get("display_name") or profile.get("real_name")
                    or info.get("real_name") or info.get("name") or fallback_name)
        except Exception:  # noqa: BLE001 - no admin rights when Slack cannot tell us
            log.warning("users.info failed for a user; treating them as a non-admin")
            admin, name = False, fallback_name
        self._profiles[key] = (time.monotonic(), admin, name)
        return admin, name

    async def _context(self, client: AsyncWebClient, team: str, user: str, user_name: str,
                       channel: str, direct: bool, thread: str | None = None) -> Context:
        admin, name = await self._profile(client, team, user, user_name)
        extra_admin = user in self.core.settings.admins
        return Context(platform="slack", tenant=team, user=user, user_name=name,
                       channel=channel, thread=thread, direct=direct,
                       is_admin=admin or extra_admin)

    async def _remember(self, ctx: Context) -> None:
        """Save the channel's reference (for the daily question); at most every 10 minutes
        per channel from this process, since it does not change."""
        if ctx.direct or not ctx.channel:
            return
        key = (ctx.tenant, ctx.channel)
        now = time.monotonic()
        if now - self._remembered.get(key, -REMEMBER_SECONDS) < REMEMBER_SECONDS:
            return
        await self.core.remember(ConversationRef("slack", ctx.tenant, ctx.channel,
                                                 {"team_id": ctx.tenant}))
        if len(self._remembered) > 50_000:
            self._remembered.clear()
        self._remembered[key] = now

    async def _on_command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient,
                          context: Any) -> None:
        await ack()
        respond = self._responder(body)
        await self._run_work(context.get("work_item"),
                             partial(self._command, body, client, respond), respond)

    async def _command(self, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        channel = body.get("channel_id", "")
        direct = channel.startswith("D") or body.get("channel_name") == "directmessage"
        ctx = await self._context(client, body.get("team_id", ""), body.get("user_id", ""),
                                  body.get("user_name", ""), channel, direct)
        await self._remember(ctx)
        replies = await self.core.router.handle(Message(ctx, body.get("text", "")))
        await self._deliver(replies, ctx, client, respond)

    async def _on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient,
                         context: Any) -> None:
        await ack()
        respond = self._responder(body)
        from_home = (body.get("container") or {}).get("type") == "view"
        await self._run_work(context.get("work_item"),
                             partial(self._action, body, client, None if from_home else respond),
                             None if from_home else respond)

    async def _action(self, body: dict[str, Any], client: AsyncWebClient,
                      respond: Any | None) -> None:
        action = (body.get("actions") or [{}])[0]
        team = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id", "")
        user = body.get("user", {})
        channel = (body.get("channel") or {}).get("id", "")
        direct = channel.startswith("D")
        ctx = await self._context(client, team, user.get("id", ""),
                                  user.get("username") or user.get("name", ""), channel, direct)
        replies = await self.core.router.handle_action(
            Action(ctx, route_of(action.get("action_id", "")), action.get("value", "")))
        await self._deliver(replies, ctx, client, respond)

    async def _on_message(self, body: dict[str, Any], client: AsyncWebClient,
                          context: Any) -> None:
        event = body.get("event", {})
        if not _is_dm_for_us(event, context.get("bot_user_id")):
            return  # edits, deletions, bot messages and channel chatter are not for us
        item = context.get("work_item")
        if item is None and self.work is None:
            keys = [f"slack:msg:{event.get('channel')}:{event.get('ts')}"]
            if body.get("event_id"):
                keys.append(f"slack:event:{body['event_id']}")
            if not await self.events.claim(*keys):
                return  # a retried or duplicated delivery
        await self._run_work(item, partial(self._message, body, client), None)

    async def _message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        event = body.get("event", {})
        team = body.get("team_id") or event.get("team", "")
        ctx = await self._context(client, team, event["user"], "", event.get("channel", ""),
                                  direct=True)
        replies = await self.core.router.handle(Message(ctx, event.get("text", "")))
        await self._deliver(replies, ctx, client, None)

    async def _on_home(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        event = body.get("event", {})
        if event.get("tab") not in (None, "home"):
            return
        team = body.get("team_id", "")
        with self.inflight.track():
            ctx = await self._context(client, team, event.get("user", ""), "", "", direct=True)
            replies = await dashboard(self.core.router, ctx)
            await client.views_publish(user_id=ctx.user, view=home_view(replies))

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        await self._forget_team(body.get("team_id", ""), body.get("enterprise_id"))

    async def _on_tokens_revoked(self, body: dict[str, Any]) -> None:
        tokens = body.get("event", {}).get("tokens", {})
        if tokens.get("bot"):
            await self._forget_team(body.get("team_id", ""), body.get("enterprise_id"))

    async def _forget_team(self, team: str, enterprise: str | None) -> None:
        """The app was uninstalled (or its bot token revoked): drop the installation and the
        schedules now, and the workspace's user data once the retention period has passed
        (bot/store/retention.py; using the app there again before then cancels it)."""
        if self.installation_store is not None:
            await self.installation_store.async_delete_all(enterprise_id=enterprise, team_id=team)
        if self.core.daily is not None:
            await self.core.daily.store.disable_tenant("slack", team)
        if self.core.refs is not None:
            await self.core.refs.forget("slack", team)
        if self.core.db is not None and team:
            await record_removal(self.core.db, "slack", team, utcnow())
        log.info("Slack workspace %s uninstalled the app: installation and schedules removed; "
                 "its user data goes after the retention period", team)

    # -- replies ----------------------------------------------------------------------------

    async def _deliver(self, replies: list[Reply], ctx: Context, client: AsyncWebClient,
                       respond: Any | None) -> None:
        """Send each reply the way its flags ask, on the surface the request came from."""
        dm_channel = ctx.channel if ctx.direct and ctx.channel else None
        told_about_dm = False
        for reply in replies:
            payload: dict[str, Any] = {"text": plain(reply.text), "blocks": blocks(reply)}
            if respond is not None and not (reply.dm and not ctx.direct):
                if reply.replace:
                    await respond(replace_original=True, **payload)
                else:
                    kind = "ephemeral" if reply.private else "in_channel"
                    await respond(response_type=kind, replace_original=False, **payload)
                continue
            if dm_channel is None:
                opened = await client.conversations_open(users=ctx.user)
                dm_channel = str(opened["channel"]["id"])
            if respond is not None and not told_about_dm:
                told_about_dm = True
                await respond(response_type="ephemeral", replace_original=False,
                              text="I've sent you a direct message: let's continue there.")
            await self.pacer.wait(dm_channel)
            await client.chat_postMessage(channel=dm_channel, unfurl_links=False, **payload)


def _is_dm_for_us(event: dict[str, Any], bot_user: str | None) -> bool:
    """A person's new message in a DM with the bot (not an edit, a bot or the bot itself)."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return False
    return event.get("user") not in (None, bot_user)


def _team_of(body: dict[str, Any]) -> str:
    team = body.get("team_id") or body.get("team") or (body.get("user") or {}).get("team_id")
    if isinstance(team, dict):
        team = team.get("id")
    return str(team or "")

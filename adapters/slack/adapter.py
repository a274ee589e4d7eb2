"""slack-bolt listeners that turn Slack payloads into core messages and replies into Block Kit.

Every listener acknowledges first (Slack wants an answer within 3 seconds) and then works;
bolt runs the rest after the acknowledgement. Slash commands answer through `respond`
(ephemeral unless the reply is public), button presses replace the message they came from
when the reply says so, DM messages are claimed once by event id and message ts, and App Home
shows the learner's dashboard.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.outbound import ChannelPacer, SlackOutbound
from adapters.slack.render import blocks, home_view, plain, route_of
from bot.app import Core
from bot.home import dashboard
from bot.model import Action, Context, ConversationRef, Message, Reply
from bot.ports import Outbound
from bot.store.eventstore import EventStore

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 300


class SlackAdapter:
    """One Slack app (single workspace or OAuth-installed into many) hosted by our server."""

    name = "slack"

    def __init__(self, core: Core, bolt: AsyncApp, events: EventStore,
                 installation_store: AsyncInstallationStore | None = None,
                 bot_token: str | None = None, app_token: str | None = None,
                 http_enabled: bool = True, pacer: ChannelPacer | None = None) -> None:
        self.core = core
        self.bolt = bolt
        self.events = events
        self.installation_store = installation_store
        self.bot_token = bot_token
        self.app_token = app_token
        self.http_enabled = http_enabled
        self.pacer = pacer or ChannelPacer()
        self.outbound: Outbound = SlackOutbound(bolt.client, self._token_for, self.pacer)
        self._profiles: dict[tuple[str, str], tuple[float, bool, str]] = {}
        self._socket: Any = None
        self._register()

    # -- hosting ----------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        if self.http_enabled:
            app.router.add_post("/slack/events", self._handle_http)
        if self.bolt.oauth_flow is not None:
            app.router.add_get("/slack/install", self._handle_install)
            app.router.add_get("/slack/oauth_redirect", self._handle_oauth_redirect)

    async def start(self) -> None:
        if self.app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.bolt, self.app_token)
            await self._socket.connect_async()
            log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()

    async def ready(self) -> bool:
        return True

    async def _handle_http(self, request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

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
        self.bolt.command(re.compile(r"^/"))(self._on_command)
        self.bolt.action(re.compile(r".+"))(self._on_action)
        self.bolt.event("message")(self._on_message)
        self.bolt.event("app_home_opened")(self._on_home)
        self.bolt.event("app_uninstalled")(self._on_uninstalled)
        self.bolt.event("tokens_revoked")(self._on_tokens_revoked)

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
        if not ctx.direct and ctx.channel:
            await self.core.remember(ConversationRef("slack", ctx.tenant, ctx.channel,
                                                     {"team_id": ctx.tenant}))

    async def _on_command(self, ack: Any, body: dict[str, Any], respond: Any,
                          client: AsyncWebClient) -> None:
        await ack()
        channel = body.get("channel_id", "")
        direct = channel.startswith("D") or body.get("channel_name") == "directmessage"
        ctx = await self._context(client, body.get("team_id", ""), body.get("user_id", ""),
                                  body.get("user_name", ""), channel, direct)
        await self._remember(ctx)
        replies = await self.core.router.handle(Message(ctx, body.get("text", "")))
        await self._deliver(replies, ctx, client, respond)

    async def _on_action(self, ack: Any, body: dict[str, Any], respond: Any,
                         client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        team = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id", "")
        user = body.get("user", {})
        channel = (body.get("channel") or {}).get("id", "")
        direct = channel.startswith("D")
        ctx = await self._context(client, team, user.get("id", ""),
                                  user.get("username") or user.get("name", ""), channel, direct)
        replies = await self.core.router.handle_action(
            Action(ctx, route_of(action.get("action_id", "")), action.get("value", "")))
        from_home = (body.get("container") or {}).get("type") == "view"
        await self._deliver(replies, ctx, client, None if from_home else respond)

    async def _on_message(self, body: dict[str, Any], client: AsyncWebClient,
                          context: Any) -> None:
        event = body.get("event", {})
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, deletions, bot messages and channel chatter are not for us
        if event.get("user") in (None, context.get("bot_user_id")):
            return
        keys = [f"slack:msg:{event.get('channel')}:{event.get('ts')}"]
        if body.get("event_id"):
            keys.append(f"slack:event:{body['event_id']}")
        if not await self.events.claim(*keys):
            return  # a retried or duplicated delivery
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
        if self.installation_store is not None:
            await self.installation_store.async_delete_all(enterprise_id=enterprise, team_id=team)
        if self.core.daily is not None:
            await self.core.daily.store.disable_tenant("slack", team)
        if self.core.refs is not None:
            await self.core.refs.forget("slack", team)
        log.info("Slack workspace %s uninstalled the app: installation and schedules removed",
                 team)

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

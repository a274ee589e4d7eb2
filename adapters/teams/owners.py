"""Who owns a team, from Microsoft Graph, so that team owners can run `daily on`.

The Bot Framework tells a bot nothing about roles in a team. The app's manifest asks for the
resource-specific consent permission `TeamMember.Read.Group`, which the team owner grants when
they add the app to the team; with it the bot may read that team's members and their roles with
an app-only Graph token for the team's tenant:

    GET {graph}/v1.0/teams/{aadGroupId}/members?$filter=roles/any(r:r eq 'owner')

The team's Entra group id comes from channelData.team.aadGroupId, or else from the connector
(the SDK's `fetch_team_details`: `GET {serviceUrl}/v3/teams/{teamId}`). Graph tokens come from
the SDK's MSAL provider, one per tenant, each with its own token cache. Owners are cached per
team for ten minutes. When Graph says no (consent not granted, no network), nobody is treated
as an owner and a warning is logged; AWS_QUIZ_ADMINS still works. Only channel messages are
checked: group chats and personal chats have no owners.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import quote

import aiohttp
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from adapters.teams.connector import TeamsMsalAuth
from adapters.teams.inbound import CHANNEL, conversation_type, team_of, tenant_of
from adapters.teams.settings import TeamsSettings

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0
OWNER_FILTER = "roles/any(r:r eq 'owner')"


class OwnerDirectory:
    """`is_owner(turn)`: does the sender own the team this channel message is in?"""

    def __init__(self, settings: TeamsSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._graph_tokens: dict[str, TeamsMsalAuth] = {}
        self._groups: dict[str, str] = {}
        self._owners: dict[str, tuple[float, frozenset[str]]] = {}

    async def is_owner(self, turn: TurnContext) -> bool:
        activity = turn.activity
        if conversation_type(activity) != CHANNEL or activity.from_property is None:
            return False
        user = activity.from_property.aad_object_id
        tenant = tenant_of(activity)
        team = team_of(activity)
        if not user or not tenant or not team.get("id"):
            return False
        group = team.get("aadGroupId") or await self._group_id(turn, str(team["id"]))
        if not group:
            return False
        return user in await self._team_owners(tenant, str(group))

    async def _group_id(self, turn: TurnContext, team_id: str) -> str | None:
        if team_id in self._groups:
            return self._groups[team_id]
        client = turn.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if not isinstance(client, TeamsConnectorClient):
            return None
        try:
            details = await client.fetch_team_details(team_id)
        except Exception:  # noqa: BLE001
            log.warning("could not read the team's details from the connector", exc_info=True)
            return None
        group = details.aad_group_id
        if group:
            self._groups[team_id] = str(group)
        return str(group) if group else None

    async def _graph_token(self, tenant: str) -> str:
        tokens = self._graph_tokens.get(tenant)
        if tokens is None:
            tokens = TeamsMsalAuth(self.settings.agent_auth_configuration(tenant))
            self._graph_tokens[tenant] = tokens
        graph = self.settings.graph_url
        return await tokens.get_access_token(graph, [f"{graph}/.default"])

    async def _team_owners(self, tenant: str, group: str) -> frozenset[str]:
        cached = self._owners.get(group)
        if cached is not None and self.clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        owners: set[str] = set()
        url: str | None = (f"{self.settings.graph_url}/v1.0/teams/{quote(group, safe='')}/members"
                           f"?$filter={quote(OWNER_FILTER)}")
        try:
            headers = {"Authorization": f"Bearer {await self._graph_token(tenant)}"}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
                while url:
                    async with session.get(url, headers=headers) as answer:
                        page = await answer.json(content_type=None) if answer.ok else None
                        status = answer.status
                    if not isinstance(page, dict):
                        log.warning("Microsoft Graph answered %d for the owners of team %s; was "
                                    "the TeamMember.Read.Group consent granted? Only "
                                    "AWS_QUIZ_ADMINS count as admins there.", status, group)
                        break
                    for member in page.get("value") or []:
                        if isinstance(member, dict) and "owner" in (member.get("roles") or []) \
                                and member.get("userId"):
                            owners.add(str(member["userId"]))
                    next_link = page.get("@odata.nextLink")
                    url = str(next_link) if next_link else None
        except Exception:  # noqa: BLE001 - no owner rights when Graph cannot tell us
            log.warning("could not ask Microsoft Graph for the owners of team %s", group,
                        exc_info=True)
        result = frozenset(owners)
        self._owners[group] = (self.clock(), result)
        return result

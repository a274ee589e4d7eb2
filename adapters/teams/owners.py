"""Who owns a team, from Microsoft Graph, so that team owners can run `daily on`.

The Bot Framework tells a bot nothing about roles in a team. The app's manifest asks for the
resource-specific consent permission `TeamMember.Read.Group`, which the team owner grants when
they add the app to the team; with it the bot may read that team's members and their roles with
an app-only Graph token for the team's tenant:

    GET {graph}/v1.0/teams/{aadGroupId}/members?$filter=roles/any(r:r eq 'owner')

The team's Entra group id comes from channelData.team.aadGroupId, or else from the connector
(`GET {serviceUrl}/v3/teams/{teamId}`). Owners are cached per team for ten minutes. When Graph
says no (consent not granted, no network), nobody is treated as an owner and a warning is
logged; AWS_QUIZ_ADMINS still works. Only channel messages are checked: group chats and personal
chats have no owners.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import quote

from botbuilder.schema import Activity

from adapters.teams.http import HttpClient
from adapters.teams.inbound import CHANNEL, conversation_type, team_of, tenant_of
from adapters.teams.settings import TeamsSettings
from adapters.teams.tokens import CachedToken, ClientCredentials, TokenSource

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0
OWNER_FILTER = "roles/any(r:r eq 'owner')"


class OwnerDirectory:
    """`is_owner(activity)`: does the sender own the team this channel message is in?"""

    def __init__(self, settings: TeamsSettings, http: HttpClient,
                 connector_token: TokenSource | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.http = http
        self.connector_token = connector_token
        self.clock = clock
        self._graph_tokens: dict[str, CachedToken] = {}
        self._groups: dict[str, str] = {}
        self._owners: dict[str, tuple[float, frozenset[str]]] = {}

    async def is_owner(self, activity: Activity) -> bool:
        if conversation_type(activity) != CHANNEL or activity.from_property is None:
            return False
        user = activity.from_property.aad_object_id
        tenant = tenant_of(activity)
        team = team_of(activity)
        if not user or not tenant or not team.get("id"):
            return False
        group = team.get("aadGroupId") or await self._group_id(activity.service_url or "",
                                                               str(team["id"]))
        if not group:
            return False
        return user in await self._team_owners(tenant, str(group))

    async def _group_id(self, service_url: str, team_id: str) -> str | None:
        if team_id in self._groups:
            return self._groups[team_id]
        url = f"{service_url.rstrip('/')}/v3/teams/{quote(team_id, safe='')}"
        try:
            answer = await self.http.request("GET", url, token=self.connector_token)
        except Exception:  # noqa: BLE001
            log.warning("could not read the team's details from the connector", exc_info=True)
            return None
        details = answer.json_or_none()
        group = details.get("aadGroupId") if answer.status == 200 and isinstance(details, dict) \
            else None
        if group:
            self._groups[team_id] = str(group)
        return str(group) if group else None

    def _graph_token(self, tenant: str) -> CachedToken:
        token = self._graph_tokens.get(tenant)
        if token is None:
            token = CachedToken(self.http, ClientCredentials(
                self.settings.token_url(tenant), self.settings.app_id,
                self.settings.app_password, f"{self.settings.graph_url}/.default"))
            self._graph_tokens[tenant] = token
        return token

    async def _team_owners(self, tenant: str, group: str) -> frozenset[str]:
        cached = self._owners.get(group)
        if cached is not None and self.clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        owners: set[str] = set()
        url: str | None = (f"{self.settings.graph_url}/v1.0/teams/{quote(group, safe='')}/members"
                           f"?$filter={quote(OWNER_FILTER)}")
        try:
            while url:
                answer = await self.http.request("GET", url, token=self._graph_token(tenant))
                page = answer.json_or_none()
                if answer.status != 200 or not isinstance(page, dict):
                    log.warning("Microsoft Graph answered %d for the owners of team %s; was the "
                                "TeamMember.Read.Group consent granted? Only AWS_QUIZ_ADMINS "
                                "count as admins there.", answer.status, group)
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

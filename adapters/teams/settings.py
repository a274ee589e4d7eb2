"""What the environment asks of the Teams adapter, checked once at start-up, and its SDK form.

Teams is hosted when `MicrosoftAppId` is set, and then every request must carry a valid Bot
Framework token. Without an app id Teams is off, unless *local mode* is asked for explicitly with
`TEAMS_LOCAL=true` (or `aws-quiz serve --teams-local`): no token checks, replies only to loopback
service URLs (tests, the Bot Framework Emulator), a loud warning at start, and `serve` refuses it
unless it listens on a loopback address. `AWS_QUIZ_ENV=production` refuses local mode, and
`TEAMS_ENABLED=false` switches Teams off whatever else is set.

The Bot Framework names (`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppTenantId`,
`MicrosoftAppType`) are read, and so are the Agents SDK's own names for the same settings
(`CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID`, `...CLIENTSECRET`, `...TENANTID`,
`...AUTHTYPE`, `...AUTHORITY`); `agent_auth_configuration()` is what the SDK is configured with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from microsoft_agents.hosting.core import AgentAuthConfiguration, AuthTypes

PUBLIC_LOGIN_URL = "https://login.microsoftonline.com"
PUBLIC_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_CHANNEL_TENANT = "botframework.com"  # where multi-tenant bots get their tokens
SDK_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
RETIRED = {  # Bot Framework SDK overrides the Agents SDK has no use for
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "TEAMS_SIGNING_KEYS_URL",
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": "TEAMS_SIGNING_KEYS_URL",
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "nothing (the SDK knows the Bot Framework's issuers)",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "nothing (the SDK picks the scope per cloud)",
}

_TRUE = {"1", "true", "yes", "on", "local"}
_FALSE = {"0", "false", "no", "off"}


class TeamsConfigError(ValueError):
    """The environment asks for an unsafe or incomplete Teams set-up; the message says why."""


@dataclass(frozen=True)
class TeamsSettings:
    """Everything the Teams adapter is configured with. The password is never printed."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_tenant_id: str = ""
    app_type: str = "MultiTenant"
    login_url: str = ""  # the token authority, e.g. https://login.microsoftonline.com/botframework.com
    signing_keys_url: str = ""  # the JWKS of Bot Framework tokens; "" = the SDK's (public cloud)
    graph_url: str = PUBLIC_GRAPH_URL
    owner_check: bool = True

    @property
    def local_mode(self) -> bool:
        """No app id: requests are not authenticated and replies carry no token."""
        return not self.app_id

    @property
    def tenant(self) -> str:
        """The tenant the bot's own tokens come from."""
        single = self.app_type.lower() == "singletenant"
        return (self.app_tenant_id if single else "") or DEFAULT_CHANNEL_TENANT

    @property
    def authority(self) -> str:
        """Where the bot gets its Bot Framework tokens (tenant included)."""
        return self.login_url.rstrip("/") if self.login_url else f"{PUBLIC_LOGIN_URL}/{self.tenant}"

    @property
    def login_host(self) -> str:
        """The authority without its tenant, for per-tenant tokens (Microsoft Graph)."""
        parts = urlsplit(self.authority)
        return f"{parts.scheme}://{parts.netloc}"

    def agent_auth_configuration(self, tenant: str | None = None) -> AgentAuthConfiguration:
        """The SDK's configuration of our app registration (for `tenant`: Graph tokens there)."""
        authority = self.authority if tenant is None else f"{self.login_host}/{tenant}"
        return AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret, client_id=self.app_id or None,
            client_secret=self.app_password or None, tenant_id=tenant or self.tenant,
            authority=authority, anonymous_allowed=self.local_mode, validate_issuer=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings | None:
        """None when Teams is not asked for; TeamsConfigError when the set-up is unsafe."""
        enabled = (env.get("TEAMS_ENABLED") or "").strip().lower()
        if enabled in _FALSE:
            return None
        if enabled and enabled not in _TRUE:
            raise TeamsConfigError(f"TEAMS_ENABLED must be true or false, not {enabled!r}.")
        local = (env.get("TEAMS_LOCAL") or "").strip().lower()
        if local and local not in _TRUE | _FALSE:
            raise TeamsConfigError(f"TEAMS_LOCAL must be true or false, not {local!r}.")
        for name, instead in RETIRED.items():
            if env.get(name):
                raise TeamsConfigError(f"{name} is no longer read (the Teams adapter runs on the "
                                       f"Microsoft 365 Agents SDK): use {instead}.")
        wants_local = local in _TRUE

        def read(bf_name: str, sdk_name: str) -> str:
            return (env.get(bf_name) or env.get(SDK_PREFIX + sdk_name) or "").strip()

        app_id = read("MicrosoftAppId", "CLIENTID")
        password = env.get("MicrosoftAppPassword") or env.get(SDK_PREFIX + "CLIENTSECRET") or ""
        tenant = read("MicrosoftAppTenantId", "TENANTID")
        app_type = (env.get("MicrosoftAppType") or "").strip()
        sdk_auth = (env.get(SDK_PREFIX + "AUTHTYPE") or "").strip()
        if not app_type:  # the SDK says how it authenticates, not whether it is single-tenant
            if sdk_auth and sdk_auth.lower() != AuthTypes.client_secret.lower():
                raise TeamsConfigError(f"{SDK_PREFIX}AUTHTYPE={sdk_auth} is not supported yet: "
                                       f"use ClientSecret (docs/teams.md).")
            sdk_tenant = (env.get(SDK_PREFIX + "TENANTID") or "").strip()
            single = sdk_tenant and sdk_tenant.lower() != DEFAULT_CHANNEL_TENANT
            app_type = "SingleTenant" if single else "MultiTenant"
        if password and not app_id:
            raise TeamsConfigError("MicrosoftAppPassword is set but MicrosoftAppId is not: set "
                                   "the bot's Microsoft App ID too (docs/teams.md).")
        production = (env.get("AWS_QUIZ_ENV") or "").strip().lower() == "production"
        if app_id and wants_local:
            raise TeamsConfigError("TEAMS_LOCAL=true and MicrosoftAppId are both set: local mode "
                                   "switches token checks off. Unset one of them.")
        if not app_id:
            if wants_local and production:
                raise TeamsConfigError(
                    "AWS_QUIZ_ENV=production refuses Teams local mode (TEAMS_LOCAL=true): "
                    "/api/messages would accept requests without a Bot Framework token. Set "
                    "MicrosoftAppId and MicrosoftAppPassword (docs/teams.md).")
            if not wants_local:
                if enabled:
                    raise TeamsConfigError(
                        "TEAMS_ENABLED=true but MicrosoftAppId is not set. Set MicrosoftAppId "
                        "and MicrosoftAppPassword (docs/teams.md), or TEAMS_LOCAL=true to try "
                        "Teams locally without tokens (loopback only).")
                return None  # Teams is off: nothing asked for it
        else:
            kind = app_type.lower()
            if kind == "userassignedmsi":
                raise TeamsConfigError("MicrosoftAppType=UserAssignedMSI is not supported yet: "
                                       "use MultiTenant or SingleTenant with "
                                       "MicrosoftAppPassword (docs/teams.md).")
            if kind not in ("multitenant", "singletenant"):
                raise TeamsConfigError(f"MicrosoftAppType must be MultiTenant or SingleTenant, "
                                       f"not {app_type!r}.")
            if not password:
                raise TeamsConfigError("MicrosoftAppId is set without MicrosoftAppPassword: the "
                                       "bot could not get a token to reply. Set the client "
                                       "secret of the bot's app registration.")
            if kind == "singletenant" and not tenant:
                raise TeamsConfigError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId.")
        owner_check = (env.get("TEAMS_OWNER_CHECK") or "true").strip().lower() not in _FALSE
        return cls(
            app_id=app_id, app_password=password, app_tenant_id=tenant, app_type=app_type,
            login_url=(env.get("TO_CHANNEL_FROM_BOT_LOGIN_URL") or env.get(SDK_PREFIX + "AUTHORITY")
                       or "").strip(),
            signing_keys_url=(env.get("TEAMS_SIGNING_KEYS_URL") or "").strip(),
            graph_url=(env.get("TEAMS_GRAPH_URL") or PUBLIC_GRAPH_URL).rstrip("/"),
            owner_check=owner_check and bool(app_id),
        )

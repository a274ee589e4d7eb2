"""What the environment asks of the Teams adapter, checked once at start-up.

Teams is hosted when `MicrosoftAppId` is set, and then every request must carry a valid Bot
Framework token. Without an app id Teams is off, unless *local mode* is asked for explicitly with
`TEAMS_LOCAL=true` (or `aws-quiz serve --teams-local`): no token checks, replies only to loopback
service URLs (tests, the Bot Framework Emulator), a loud warning at start, and `serve` refuses it
unless it listens on a loopback address. `AWS_QUIZ_ENV=production` refuses local mode, and
`TEAMS_ENABLED=false` switches Teams off whatever else is set.

The endpoint overrides use the SDK's own configuration names and exist for tests and sovereign
clouds; their defaults are the public Azure cloud's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PUBLIC_LOGIN_URL = "https://login.microsoftonline.com"
PUBLIC_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
PUBLIC_EMULATOR_OPENID_METADATA_URL = (
    "https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration")
PUBLIC_TOKEN_ISSUER = "https://api.botframework.com"
PUBLIC_OAUTH_SCOPE = "https://api.botframework.com"
PUBLIC_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_CHANNEL_TENANT = "botframework.com"

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
    openid_metadata_url: str = PUBLIC_OPENID_METADATA_URL
    emulator_openid_metadata_url: str = PUBLIC_EMULATOR_OPENID_METADATA_URL
    token_issuer: str = PUBLIC_TOKEN_ISSUER
    login_url: str = ""  # the token authority, e.g. https://login.microsoftonline.com/botframework.com
    oauth_scope: str = PUBLIC_OAUTH_SCOPE
    graph_url: str = PUBLIC_GRAPH_URL
    owner_check: bool = True

    @property
    def local_mode(self) -> bool:
        """No app id: requests are not authenticated and replies carry no token."""
        return not self.app_id

    @property
    def authority(self) -> str:
        """Where the bot gets its Bot Framework tokens (tenant included)."""
        if self.login_url:
            return self.login_url.rstrip("/")
        tenant = self.app_tenant_id if self.app_type.lower() == "singletenant" else ""
        return f"{PUBLIC_LOGIN_URL}/{tenant or DEFAULT_CHANNEL_TENANT}"

    @property
    def login_host(self) -> str:
        """The authority without its tenant, for per-tenant tokens (Microsoft Graph)."""
        parts = urlsplit(self.authority)
        return f"{parts.scheme}://{parts.netloc}"

    def token_url(self, tenant: str | None = None) -> str:
        """The OAuth 2.0 token endpoint of our authority, or of `tenant` on the same host."""
        base = self.authority if tenant is None else f"{self.login_host}/{tenant}"
        return f"{base}/oauth2/v2.0/token"

    @property
    def oauth_scope_default(self) -> str:
        scope = self.oauth_scope.rstrip("/")
        return scope if scope.endswith("/.default") else f"{scope}/.default"

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
        wants_local = local in _TRUE
        app_id = (env.get("MicrosoftAppId") or "").strip()
        password = env.get("MicrosoftAppPassword") or ""
        app_type = (env.get("MicrosoftAppType") or "MultiTenant").strip()
        tenant = (env.get("MicrosoftAppTenantId") or "").strip()
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
            openid_metadata_url=env.get("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")
            or PUBLIC_OPENID_METADATA_URL,
            emulator_openid_metadata_url=env.get("TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL")
            or PUBLIC_EMULATOR_OPENID_METADATA_URL,
            token_issuer=env.get("TO_BOT_FROM_CHANNEL_TOKEN_ISSUER") or PUBLIC_TOKEN_ISSUER,
            login_url=env.get("TO_CHANNEL_FROM_BOT_LOGIN_URL") or "",
            oauth_scope=env.get("TO_CHANNEL_FROM_BOT_OAUTH_SCOPE") or PUBLIC_OAUTH_SCOPE,
            graph_url=(env.get("TEAMS_GRAPH_URL") or PUBLIC_GRAPH_URL).rstrip("/"),
            owner_check=owner_check and bool(app_id),
        )

"""The Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards and messages out.

Every `botbuilder` / `botframework` import of the project lives in this package, so that a port
to the Microsoft 365 Agents SDK touches nothing else. Modules, one job each:

- `settings`   what the environment asks for (app id, local mode, endpoint overrides)
- `auth`       inbound token checks (CloudAdapter + ConfigurationBotFrameworkAuthentication)
- `http`       the outbound aiohttp client: retries with backoff on 429/5xx, bearer tokens
- `tokens`     outbound access tokens, cached and refreshed without blocking the event loop
- `connector`  the SDK's ConnectorClient sending through `http`
- `inbound`    activity -> Context / Message / Action, mention removal, conversation refs
- `render`     Reply -> Teams message (HTML text) or Adaptive Card, user text made inert
- `delivery`   where each reply goes: in place, card update, the user's personal chat
- `owners`     team-owner detection through Microsoft Graph (resource-specific consent)
- `bot`        the turn handler that ties the above to the core's router
- `outbound`   the Outbound port the daily scheduler posts through (continue_conversation)
- `adapter`    the PlatformAdapter: /api/messages, start/stop/ready
- `factory`    build_teams_adapter(core, env)
- `manifest`   the app package: manifest.json, icons (a tiny PNG writer), the zip
- `cli`        `aws-quiz teams package`
"""

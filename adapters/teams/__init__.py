"""The Microsoft Teams adapter on the Microsoft 365 Agents SDK: activities in, cards out.

Every `microsoft_agents` import of the project lives in this package. Modules, one job each:

- `settings`   what the environment asks for, and the SDK's AgentAuthConfiguration of it
- `auth`       inbound token checks (the SDK's JwtTokenValidator; 401 vs 503)
- `connector`  outbound: the SDK's connector client and MSAL tokens, with retries on 429/5xx
- `inbound`    activity -> Context / Message / Action, mention removal, conversation refs
- `render`     Reply -> Teams message (HTML text) or Adaptive Card, user text made inert
- `delivery`   where each reply goes: in place, card update, the user's personal chat
- `owners`     team-owner detection through Microsoft Graph (resource-specific consent)
- `bot`        the turn handler that ties the above to the core's router
- `outbound`   the Outbound port the daily scheduler posts through (continue_conversation)
- `adapter`    the PlatformAdapter: /api/messages, start/stop/ready
- `factory`    build_teams_adapter(core, env)
- `manifest`   the app package: manifest.json, the icons (package data), the zip
- `cli`        `aws-quiz teams package`
"""

"""With an app id, /api/messages takes only Bot Framework tokens (checked against a local JWKS
server, signed with an RSA key made here); replies carry our own bearer token, from MSAL and the
fake identity platform; team owners are found through Graph; the environment is checked before
anything starts and mapped onto the SDK's configuration.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.configure import ConfigError
from adapters.teams.factory import build_teams_adapter
from adapters.teams.settings import TeamsConfigError, TeamsSettings
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Reply
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.teams_fakes import (
    APP_ID,
    CHANNEL,
    TEAM,
    TEAM_GROUP,
    TENANT,
    Bot,
    FakeBotFramework,
    FakeConnector,
    activity_text,
    channel,
    personal,
    start_bot,
    trusted_ca_bundle,
)

PASSWORD = "s3cret-password"


@pytest.fixture(scope="session")
def signing_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture()
async def framework(signing_key: Any) -> AsyncIterator[FakeBotFramework]:
    fake = await FakeBotFramework(private_key=signing_key).start()
    yield fake
    await fake.close()


@pytest.fixture()
async def connector(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeConnector]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", trusted_ca_bundle())  # MSAL trusts the fake
    fake = await FakeConnector(require_token=True).start()
    yield fake
    await fake.close()


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database) -> Core:
    return build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(3))


@pytest.fixture()
def stateless_core(kb: KnowledgeBase) -> Core:
    return build_core(Settings(knowledge_dir=KNOWLEDGE), kb)


def app_settings(framework: FakeBotFramework, connector: FakeConnector) -> TeamsSettings:
    return TeamsSettings(app_id=APP_ID, app_password=PASSWORD,
                         signing_keys_url=framework.keys_url,
                         login_url=connector.login_url(), graph_url=connector.graph_url)


@pytest.fixture()
async def bot(core: Core, framework: FakeBotFramework,
              connector: FakeConnector) -> AsyncIterator[Bot]:
    served = await start_bot(core, app_settings(framework, connector))
    yield served
    await served.server.close()


async def test_a_valid_token_is_accepted_and_replies_carry_our_cached_token(
        bot: Bot, framework: FakeBotFramework, connector: FakeConnector) -> None:
    token = framework.token(service_url=connector.url)
    assert await bot.post(personal(connector.url, "topics"), token=token) == 200
    assert await bot.post(personal(connector.url, "help"), token=token) == 200
    replies = connector.activities()
    assert len(replies) == 2 and "Course topics" in activity_text(replies[0].body)
    assert {r.headers["Authorization"] for r in replies} == {"Bearer token-1"}
    [fetch] = connector.token_requests
    assert fetch.pop("client_info", "1") == "1", "MSAL asks for client info; nothing else extra"
    assert fetch == {"tenant": "botframework.com", "grant_type": "client_credentials",
                     "client_id": APP_ID, "client_secret": PASSWORD,
                     "scope": "https://api.botframework.com/.default"}
    assert framework.key_requests <= 1, "signing keys are cached"


async def test_one_token_serves_turns_and_proactive_posts_alike(
        bot: Bot, framework: FakeBotFramework, connector: FakeConnector, core: Core) -> None:
    token = framework.token(service_url=connector.url)
    assert await bot.post(channel(connector.url, "topics"), token=token) == 200
    assert core.refs is not None
    ref = await core.refs.get("teams", TENANT, CHANNEL)
    assert ref is not None
    await bot.adapter.outbound.post(ref, Reply("Question of the day"))
    assert await bot.post(personal(connector.url, "help"), token=token) == 200
    calls = [c for c in connector.calls if not c.path.startswith("/graph/")]
    assert len(calls) >= 3
    assert {c.headers["Authorization"] for c in calls} == {"Bearer token-1"}
    bot_framework = [t for t in connector.token_requests
                     if t["scope"] == "https://api.botframework.com/.default"]
    assert len(bot_framework) == 1, "one MSAL token for turns and proactive posts"


BAD_TOKENS: dict[str, Callable[[FakeBotFramework, str, Any], str | None]] = {
    "missing": lambda fw, url, key: None,
    "malformed": lambda fw, url, key: "not-a-jwt",
    "wrong audience": lambda fw, url, key: fw.token(audience="someone-else", service_url=url),
    "expired": lambda fw, url, key: fw.token(service_url=url, expires_in=-3600),
    "other signer": lambda fw, url, key: fw.token(service_url=url, key=key),
    "unknown key id": lambda fw, url, key: fw.token(service_url=url, kid="nope"),
    "wrong issuer": lambda fw, url, key: fw.token(service_url=url, issuer="https://evil.test"),
    "other service url": lambda fw, url, key: fw.token(service_url="https://elsewhere.test/"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_bad_tokens_get_401_and_nothing_is_sent(
        case: str, bot: Bot, framework: FakeBotFramework, connector: FakeConnector,
        other_key: Any) -> None:
    token = BAD_TOKENS[case](framework, connector.url, other_key)
    assert await bot.post(personal(connector.url, "help"), token=token) == 401
    assert await bot.post(personal(connector.url, "help"),
                          headers={"Authorization": "Basic dXNlcjpwdw=="}) == 401
    assert connector.calls == [] and connector.token_requests == []


async def test_unreachable_signing_keys_give_503_not_a_pass(
        core: Core, framework: FakeBotFramework, connector: FakeConnector) -> None:
    settings = app_settings(framework, connector)
    unreachable = TeamsSettings(**{**settings.__dict__,
                                   "signing_keys_url": "http://127.0.0.1:9/nothing"})
    served = await start_bot(core, unreachable)
    try:
        token = framework.token(service_url=connector.url)
        assert await served.post(personal(connector.url, "help"), token=token) == 503
        assert connector.calls == []
    finally:
        await served.server.close()


async def test_team_owners_from_graph_may_switch_the_daily_question_on(
        bot: Bot, framework: FakeBotFramework, connector: FakeConnector,
        caplog: pytest.LogCaptureFixture) -> None:
    connector.owners[TEAM_GROUP] = ["aad-olga"]
    token = framework.token(service_url=connector.url)
    on = "daily on 09:00 Europe/Berlin weekdays"
    assert await bot.post(channel(connector.url, on, user="olga", name="Olga"), token=token) == 200
    assert "Daily question <b>on</b>" in connector.sent[-1]["text"]
    graph = [c for c in connector.calls if c.path.startswith("/graph/")]
    assert graph[0].path == (f"/graph/v1.0/teams/{TEAM_GROUP}/members"
                             "?$filter=roles/any(r:r%20eq%20'owner')")
    assert any(t["tenant"] == TENANT and t["scope"] == f"{connector.graph_url}/.default"
               for t in connector.token_requests), "an app-only Graph token for the tenant"

    assert await bot.post(channel(connector.url, on, user="pete"), token=token) == 200
    assert any("only workspace admins" in activity_text(body) for body in connector.sent[-2:])
    assert len([c for c in connector.calls if c.path.startswith("/graph/")]) == 1, "cached"


async def test_without_graph_consent_nobody_is_an_owner(
        bot: Bot, framework: FakeBotFramework, connector: FakeConnector,
        caplog: pytest.LogCaptureFixture) -> None:
    connector.team_groups[TEAM] = "group-without-consent"
    token = framework.token(service_url=connector.url)
    with caplog.at_level(logging.WARNING):
        await bot.post(channel(connector.url, "daily on", user="olga", with_group=False),
                       token=token)
    assert any(c.path == f"/v3/teams/{TEAM}" for c in connector.calls), "group id via connector"
    assert any("/teams/group-without-consent/members" in c.path for c in connector.calls)
    assert any("only workspace admins" in activity_text(body) for body in connector.sent)
    assert "TeamMember.Read.Group" in caplog.text
    assert PASSWORD not in caplog.text


# -- configuration -------------------------------------------------------------------------------

def test_teams_is_off_without_an_app_id_and_local_mode_only_when_asked_for_on_loopback(
        stateless_core: Core, caplog: pytest.LogCaptureFixture) -> None:
    core = stateless_core
    assert build_teams_adapter(core, {}, bind_host="0.0.0.0") is None, \
        "only Slack configured: /api/messages does not exist at all"
    assert build_teams_adapter(core, {"MicrosoftAppId": ""}) is None, "empty id: off"
    assert build_teams_adapter(core, {"TEAMS_ENABLED": "false", "MicrosoftAppId": APP_ID}) is None
    assert build_teams_adapter(core, {"TEAMS_ENABLED": "false", "TEAMS_LOCAL": "true"}) is None
    with caplog.at_level("WARNING"):
        local = build_teams_adapter(core, {"TEAMS_LOCAL": "true"}, bind_host="127.0.0.1")
    assert local is not None and local.name == "teams"
    assert any("LOCAL MODE" in r.getMessage().upper() for r in caplog.records), "said loudly"
    for host in ("::1", "localhost"):
        assert build_teams_adapter(core, {"TEAMS_LOCAL": "true"}, bind_host=host) is not None
    for host in ("0.0.0.0", "", "::", "10.0.0.5", "example.com"):
        with pytest.raises(ConfigError, match="loopback"):
            build_teams_adapter(core, {"TEAMS_LOCAL": "true"}, bind_host=host)
    real = build_teams_adapter(core, {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD},
                               bind_host="0.0.0.0")
    assert real is not None


@pytest.mark.parametrize("env, words", [
    ({"AWS_QUIZ_ENV": "production", "TEAMS_LOCAL": "true"}, "refuses Teams local mode"),
    ({"TEAMS_ENABLED": "true"}, "TEAMS_LOCAL=true"),
    ({"TEAMS_LOCAL": "true", "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD},
     "both set"),
    ({"TEAMS_LOCAL": "perhaps"}, "TEAMS_LOCAL"),
    ({"MicrosoftAppPassword": PASSWORD}, "MicrosoftAppId is not"),
    ({"MicrosoftAppId": APP_ID}, "without MicrosoftAppPassword"),
    ({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD,
      "MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId"),
    ({"TEAMS_ENABLED": "maybe"}, "TEAMS_ENABLED"),
])
def test_unsafe_or_incomplete_settings_refuse_to_start(stateless_core: Core, env: dict[str, str],
                                                        words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        build_teams_adapter(stateless_core, env)
    assert PASSWORD not in str(caught.value)


SDK = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"


def test_bot_framework_names_map_onto_the_sdk_configuration(stateless_core: Core) -> None:
    multi = TeamsSettings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD})
    assert multi is not None
    config = multi.agent_auth_configuration()
    assert (config.CLIENT_ID, config.CLIENT_SECRET, config.AUTH_TYPE, config.TENANT_ID) == \
        (APP_ID, PASSWORD, "ClientSecret", "botframework.com")
    assert config.AUTHORITY == "https://login.microsoftonline.com/botframework.com"
    assert config.VALIDATE_ISSUER and not config.ANONYMOUS_ALLOWED
    assert "https://api.botframework.com" in config.ISSUERS

    single = TeamsSettings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD,
                                     "MicrosoftAppType": "SingleTenant",
                                     "MicrosoftAppTenantId": "contoso-tenant"})
    assert single is not None
    assert single.agent_auth_configuration().TENANT_ID == "contoso-tenant"
    assert single.agent_auth_configuration().AUTHORITY == \
        "https://login.microsoftonline.com/contoso-tenant"
    assert single.agent_auth_configuration("other-tenant").AUTHORITY == \
        "https://login.microsoftonline.com/other-tenant", "Graph tokens in the team's tenant"
    assert PASSWORD not in repr(single)

    adapter = build_teams_adapter(stateless_core, {"MicrosoftAppId": APP_ID,
                                                   "MicrosoftAppPassword": PASSWORD})
    assert adapter is not None
    used = adapter.connections.get_default_connection_configuration()  # type: ignore[attr-defined]
    assert (used.CLIENT_ID, used.CLIENT_SECRET, used.TENANT_ID) == \
        (APP_ID, PASSWORD, "botframework.com"), "the SDK's SERVICE_CONNECTION"
    local = build_teams_adapter(stateless_core, {"TEAMS_LOCAL": "true"}, bind_host="127.0.0.1")
    assert local is not None and local.connections is None  # type: ignore[attr-defined]
    assert local.auth.configuration.ANONYMOUS_ALLOWED  # type: ignore[attr-defined]


def test_the_sdks_own_names_are_read_too() -> None:
    env = {f"{SDK}CLIENTID": APP_ID, f"{SDK}CLIENTSECRET": PASSWORD,
           f"{SDK}TENANTID": "contoso-tenant", f"{SDK}AUTHTYPE": "ClientSecret"}
    settings = TeamsSettings.from_env(env)
    assert settings is not None
    assert (settings.app_id, settings.app_password, settings.app_type, settings.tenant) == \
        (APP_ID, PASSWORD, "SingleTenant", "contoso-tenant")
    multi = TeamsSettings.from_env({**env, f"{SDK}TENANTID": "botframework.com"})
    assert multi is not None and multi.app_type == "MultiTenant"
    assert TeamsSettings.from_env({**env, "MicrosoftAppId": "bf-name-wins"}).app_id == \
        "bf-name-wins"  # type: ignore[union-attr]
    authority = TeamsSettings.from_env({**env, f"{SDK}AUTHORITY": "https://login.example/t"})
    assert authority is not None and authority.authority == "https://login.example/t"
    with pytest.raises(TeamsConfigError, match="AUTHTYPE"):
        TeamsSettings.from_env({**env, f"{SDK}AUTHTYPE": "UserManagedIdentity"})


@pytest.mark.parametrize("name", ["TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
                                  "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE"])
def test_bot_framework_overrides_the_sdk_has_no_use_for_are_refused(name: str) -> None:
    with pytest.raises(TeamsConfigError, match=name):
        TeamsSettings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD,
                                name: "https://example.test"})

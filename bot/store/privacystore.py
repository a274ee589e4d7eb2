"""Everything stored about one person or one workspace, found table by table: export and forget.

Every table of the schema (`tables.metadata.sorted_tables`, plus slack-sdk's installation tables
from migration 0003) is walked, and each is known in one of three ways:

- a rule in `RULES` says how a person appears in it (their own rows, a column that names them,
  a JSON payload that mentions them) and whether forgetting deletes the rows or only blanks the
  columns that name them (a channel's daily schedule stays when the admin who set it up leaves);
- it has `tenant` and `user_id` columns and no rule: the person's rows are theirs, deleted and
  exported (so a table added later is covered without anyone remembering to add it here);
- it is in `NO_PERSON`: nothing in it identifies a person.

A table that fits none of these and has a column that looks like a person (`user_id`, `*_by`,
`user_name`) is reported by `unhandled_tables()`; a test keeps that list empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    false,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store import tables
from bot.store.database import Database

# slack-sdk's tables (created by migration 0003, written by its installation store): only the
# columns this module reads or blanks. They are not in `tables.metadata` on purpose.
SLACK_METADATA = MetaData()
slack_installations = Table(
    "slack_installations", SLACK_METADATA,
    Column("id", Integer, primary_key=True),
    Column("team_id", String(32)),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime()),
    Column("installed_at", DateTime(), nullable=False),  # naive UTC
)
slack_bots = Table("slack_bots", SLACK_METADATA, Column("id", Integer, primary_key=True),
                   Column("team_id", String(32)))
slack_oauth_states = Table("slack_oauth_states", SLACK_METADATA,
                           Column("id", Integer, primary_key=True))

# Tables in which nothing identifies a person.
NO_PERSON = frozenset({
    "processed_events",  # delivery ids (channel and message ids), pruned after a day
    "daily_posts",  # a channel's question of the day; its answers are in daily_answers
    "tenant_removals",  # which workspace removed the app, when
    "slack_bots",  # the bot's own token per workspace
    "slack_oauth_states",  # short-lived OAuth state values
    "alembic_version",
})
PERSON_COLUMNS = re.compile(r"^(user_id|user_name|.*_by)$")
TIME_COLUMNS = ("answered_at", "shown_at", "started_at", "created_at", "updated_at")

Where = Callable[[Table, str, str], ColumnElement[bool]]
Mentions = Callable[[Any, str], bool]


def _own_rows(table: Table, tenant: str, user: str) -> ColumnElement[bool]:
    return and_(table.c.tenant == tenant, table.c.user_id == user)


def _tenant_posts(tenant: str) -> Any:
    """The ids of a tenant's daily posts (daily_answers has no tenant column of its own)."""
    subs = tables.daily_subscriptions
    posts = tables.daily_posts
    return (select(posts.c.id).select_from(posts.join(subs, subs.c.id == posts.c.subscription_id))
            .where(subs.c.tenant == tenant))


def _daily_answers(table: Table, tenant: str, user: str) -> ColumnElement[bool]:
    return and_(table.c.user_id == user, table.c.post_id.in_(_tenant_posts(tenant)))


def _column_is(column: str, key: str = "tenant") -> Where:
    def where(table: Table, tenant: str, user: str) -> ColumnElement[bool]:
        return and_(table.c[key] == tenant, table.c[column] == user)
    return where


def _tenant_only(table: Table, tenant: str, user: str) -> ColumnElement[bool]:
    return table.c.tenant == tenant


def mentions(value: Any, user: str) -> bool:
    """True when a JSON value names `user`: a string that is the id, or holds it as a word
    (`<@U123>` in a command's text), anywhere in nested dicts and lists."""
    if isinstance(value, str):
        if value == user:
            return True
        return user in value and re.search(
            rf"(?<![A-Za-z0-9_.-]){re.escape(user)}(?![A-Za-z0-9_.-])", value) is not None
    if isinstance(value, dict):
        return any(mentions(v, user) for v in value.values())
    if isinstance(value, list | tuple):
        return any(mentions(v, user) for v in value)
    return False


@dataclass(frozen=True)
class Rule:
    """How a person appears in one table, and what forgetting them does there."""

    label: str  # what the person calls these rows, for counts ("answers")
    where: Where = _own_rows  # their rows, in SQL
    mentioned_in: str | None = None  # a JSON column searched in Python (after `where`)
    blank: dict[str, Any] = field(default_factory=dict)  # forget = set these, keep the row
    export: bool = True  # part of `export me` (never for tokens and raw platform payloads)


RULES: dict[str, tuple[Rule, ...]] = {
    "users": (Rule("profile"),),
    "showings": (Rule("questions shown"),),
    "answers": (Rule("answers"),),
    "cards": (Rule("review cards"),),
    "exams": (Rule("exams"),),
    "roleplays": (Rule("role-plays"),),
    "answer_totals": (Rule("archived answer totals"),),
    "daily_answers": (Rule("daily answers", where=_daily_answers),),
    "reports": (Rule("reports filed"),
                Rule("reports resolved (your name removed, the report stays)",
                     where=_column_is("resolved_by"), blank={"resolved_by": None},
                     export=False)),
    "daily_subscriptions": (Rule("daily schedules switched on (your name removed, the schedule "
                                 "stays)", where=_column_is("created_by"),
                                 blank={"created_by": ""}),),
    "work_items": (Rule("unfinished requests", where=_tenant_only, mentioned_in="payload",
                        export=False),),
    "conversation_refs": (Rule("direct-message links", where=_tenant_only,
                               mentioned_in="reference", export=False),),
    "slack_installations": (Rule("app installations (your id removed, the app stays installed)",
                                 where=_column_is("user_id", key="team_id"),
                                 blank={"user_id": "", "user_token": None, "user_scopes": None,
                                        "user_refresh_token": None,
                                        "user_token_expires_at": None},
                                 export=False),),
}


def all_tables() -> list[Table]:
    """Every table a person's data could be in: ours, then slack-sdk's."""
    return [*tables.metadata.sorted_tables, *SLACK_METADATA.sorted_tables]


def rules_for(table: Table) -> tuple[Rule, ...]:
    """How `table` holds a person (empty: it holds nobody, or it is unhandled)."""
    if table.name in RULES:
        return RULES[table.name]
    if "tenant" in table.c and "user_id" in table.c:
        return (Rule(table.name.replace("_", " ")),)
    return ()


def unhandled_tables(candidates: Iterable[Table] | None = None) -> list[str]:
    """Tables with a column that looks like a person but no way to find that person's rows."""
    out = []
    for table in candidates if candidates is not None else all_tables():
        if table.name in NO_PERSON or rules_for(table):
            continue
        if any(PERSON_COLUMNS.match(column.name) for column in table.c):
            out.append(table.name)
    return out


async def _present(conn: AsyncConnection) -> set[str]:
    """The tables that exist in this database (slack-sdk's may be missing in old copies)."""
    return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass
class _Found:
    """The rows of one rule: selected in SQL, narrowed in Python when the rule searches JSON."""

    table: Table
    rule: Rule
    condition: ColumnElement[bool]
    keys: list[tuple[Any, ...]] | None = None  # primary keys, when narrowed in Python

    def narrowed(self) -> ColumnElement[bool]:
        if self.keys is None:
            return self.condition
        if not self.keys:
            return false()
        pk = list(self.table.primary_key.columns)
        return or_(*(and_(*(c == v for c, v in zip(pk, key, strict=True)))
                     for key in self.keys))


class PrivacyStore:
    """What is stored about a person (`counts`, `export`) and `forget`, in one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _find(self, conn: AsyncConnection, tenant: str, user: str,
                    extra_channel: str | None) -> list[_Found]:
        """Each rule's rows, in the order of the tables' dependencies."""
        present = await _present(conn)
        found = []
        for table in all_tables():
            if table.name not in present:
                continue
            for rule in rules_for(table):
                item = _Found(table, rule, rule.where(table, tenant, user))
                if rule.mentioned_in is not None:
                    pk = list(table.primary_key.columns)
                    rows = await conn.execute(select(*pk, table.c[rule.mentioned_in],
                                                     *([table.c.channel] if "channel" in table.c
                                                       else []))
                                              .where(item.condition))
                    item.keys = [tuple(row[:len(pk)]) for row in rows
                                 if mentions(row[len(pk)], user)
                                 or (extra_channel and len(row) > len(pk) + 1
                                     and row[len(pk) + 1] == extra_channel)]
                found.append(item)
        return found

    async def counts(self, tenant: str, user: str,
                     direct_channel: str | None = None) -> dict[str, int]:
        """What forgetting `user` would change, per kind (kinds with nothing are left out)."""
        async with self.db.engine.connect() as conn:
            return await self._counts(conn, await self._find(conn, tenant, user, direct_channel))

    @staticmethod
    async def _counts(conn: AsyncConnection, found: Sequence[_Found]) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in found:
            if item.keys is not None:
                n = len(item.keys)
            else:
                n = int((await conn.execute(select(func.count()).select_from(item.table)
                                            .where(item.condition))).scalar_one())
            if n:
                out[item.rule.label] = out.get(item.rule.label, 0) + n
        return out

    async def forget(self, tenant: str, user: str,
                     direct_channel: str | None = None) -> dict[str, int]:
        """Delete every row about `user` in `tenant` (or blank the columns naming them where the
        row belongs to others too), all in one transaction; the counts per kind."""
        out: dict[str, int] = {}
        async with self.db.engine.begin() as conn:
            found = await self._find(conn, tenant, user, direct_channel)
            # Children before parents: the reverse of the dependency order.
            for item in reversed(found):
                if item.keys is not None and not item.keys:
                    continue
                if item.rule.blank:
                    stmt: Any = update(item.table).where(item.narrowed()).values(item.rule.blank)
                else:
                    stmt = delete(item.table).where(item.narrowed())
                n = int((await conn.execute(stmt)).rowcount or 0)
                if n:
                    out[item.rule.label] = out.get(item.rule.label, 0) + n
        return out

    async def export(self, tenant: str, user: str) -> dict[str, list[dict[str, Any]]]:
        """The person's rows per table, as JSON-ready dicts, oldest first (no tokens, no raw
        platform payloads)."""
        data: dict[str, list[dict[str, Any]]] = {}
        async with self.db.engine.connect() as conn:
            for item in await self._find(conn, tenant, user, None):
                if not item.rule.export:
                    continue
                stmt = select(item.table).where(item.narrowed())
                order = next((item.table.c[c] for c in TIME_COLUMNS if c in item.table.c), None)
                if order is not None:
                    stmt = stmt.order_by(order)
                rows = [{k: _jsonable(v) for k, v in row._mapping.items()
                         if k not in ("tenant",)} for row in await conn.execute(stmt)]
                if rows:
                    data.setdefault(item.table.name, []).extend(rows)
        return data

    async def find_users(self, tenant: str, who: str) -> list[tuple[str, str]]:
        """(user id, name) of the learners `who` could mean: the id itself, else a name
        (case-insensitive, exact)."""
        users = tables.users
        rows = await self.db.rows(select(users.c.user_id, users.c.name)
                                  .where(users.c.tenant == tenant, users.c.user_id == who))
        if not rows:
            rows = await self.db.rows(select(users.c.user_id, users.c.name)
                                      .where(users.c.tenant == tenant,
                                             func.lower(users.c.name) == who.lower()))
        return [(r.user_id, r.name) for r in rows]

    async def forget_tenant(self, platform: str, tenant: str) -> dict[str, int]:
        """Delete every row of one workspace or tenant (the app was removed there long enough
        ago): the rows per table. The record of the removal itself stays."""
        subs = tables.daily_subscriptions
        posts = tables.daily_posts
        answers = tables.daily_answers
        sub_ids = select(subs.c.id).where(subs.c.tenant == tenant, subs.c.platform == platform)
        post_ids = select(posts.c.id).where(posts.c.subscription_id.in_(sub_ids))
        special: dict[str, ColumnElement[bool]] = {
            answers.name: answers.c.post_id.in_(post_ids),
            posts.name: posts.c.subscription_id.in_(sub_ids),
            slack_installations.name: slack_installations.c.team_id == tenant,
            slack_bots.name: slack_bots.c.team_id == tenant,
        }
        out: dict[str, int] = {}
        async with self.db.engine.begin() as conn:
            present = await _present(conn)
            first = {answers.name: 0, posts.name: 1}  # they are found through the schedules
            for table in sorted(all_tables(), key=lambda t: first.get(t.name, 2)):
                if table.name not in present or table.name == tables.tenant_removals.name:
                    continue
                condition = special.get(table.name)
                if condition is None and "tenant" in table.c:
                    condition = table.c.tenant == tenant
                    if "platform" in table.c:
                        condition = and_(condition, table.c.platform == platform)
                if condition is None:
                    continue
                n = int((await conn.execute(delete(table).where(condition))).rowcount or 0)
                if n:
                    out[table.name] = n
        return out


def tenant_unhandled_tables() -> list[str]:
    """Tables `forget_tenant` cannot scope to a workspace although a person may be in them."""
    scoped = {"daily_answers", "daily_posts", "slack_installations", "slack_bots"}
    return [t.name for t in all_tables()
            if "tenant" not in t.c and t.name not in scoped and t.name not in NO_PERSON]


def export_document(tenant: str, user: str, data: dict[str, list[dict[str, Any]]],
                    now: datetime) -> str:
    """The export as pretty JSON text."""
    return json.dumps({"format": "aws-quiz personal data export, version 1",
                       "exported_at": now.isoformat(), "tenant": tenant, "user_id": user,
                       "counts": {name: len(rows) for name, rows in data.items()},
                       "data": data}, indent=1, ensure_ascii=False, default=str)

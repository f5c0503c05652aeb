"""Database roles and their access (spec/warehouse.md "Roles and access"), granted idempotently by every build.

Group roles (NOLOGIN; login users are made members of them, or — for BI — the role itself gets a login):

| role                   | may                                                                       |
|------------------------|---------------------------------------------------------------------------|
| reformwh_bi            | read marts                                                                |
| reformwh_staff         | read marts and reports                                                    |
| reformwh_loader        | read and write raw, quarantine, audit, reference                          |
| reformwh_transformer   | read raw and reference; create and write staging, intermediate, marts     |

Nobody else (PUBLIC) gets anything in these schemas, nor CREATE in public or temporary tables. Roles are
cluster-wide, grants per database: several databases on one server may run this at once, so role
creation tolerates a concurrent creator. dbt recreates its tables on every build, so grants are set
twice: default privileges for the role that creates the tables (the build's own user), and explicit
grants on what exists after the build.
"""

from __future__ import annotations

import os
import time

import psycopg
from psycopg import sql

BI, STAFF, LOADER, TRANSFORMER = "reformwh_bi", "reformwh_staff", "reformwh_loader", "reformwh_transformer"
ROLES = (BI, STAFF, LOADER, TRANSFORMER)

# schema -> (roles that read it, roles that write it)
ACCESS = {
    "raw": ((TRANSFORMER,), (LOADER,)),
    "quarantine": ((), (LOADER,)),
    "audit": ((), (LOADER,)),
    "reference": ((TRANSFORMER,), (LOADER,)),
    "staging": ((), (TRANSFORMER,)),
    "intermediate": ((), (TRANSFORMER,)),
    "marts": ((BI, STAFF), (TRANSFORMER,)),
    "reports": ((STAFF,), ()),
}

# Roles that may log in with a password from the environment (docker-compose connects the BI tool so).
PASSWORD_VARIABLES = {BI: "REFORMWH_BI_PASSWORD", STAFF: "REFORMWH_STAFF_PASSWORD"}


def _retry(conn: psycopg.Connection, statement, attempts: int = 5) -> None:
    """Run a statement on a cluster-wide catalog (pg_authid), which a build on another database may be
    updating at the same moment ("tuple concurrently updated"): try again shortly."""
    for attempt in range(attempts):
        try:
            conn.execute(statement)
            return
        except psycopg.errors.InternalError_:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def create_roles(conn: psycopg.Connection) -> None:
    for role in ROLES:
        # duplicate_object when it exists; unique_violation when another session creates it at the same time
        # (and a user without CREATEROLE passes where an administrator made the roles already)
        _retry(conn, sql.SQL(
            "do $$ begin if not exists (select from pg_roles where rolname = {}) then create role {} nologin; "
            "end if; exception when duplicate_object or unique_violation then null; end $$"
        ).format(sql.Literal(role), sql.Identifier(role)))


def set_login(conn: psycopg.Connection, role: str, password: str) -> None:
    _retry(conn, sql.SQL("alter role {} login password {}").format(sql.Identifier(role), sql.Literal(password)))


def grant_access(conn: psycopg.Connection) -> None:
    """Grants of this database; run after dbt, so that the tables it just recreated are covered."""
    database = conn.info.dbname
    q = sql.SQL
    statements = [
        q("revoke all on schema public from public"),
        q("revoke temporary on database {} from public").format(sql.Identifier(database)),
        q("grant connect on database {} to {}").format(sql.Identifier(database),
                                                       sql.SQL(", ").join(map(sql.Identifier, ROLES))),
        q("grant temporary on database {} to {}, {}").format(sql.Identifier(database), sql.Identifier(LOADER),
                                                              sql.Identifier(TRANSFORMER)),
    ]
    for schema, (readers, writers) in ACCESS.items():
        s = sql.Identifier(schema)
        statements += [q("create schema if not exists {}").format(s),
                       q("revoke all on schema {} from public").format(s)]
        for role in (*readers, *writers):
            r = sql.Identifier(role)
            write = role in writers
            table_privileges = q("select, insert, update, delete, truncate, references, trigger" if write
                                 else "select")
            statements += [
                q("grant usage on schema {} to {}").format(s, r),
                q("grant {} on all tables in schema {} to {}").format(table_privileges, s, r),
                # tables created later by this user (dbt's next build, the loader's next source)
                q("alter default privileges in schema {} grant {} on tables to {}").format(s, table_privileges, r),
            ]
            if write:
                statements += [
                    q("grant create on schema {} to {}").format(s, r),
                    q("grant usage, select, update on all sequences in schema {} to {}").format(s, r),
                    q("alter default privileges in schema {} grant usage, select, update on sequences to {}")
                    .format(s, r),
                ]
    with conn.transaction():
        # one build per database at a time: GRANT on the same object from two sessions can collide
        conn.execute("select pg_advisory_xact_lock(hashtext('reformwh.roles'))")
        for statement in statements:
            conn.execute(statement)


def ensure_roles(conn: psycopg.Connection, passwords: dict[str, str] | None = None) -> list[str]:
    """Create the group roles, grant this database's access, give login to the roles with a password
    (default: from REFORMWH_BI_PASSWORD / REFORMWH_STAFF_PASSWORD). Returns the roles that can log in."""
    if passwords is None:
        passwords = {role: os.environ[var] for role, var in PASSWORD_VARIABLES.items() if os.environ.get(var)}
    create_roles(conn)
    grant_access(conn)
    for role, password in passwords.items():
        set_login(conn, role, password)
    return sorted(passwords)


def describe_access() -> list[str]:
    lines = []
    for role in ROLES:
        reads = [s for s, (r, w) in ACCESS.items() if role in r]
        writes = [s for s, (r, w) in ACCESS.items() if role in w]
        lines.append(f"{role}: reads {', '.join(reads) or '-'}; writes {', '.join(writes) or 'nothing'}")
    return lines

"""Database roles and their access (spec/warehouse.md "Roles and access"), granted idempotently by every build.

Group roles (NOLOGIN; login users are made members of them, or — for BI — the role itself gets a login):

| role                   | may                                                                       |
|------------------------|---------------------------------------------------------------------------|
| reformwh_bi            | read marts                                                                |
| reformwh_staff         | read marts and reports                                                    |
| reformwh_loader        | read and write raw, quarantine, audit, reference                          |
| reformwh_transformer   | read raw, quarantine, audit, reference; create and write staging,         |
|                        | intermediate, marts_build, marts (and schemas: dbt creates missing ones)  |

Nobody else (PUBLIC) gets anything in these schemas, nor CREATE in public or temporary tables. Where the user
running this is a superuser (the embedded warehouse, an administrator's `reformwh roles`), PUBLIC also loses
the advisory-lock functions of this database (a BI session holding the build's lock would hang every build;
the pipeline roles keep them; where they could not be revoked, a holder of another role is named, not waited
for: LockHeldByOutsider) and CONNECT and TEMPORARY on the `postgres` and `template1` databases. A login
role can always change its own password in PostgreSQL: the pipeline sets the known one again on every build
(reformwh/pipeline.py grant_roles). Roles are
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
    # dbt reads quarantined self-report scores, rejected submissions and which loads exist
    "quarantine": ((TRANSFORMER,), (LOADER,)),
    "audit": ((TRANSFORMER,), (LOADER,)),
    "reference": ((TRANSFORMER,), (LOADER,)),
    "staging": ((), (TRANSFORMER,)),
    "intermediate": ((), (TRANSFORMER,)),
    "marts": ((BI, STAFF), (TRANSFORMER,)),
    # where dbt builds the marts before `reformwh build` publishes them into marts (pipeline.publish_marts)
    "marts_build": ((), (TRANSFORMER,)),
    "reports": ((STAFF,), ()),
}

# Roles that may log in with a password from the environment (docker-compose connects the BI tool so).
PASSWORD_VARIABLES = {BI: "REFORMWH_BI_PASSWORD", STAFF: "REFORMWH_STAFF_PASSWORD"}


class LockHeldByOutsider(RuntimeError):
    """A lock of the pipeline is held by a session that is not the pipeline's."""


def lock_holders(conn: psycopg.Connection, key_sql: str) -> list[tuple[int, str, str, bool]]:
    """Sessions holding the advisory lock `key_sql` (an SQL expression of the key): pid, user, application, and
    whether the user may run the pipeline (a superuser or a member of the loader or transformer role)."""
    key = conn.execute(f"select ({key_sql})::bigint").fetchone()[0] & 0xFFFFFFFFFFFFFFFF
    return conn.execute(
        "select a.pid, a.usename, a.application_name, "
        "r.rolsuper or exists (select from pg_roles p where p.rolname in ('reformwh_loader', 'reformwh_transformer') "
        "and pg_has_role(a.usesysid, p.oid, 'member')) "
        "from pg_locks l join pg_stat_activity a on a.pid = l.pid join pg_roles r on r.oid = a.usesysid "
        "where l.locktype = 'advisory' and l.granted and l.database = "
        "(select oid from pg_database where datname = current_database()) "
        "and l.classid = %s::bigint::oid and l.objid = %s::bigint::oid and l.objsubid = 1 "
        "and a.pid <> pg_backend_pid()", [key >> 32, key & 0xFFFFFFFF]).fetchall()


_GRANTS_LOCK = "hashtext('reformwh.roles')"


def _take_grants_lock(conn: psycopg.Connection) -> None:
    """In the grants' transaction: one build per database grants at a time. A session of another role holding the
    key (a server where PUBLIC kept the lock functions) is not waited for: the error names it."""
    while not conn.execute(f"select pg_try_advisory_xact_lock({_GRANTS_LOCK})").fetchone()[0]:
        outsiders = [h for h in lock_holders(conn, _GRANTS_LOCK) if not h[3]]
        if outsiders:
            pid, user, application, _ = outsiders[0]
            raise LockHeldByOutsider(
                f"grants: the lock of the grants is held by session {pid} of {user} "
                f"({application or 'no application name'}), which is not a pipeline role; end it "
                f"(select pg_terminate_backend({pid})) and run again")
        time.sleep(0.2)  # another build's grants: a second or so


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
        # dbt's on-run-start hook says `create schema if not exists` (checked before "exists") and
        # `create table if not exists reference.transform_code`
        q("grant create on database {} to {}").format(sql.Identifier(database), sql.Identifier(TRANSFORMER)),
    ]
    superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
    for schema, (readers, writers) in ACCESS.items():
        s = sql.Identifier(schema)
        statements += [q("create schema if not exists {}").format(s),
                       q("revoke all on schema {} from public").format(s)]
        if schema == "reference":
            statements.append(q("grant create on schema {} to {}").format(s, sql.Identifier(TRANSFORMER)))
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
            if superuser:  # and by the writers the pipeline works as (dbt's tables, replaced during a build)
                statements += [q("alter default privileges for role {} in schema {} grant {} on tables to {}")
                               .format(sql.Identifier(creator), s, table_privileges, r)
                               for creator in writers if creator != role]
            if write:
                statements += [
                    q("grant create on schema {} to {}").format(s, r),
                    q("grant usage, select, update on all sequences in schema {} to {}").format(s, r),
                    q("alter default privileges in schema {} grant usage, select, update on sequences to {}")
                    .format(s, r),
                ]
    if superuser:
        statements += advisory_lock_revokes(conn)
    with conn.transaction():
        # one build per database at a time: GRANT on the same object from two sessions can collide
        _take_grants_lock(conn)
        for statement in statements:
            conn.execute(statement)
    if superuser:
        revoke_maintenance_databases(conn)


def work_as(conn: psycopg.Connection, role: str) -> None:
    """A superuser's session (the embedded warehouse's URL) does the pipeline's work as `role` (the loader
    or the transformer), as on a server where those are the users' roles: SET ROLE, after the grants."""
    if conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))


def hand_over_to_transformer(conn: psycopg.Connection) -> int:
    """Give reformwh_transformer what dbt replaces (tables and views of staging, intermediate, marts made
    by another user, e.g. before dbt worked as it): a superuser's step before dbt. Returns how many."""
    if not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
        return 0
    rows = conn.execute(
        "select case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end, "
        "n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('staging', 'intermediate', 'marts_build', 'marts') and c.relkind in ('r', 'p', 'v', 'm') "
        "and c.relowner <> %s::regrole", [TRANSFORMER]).fetchall()
    for kind, schema, name in rows:
        conn.execute(sql.SQL("alter {} {}.{} owner to {}").format(
            sql.SQL(kind), sql.Identifier(schema), sql.Identifier(name), sql.Identifier(TRANSFORMER)))
    return len(rows)


def advisory_lock_functions(conn: psycopg.Connection) -> list[str]:
    """pg_advisory_lock and its kin (shared, try, xact, unlock), as regprocedure texts."""
    return [f for (f,) in conn.execute(
        "select oid::regprocedure::text from pg_proc where pronamespace = 'pg_catalog'::regnamespace "
        "and proname ~ '^pg_(try_)?advisory_' order by 1").fetchall()]


def advisory_lock_revokes(conn: psycopg.Connection) -> list[sql.Composable]:
    """PUBLIC loses this database's advisory-lock functions (only a superuser may revoke them); the pipeline
    roles, which take the build's locks, keep them."""
    q = sql.SQL
    pipeline_roles = sql.SQL(", ").join(map(sql.Identifier, (LOADER, TRANSFORMER)))
    statements: list[sql.Composable] = []
    for function in advisory_lock_functions(conn):
        statements += [q("revoke execute on function {} from public").format(sql.SQL(function)),
                       q("grant execute on function {} to {}").format(sql.SQL(function), pipeline_roles)]
    return statements


def revoke_maintenance_databases(conn: psycopg.Connection) -> None:
    """PUBLIC may not connect to, nor make temporary objects in, `postgres` and `template1` (a superuser's
    step, once per server: pg_database is cluster-wide, so builds of other databases may be at it too)."""
    for (database,) in conn.execute(
            "select datname from pg_database where datname in ('postgres', 'template1') "
            "and datname <> current_database() "
            "and (datacl is null or exists (select from aclexplode(datacl) where grantee = 0))").fetchall():
        _retry(conn, sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(database)))


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

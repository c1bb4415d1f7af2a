"""The parts of PostgreSQL's catalog that DuckDB's own ``pg_catalog`` lacks, as temporary macros
and views of one connection, for the clients of ``sqlml serve`` (psql's ``\\d``, ``\\l``,
pgjdbc's DatabaseMetaData, drivers' start-up questions).

They are temporary (the connection's own, never written to the database file) and unqualified:
the server rewrites ``pg_catalog.name(...)`` to ``name(...)`` so that these shadow what DuckDB has
or lacks (``server/catalog.py``).
"""

from __future__ import annotations


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def statements(
    user: str, users: list[tuple[str, bool]], settings: dict[str, str], version: str
) -> list[str]:
    """The statements that install the emulation for a session of ``user``."""
    roles = users or [(user, True)]
    role_rows = ", ".join(
        f"({10 + i}, {_literal(name)}, {str(superuser).lower()})"
        for i, (name, superuser) in enumerate(roles)
    )
    setting_rows = ", ".join(f"({_literal(k)}, {_literal(v)})" for k, v in settings.items())
    owner = _literal(user)
    return [
        f"CREATE OR REPLACE TEMP MACRO version() AS {_literal(version)}",
        f"CREATE OR REPLACE TEMP MACRO current_user() AS {owner}",
        f"CREATE OR REPLACE TEMP MACRO session_user() AS {owner}",
        f"CREATE OR REPLACE TEMP MACRO user() AS {owner}",
        # current_setting of a PostgreSQL setting, else DuckDB's setting of that name
        "CREATE OR REPLACE TEMP MACRO sqlml_setting(n) AS coalesce("
        f"(SELECT setting FROM (VALUES {setting_rows}) AS s(name, setting) "
        "WHERE name = lower(n)), "
        "(SELECT value FROM duckdb_settings() WHERE name = lower(n))), "
        f"(n, missing_ok) AS coalesce((SELECT setting FROM (VALUES {setting_rows}) "
        "AS s(name, setting) WHERE name = lower(n)), "
        "(SELECT value FROM duckdb_settings() WHERE name = lower(n)))",
        # set_config takes effect only for the settings the server answers SET for
        "CREATE OR REPLACE TEMP MACRO set_config(name, value, is_local) AS value",
        f"CREATE OR REPLACE TEMP MACRO pg_get_userbyid(id) AS {owner}",
        "CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(e) AS 'UTF8'",
        "CREATE OR REPLACE TEMP MACRO pg_char_to_encoding(e) AS 6",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_result(oid) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(oid) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_identity_arguments(oid) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_indexdef(oid) AS NULL::VARCHAR, "
        "(oid, col, pretty) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(oid) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_partkeydef(oid) AS NULL::VARCHAR",
        # a default's expression is kept as its text (pg_attrdef.adbin)
        "CREATE OR REPLACE TEMP MACRO pg_get_expr(expr, rel) AS expr::VARCHAR, "
        "(expr, rel, pretty) AS expr::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_triggerdef(oid) AS NULL::VARCHAR, "
        "(oid, pretty) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_ruledef(oid) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_total_relation_size(oid) AS 0::BIGINT",
        "CREATE OR REPLACE TEMP MACRO pg_relation_size(oid) AS 0::BIGINT",
        "CREATE OR REPLACE TEMP MACRO pg_backend_pid() AS 0",
        "CREATE OR REPLACE TEMP MACRO txid_current() AS 0::BIGINT",
        "CREATE OR REPLACE TEMP MACRO obj_description(oid) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO has_database_privilege(db, priv) AS true",
        "CREATE OR REPLACE TEMP MACRO array_upper(a, d) AS len(a)",
        "CREATE OR REPLACE TEMP MACRO array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END",
        "CREATE OR REPLACE TEMP MACRO quote_ident(s) AS "
        "CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s "
        "ELSE '\"' || replace(s, '\"', '\"\"') || '\"' END",
        "CREATE OR REPLACE TEMP MACRO sqlml_ident_last(name) AS "
        "trim(string_split(name, '.')[-1], '\"')",
        # an oid by the relation's name, as 'name'::regclass gives it (the server rewrites)
        "CREATE OR REPLACE TEMP MACRO sqlml_regclass(name) AS (SELECT min(c.oid) FROM "
        "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = sqlml_ident_last(name) OR n.nspname || '.' || c.relname = name)",
        "CREATE OR REPLACE TEMP VIEW pg_database AS SELECT "
        "d.oid, d.datname, 10::BIGINT AS datdba, 6 AS encoding, 'c' AS datlocprovider, "
        "false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, "
        "0::BIGINT AS datlastsysoid, 0::BIGINT AS datfrozenxid, 0::BIGINT AS datminmxid, "
        "0::BIGINT AS dattablespace, 'C' AS datcollate, 'C' AS datctype, "
        "NULL::VARCHAR AS daticulocale, NULL::VARCHAR AS datcollversion, "
        "NULL::VARCHAR[] AS datacl FROM pg_catalog.pg_database d "
        "WHERE d.datname = current_database()",
        "CREATE OR REPLACE TEMP VIEW pg_roles AS SELECT * FROM (VALUES "
        f"{role_rows}) AS r(oid, rolname, rolsuper) CROSS JOIN (SELECT true AS rolinherit, "
        "false AS rolcreaterole, false AS rolcreatedb, true AS rolcanlogin, "
        "false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword, "
        "NULL::TIMESTAMPTZ AS rolvaliduntil, false AS rolbypassrls, NULL::VARCHAR[] AS rolconfig)",
        "CREATE OR REPLACE TEMP VIEW pg_user AS SELECT rolname AS usename, oid AS usesysid, "
        "rolcreatedb AS usecreatedb, rolsuper AS usesuper, false AS userepl, "
        "false AS usebypassrls, '********' AS passwd, rolvaliduntil AS valuntil, "
        "rolconfig AS useconfig FROM pg_roles",
        "CREATE OR REPLACE TEMP VIEW pg_authid AS SELECT * FROM pg_roles",
        "CREATE OR REPLACE TEMP VIEW pg_inherits AS SELECT 0::BIGINT AS inhrelid, "
        "0::BIGINT AS inhparent, 0 AS inhseqno, false AS inhdetachpending WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_trigger AS SELECT 0::BIGINT AS oid, 0::BIGINT AS tgrelid, "
        "0::BIGINT AS tgparentid, ''::VARCHAR AS tgname, 0::BIGINT AS tgfoid, 0 AS tgtype, "
        "'O' AS tgenabled, false AS tgisinternal WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_policy AS SELECT 0::BIGINT AS oid, ''::VARCHAR AS polname, "
        "0::BIGINT AS polrelid, '*' AS polcmd, true AS polpermissive, NULL::BIGINT[] AS polroles, "
        "NULL::VARCHAR AS polqual, NULL::VARCHAR AS polwithcheck WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_statistic_ext AS SELECT 0::BIGINT AS oid, "
        "0::BIGINT AS stxrelid, ''::VARCHAR AS stxname, 0::BIGINT AS stxnamespace, "
        "0::BIGINT AS stxowner, 0 AS stxstattarget, NULL::INTEGER[] AS stxkeys, "
        "NULL::VARCHAR[] AS stxkind WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_publication AS SELECT 0::BIGINT AS oid, "
        "''::VARCHAR AS pubname, false AS puballtables WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_publication_rel AS SELECT 0::BIGINT AS oid, "
        "0::BIGINT AS prpubid, 0::BIGINT AS prrelid, NULL::VARCHAR AS prqual, "
        "NULL::SMALLINT[] AS prattrs WHERE false",
        "CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(oid) AS false",
        "CREATE OR REPLACE TEMP VIEW pg_publication_namespace AS SELECT 0::BIGINT AS oid, "
        "0::BIGINT AS pnpubid, 0::BIGINT AS pnnspid WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_partitioned_table AS SELECT 0::BIGINT AS partrelid "
        "WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_foreign_table AS SELECT 0::BIGINT AS ftrelid, "
        "0::BIGINT AS ftserver WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_auth_members AS SELECT 0::BIGINT AS oid, "
        "0::BIGINT AS roleid, 0::BIGINT AS member, 0::BIGINT AS grantor, "
        "false AS admin_option WHERE false",
        # DuckDB's pg_class, with the columns PostgreSQL 15 has beside them
        "CREATE OR REPLACE TEMP VIEW pg_class AS SELECT *, false AS relforcerowsecurity, "
        "FROM pg_catalog.pg_class",
        "CREATE OR REPLACE TEMP VIEW pg_rewrite AS SELECT 0::BIGINT AS oid, "
        "''::VARCHAR AS rulename, 0::BIGINT AS ev_class WHERE false",
    ]


# The relations above, which the server's rewrite points at these (unqualified) names.
RELATIONS = (
    "pg_database", "pg_roles", "pg_user", "pg_authid", "pg_inherits", "pg_trigger", "pg_policy",
    "pg_statistic_ext", "pg_publication", "pg_publication_rel", "pg_publication_namespace",
    "pg_partitioned_table", "pg_foreign_table", "pg_rewrite", "pg_auth_members", "pg_class",
)  # fmt: skip

"""The parts of PostgreSQL's catalog that DuckDB's own ``pg_catalog`` lacks, as temporary macros
and views of one connection, for the clients of ``sqlml serve`` (psql's ``\\d``, ``\\l``,
pgjdbc's DatabaseMetaData, drivers' start-up questions).

They are temporary (the connection's own, never written to the database file) and unqualified:
the server rewrites ``pg_catalog.name(...)`` to ``name(...)`` so that these shadow what DuckDB has
or lacks (``server/catalog.py``).
"""

from __future__ import annotations

# DuckDB's names of the types a model function takes or returns, and PostgreSQL's.
_PG_TYPE_NAMES = [
    ("VARCHAR", "character varying"), ("DOUBLE", "double precision"), ("FLOAT", "real"),
    ("INTEGER", "integer"), ("BIGINT", "bigint"), ("SMALLINT", "smallint"),
    ("BOOLEAN", "boolean"), ("DATE", "date"), ("TIMESTAMP", "timestamp without time zone"),
    ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone"),
]  # fmt: skip


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def statements(
    user: str, users: list[tuple[str, bool]], settings: dict[str, str], version: str
) -> list[str]:
    """The statements that install the emulation for a session of ``user``."""
    return _functions(user, settings, version) + _relations(user, users)


def _functions(user: str, settings: dict[str, str], version: str) -> list[str]:
    """Macros: PostgreSQL's functions that DuckDB lacks, or answers differently."""
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
        # a model function's type names as PostgreSQL's (psql's \\df)
        "CREATE OR REPLACE TEMP MACRO sqlml_pgtype(t) AS CASE "
        "WHEN t LIKE 'STRUCT%' THEN 'json' WHEN t LIKE '%[]' THEN 'ARRAY' "
        + " ".join(f"WHEN t = '{duck}' THEN '{pg}'" for duck, pg in _PG_TYPE_NAMES)
        + " ELSE lower(t) END",
        # a primary key's index (the only indexes pg_index lists), as psql shows it
        "CREATE OR REPLACE TEMP MACRO sqlml_indexdef(i) AS (SELECT 'CREATE UNIQUE INDEX ON ' || c.relname || ' USING btree ('"
        " || regexp_extract(k.conname, '\\((.*)\\)', 1) || ')' FROM pg_catalog.pg_constraint k "
        "JOIN pg_catalog.pg_class c ON c.oid = k.conrelid WHERE k.oid = i)",
        "CREATE OR REPLACE TEMP MACRO pg_get_indexdef(i) AS sqlml_indexdef(i), "
        "(i, col, pretty) AS sqlml_indexdef(i)",
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
        "CREATE OR REPLACE TEMP MACRO obj_description(oid) AS NULL::VARCHAR, "
        "(oid, catalog) AS NULL::VARCHAR",
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
    ]


def _relations(user: str, users: list[tuple[str, bool]]) -> list[str]:
    """Views: the relations psql and pgjdbc read that DuckDB lacks, or has without columns
    they read."""
    roles = users or [(user, True)]
    role_rows = ", ".join(
        f"({10 + i}, {_literal(name)}, {str(superuser).lower()})"
        for i, (name, superuser) in enumerate(roles)
    )
    return [
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
        # DuckDB's pg_type has rows without an oid (its own types) and no typrelid; PostgreSQL's
        # text, name, json and the array types the server sends are added
        "CREATE OR REPLACE TEMP VIEW pg_type AS SELECT * REPLACE (coalesce(typrelid, 0) AS "
        "typrelid, coalesce(typelem, 0) AS typelem) FROM pg_catalog.pg_type WHERE oid IS NOT NULL "
        "AND oid NOT IN (SELECT oid FROM (VALUES " + _EXTRA_TYPES + ") AS e(oid, n, l, el, a, c)) "
        "UNION ALL BY NAME SELECT e.oid, e.n AS typname, (SELECT oid FROM pg_catalog.pg_namespace "
        "WHERE nspname = 'main') AS typnamespace, 0 AS typowner, e.l AS typlen, e.l > 0 AS typbyval, "
        "'b' AS typtype, e.c AS typcategory, false AS typispreferred, true AS typisdefined, "
        "',' AS typdelim, 0 AS typrelid, e.el AS typelem, e.a AS typarray, 0 AS typbasetype, "
        "-1 AS typtypmod, 0 AS typndims, 0 AS typcollation, false AS typnotnull "
        "FROM (VALUES " + _EXTRA_TYPES + ") AS e(oid, n, l, el, a, c)",
        # DuckDB's pg_class with PostgreSQL 15's relforcerowsecurity, and a row for each
        # primary key's index (DuckDB lists primary keys as constraints only; pgjdbc's
        # getPrimaryKeys joins pg_index to the index's pg_class row)
        "CREATE OR REPLACE TEMP VIEW pg_class AS SELECT *, false AS relforcerowsecurity "
        "FROM pg_catalog.pg_class UNION ALL SELECT c.* REPLACE (k.oid AS oid, "
        "c.relname || '_pkey' AS relname, 'i' AS relkind), false "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_constraint k "
        "ON k.conrelid = c.oid AND k.contype = 'p'",
        # DuckDB's constraint keys count columns from 0, PostgreSQL's attnum from 1
        "CREATE OR REPLACE TEMP VIEW pg_index AS SELECT k.oid AS indexrelid, "
        "k.conrelid AS indrelid, len(k.conkey) AS indnatts, len(k.conkey) AS indnkeyatts, "
        "true AS indisunique, true AS indisprimary, false AS indisexclusion, "
        "true AS indimmediate, false AS indisclustered, true AS indisvalid, "
        "false AS indcheckxmin, true AS indisready, true AS indislive, "
        "false AS indisreplident, list_transform(k.conkey, lambda i: i + 1) AS indkey, "
        "NULL::BIGINT[] AS indcollation, NULL::BIGINT[] AS indclass, "
        "NULL::INTEGER[] AS indoption, NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred "
        "FROM pg_catalog.pg_constraint k WHERE k.contype = 'p'",
        # information_schema._pg_expandarray: the elements of an array with their positions
        "CREATE OR REPLACE TEMP MACRO sqlml_expandarray(arr) AS unnest(list_transform("
        "range(1, len(arr) + 1), lambda i: {'x': arr[i], 'n': i}))",
        # A served model function is a session's macro calling the shared function with the
        # caller's key first (functions.py): one row, with the shared function's types and the
        # macro's parameter names, in the session's schema; the shared function is not listed.
        "CREATE OR REPLACE TEMP VIEW sqlml_model_functions AS SELECT m.function_oid AS oid, "
        "m.function_name AS name, u.return_type AS result, "
        "list_zip(m.parameters, u.parameter_types[2:]) AS arguments "
        "FROM duckdb_functions() m JOIN duckdb_functions() u "
        "ON u.function_name = m.function_name AND u.database_name = 'system' "
        "AND u.function_type = 'scalar' "
        "WHERE m.database_name = 'temp' AND m.function_type = 'macro' "
        "AND starts_with(m.macro_definition, '\"system\".main.' || m.function_name || '(')",
        "CREATE OR REPLACE TEMP VIEW pg_proc AS SELECT p.* REPLACE (CASE WHEN f.oid IS NULL "
        "THEN p.pronamespace ELSE (SELECT oid FROM pg_catalog.pg_namespace "
        "WHERE nspname = current_schema()) END AS pronamespace) FROM pg_catalog.pg_proc p "
        "LEFT JOIN sqlml_model_functions f ON f.oid = p.oid "
        "WHERE f.oid IS NOT NULL OR p.proname NOT IN (SELECT name FROM sqlml_model_functions)",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_result(fn) AS "
        "(SELECT sqlml_pgtype(result) FROM sqlml_model_functions WHERE oid = fn)",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(fn) AS "
        "(SELECT list_aggregate(list_transform(arguments, lambda a: a[1] || ' ' || "
        "sqlml_pgtype(a[2])), 'string_agg', ', ') FROM sqlml_model_functions WHERE oid = fn)",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_sqlbody(fn) AS NULL::VARCHAR",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_identity_arguments(fn) AS "
        "pg_get_function_arguments(fn)",
        "CREATE OR REPLACE TEMP VIEW pg_language AS SELECT * FROM (VALUES "
        "(12::BIGINT, 'internal', false), (14::BIGINT, 'sql', false)) AS l(oid, lanname, lanispl) "
        "CROSS JOIN (SELECT 10::BIGINT AS lanowner, false AS lanpltrusted, "
        "0::BIGINT AS lanplcallfoid, 0::BIGINT AS laninline, 0::BIGINT AS lanvalidator, "
        "NULL::VARCHAR[] AS lanacl)",
        "CREATE OR REPLACE TEMP VIEW pg_rewrite AS SELECT 0::BIGINT AS oid, "
        "''::VARCHAR AS rulename, 0::BIGINT AS ev_class WHERE false",
    ]


# (oid, name, length, element, array, category) of PostgreSQL types DuckDB's pg_type lacks
_EXTRA_TYPES = ", ".join(
    f"({oid}, '{name}', {length}, {element}, {array}, '{category}')"
    for oid, name, length, element, array, category in [
        (18, "char", 1, 0, 1002, "Z"), (19, "name", 64, 0, 1003, "S"), (25, "text", -1, 0, 1009, "S"),
        (26, "oid", 4, 0, 1028, "N"), (114, "json", -1, 0, 199, "U"), (3802, "jsonb", -1, 0, 3807, "U"),
        (1042, "bpchar", -1, 0, 1014, "S"), (1000, "_bool", -1, 16, 0, "A"),
        (1002, "_char", -1, 18, 0, "A"), (1003, "_name", -1, 19, 0, "A"),
        (1005, "_int2", -1, 21, 0, "A"), (1007, "_int4", -1, 23, 0, "A"), (1009, "_text", -1, 25, 0, "A"),
        (1014, "_bpchar", -1, 1042, 0, "A"), (1015, "_varchar", -1, 1043, 0, "A"),
        (1016, "_int8", -1, 20, 0, "A"), (1021, "_float4", -1, 700, 0, "A"),
        (1022, "_float8", -1, 701, 0, "A"), (1028, "_oid", -1, 26, 0, "A"),
        (1115, "_timestamp", -1, 1114, 0, "A"), (1182, "_date", -1, 1082, 0, "A"),
        (1183, "_time", -1, 1083, 0, "A"), (1185, "_timestamptz", -1, 1184, 0, "A"),
        (1187, "_interval", -1, 1186, 0, "A"), (1231, "_numeric", -1, 1700, 0, "A"),
        (199, "_json", -1, 114, 0, "A"), (2951, "_uuid", -1, 2950, 0, "A"),
        (1001, "_bytea", -1, 17, 0, "A"),
    ]
)  # fmt: skip

# The relations above, which the server's rewrite points at these (unqualified) names.
RELATIONS = (
    "pg_database", "pg_roles", "pg_user", "pg_authid", "pg_inherits", "pg_trigger", "pg_policy",
    "pg_statistic_ext", "pg_publication", "pg_publication_rel", "pg_publication_namespace",
    "pg_partitioned_table", "pg_foreign_table", "pg_rewrite", "pg_auth_members", "pg_class", "pg_index", "pg_type",
    "pg_proc", "pg_language",
)  # fmt: skip

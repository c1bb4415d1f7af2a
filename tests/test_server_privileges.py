"""Redshift's ML privileges through ``sqlml serve``, with psycopg against a real server process:
alice (granted CREATE MODEL) creates a model; bob can neither see it nor call any of its
functions until alice grants him EXECUTE, loses it on REVOKE, never drops it; a grant to a
group reaches its members; calls the statement's text does not show (a view, ``query()``,
the function's hidden parameter) are checked all the same."""

from __future__ import annotations

import time

import pytest

from tests.conftest import DATA
from tests.serving import Served

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is in the test extra")

pytestmark = pytest.mark.slow  # alice's model trains in a trainer process

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
CALL = "SELECT predict_species('Biscoe', 47.5, 'MALE')"


def connect(served: Served, user: str = "sqlml"):
    if user == "sqlml":
        return psycopg.connect(served.dsn(), autocommit=True)
    return psycopg.connect(served.dsn(user=user, password=PASSWORDS[user]), autocommit=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server where alice, granted CREATE MODEL by the superuser, has created model peng
    (READY), and bob and carol are users without privileges."""
    served = Served(tmp_path_factory.mktemp("privileges") / "shared.duckdb")
    try:
        with connect(served) as admin:
            for user, password in PASSWORDS.items():
                admin.execute(f"CREATE USER {user} PASSWORD '{password}'")
            admin.execute(
                "CREATE TABLE penguins AS SELECT * FROM read_parquet(%s)",
                ((DATA / "penguins.parquet").as_posix(),),
            )
            admin.execute("GRANT CREATE MODEL TO alice")
        with connect(served, "alice") as alice:
            alice.execute(
                "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, sex "
                "FROM penguins) TARGET species FUNCTION predict_species "
                "MODEL_TYPE LINEAR_LEARNER SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
            )
            assert wait_ready(alice, "peng") == "READY"
        yield served
    finally:
        served.stop()


def wait_ready(conn, model: str) -> str | None:
    state = None
    for _ in range(1200):  # until the trainer is done (bounded; nothing is timed)
        row = conn.execute(
            "SELECT life_cycle FROM stv_ml_model_info WHERE model_name = %s", (model,)
        ).fetchone()
        state = row[0] if row else None
        if state in ("READY", "FAILED"):
            break
        time.sleep(0.5)
    return state


def models(conn) -> set[str]:
    listed = {row[1] for row in conn.execute("SHOW MODEL ALL").fetchall()}
    catalog = {row[0] for row in conn.execute("SELECT model_name FROM stv_ml_model_info")}
    assert catalog == {row[0] for row in conn.execute("SELECT model_name FROM svv_ml_model_info")}
    assert listed == catalog
    return listed


def denied(conn, statement: str) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
        conn.execute(statement)
    assert caught.value.sqlstate == "42501"
    return str(caught.value)


def test_bob_sees_and_calls_alices_model_only_while_granted(server):
    with connect(server, "alice") as alice, connect(server, "bob") as bob:
        assert models(alice) == {"peng"}
        assert models(bob) == set()
        message = denied(bob, CALL)
        assert message == (
            'permission denied for model public.peng: user "bob" has no EXECUTE privilege on it, '
            "which calling predict_species needs. Ask its owner alice or a superuser to GRANT "
            "EXECUTE ON MODEL public.peng TO bob."
        )
        denied(bob, "SELECT predict_species_probabilities('Biscoe', 47.5, 'MALE')")
        denied(bob, "SELECT predict_species_explain(island, bill_length_mm, sex) FROM penguins")
        assert "explain_model('peng')" in denied(bob, "SELECT explain_model('peng')")
        assert "SHOW MODEL needs" in denied(bob, "SHOW MODEL peng")
        assert "EVALUATE MODEL needs" in denied(bob, "EVALUATE MODEL peng FROM penguins")

        alice.execute("GRANT EXECUTE ON MODEL peng TO bob")
        # bob's session sees it from its next statement on
        assert models(bob) == {"peng"}
        assert bob.execute(CALL).fetchone() == ("Gentoo",)
        assert bob.execute("SELECT explain_model('peng')").fetchone()[0]["explanations"]
        shown = dict(bob.execute("SHOW MODEL peng").fetchall())
        assert shown["Owner"] == "alice" and "Model Store" not in shown  # the owner's only
        assert "Model Store" in dict(alice.execute("SHOW MODEL peng").fetchall())
        granted = bob.execute(
            "SELECT namespace_name, model_name, model_version, privilege_type, identity_name, "
            "identity_type, admin_option FROM svv_ml_model_privileges"
        ).fetchall()
        assert granted == [("public", "peng", 1, "EXECUTE", "bob", "user", False)]

        alice.execute("REVOKE EXECUTE ON MODEL peng FROM bob")
        assert models(bob) == set()
        denied(bob, CALL)
        assert bob.execute("SELECT count(*) FROM svv_ml_model_privileges").fetchone() == (0,)


def test_bob_never_drops_alices_model(server):
    with connect(server, "alice") as alice, connect(server, "bob") as bob:
        alice.execute("GRANT EXECUTE ON MODEL peng TO bob")
        try:
            message = denied(bob, "DROP MODEL peng")
            assert message.startswith("permission denied to DROP MODEL public.peng")
            denied(bob, "DROP MODEL IF EXISTS peng")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="GRANT EXECUTE ON"):
                bob.execute("GRANT EXECUTE ON MODEL peng TO carol")
        finally:
            alice.execute("REVOKE EXECUTE ON MODEL peng FROM bob")
        assert models(alice) == {"peng"}


def test_a_grant_to_a_group_reaches_its_members(server):
    admin, alice, bob = connect(server), connect(server, "alice"), connect(server, "bob")
    admin.execute("CREATE GROUP analysts WITH USER carol")
    try:
        alice.execute("GRANT EXECUTE ON MODEL peng TO GROUP analysts")
        denied(bob, CALL)
        admin.execute("ALTER GROUP analysts ADD USER bob")
        assert bob.execute(CALL).fetchone() == ("Gentoo",)
        row = bob.execute("SELECT identity_name, identity_type FROM svv_ml_model_privileges")
        assert row.fetchall() == [("analysts", "group")]
        admin.execute("ALTER GROUP analysts DROP USER bob")
        denied(bob, CALL)
        with connect(server, "carol") as carol:
            assert models(carol) == {"peng"}
            denied(carol, "CREATE GROUP others")  # superusers manage groups
    finally:
        admin.execute("DROP GROUP analysts")
        for conn in (admin, alice, bob):
            conn.close()


def test_create_model_needs_the_privilege_from_a_user_role_or_public(server):
    # The FROM table does not exist: past the privilege check, CREATE MODEL fails there
    # (42000), before anything trains.
    attempt = "CREATE MODEL m2 FROM nowhere TARGET y FUNCTION f2"
    with connect(server) as admin, connect(server, "bob") as bob:
        assert denied(bob, attempt).endswith("Ask a superuser to GRANT CREATE MODEL TO bob.")
        admin.execute("CREATE ROLE modelers")
        try:
            admin.execute("GRANT CREATE MODEL TO ROLE modelers")
            admin.execute("GRANT ROLE modelers TO bob")
            with pytest.raises(psycopg.errors.SyntaxErrorOrAccessRuleViolation, match="FROM"):
                bob.execute(attempt)
        finally:
            admin.execute("DROP ROLE modelers FORCE")
        denied(bob, attempt)


def test_calls_the_statement_does_not_show_are_checked_too(server):
    with connect(server, "alice") as alice, connect(server, "bob") as bob:
        alice.execute(
            "CREATE VIEW species_guess AS "
            "SELECT predict_species(island, bill_length_mm, sex) AS s FROM penguins"
        )
        try:
            assert alice.execute("SELECT count(s) FROM species_guess").fetchone()[0] > 0
            denied(bob, "SELECT count(s) FROM species_guess")
            denied(bob, "SELECT * FROM query('SELECT predict_species(''Biscoe'', 47.5, ''MALE'')')")
            denied(bob, "SELECT explain_model(m) FROM (VALUES ('peng')) AS t(m)")
            # the function's hidden first parameter: a key that is no session's
            message = denied(bob, "SELECT system.main.predict_species('k', 'Biscoe', 47.5, 'MALE')")
            assert "call it by its name" in message
        finally:
            alice.execute("DROP VIEW species_guess")


def test_a_call_with_wrong_arguments_is_explained_as_embedded(server):
    with connect(server, "alice") as alice:
        with pytest.raises(psycopg.errors.UndefinedFunction, match="takes 3 arguments"):
            alice.execute("SELECT predict_species('Biscoe')")
        with pytest.raises(psycopg.errors.UndefinedFunction, match=r"argument 1 \(island\)"):
            alice.execute("SELECT predict_species(DATE '2024-01-01', 47.5, 'MALE')")


def test_superusers_see_everything_and_owners_are_not_dropped(server):
    with connect(server) as admin:
        assert models(admin) == {"peng"}
        shown = dict(admin.execute("SHOW MODEL peng").fetchall())
        assert shown["Owner"] == "alice" and "Model Store" in shown
        with pytest.raises(
            psycopg.errors.DependentObjectsStillExist, match="owns model public.peng"
        ):
            admin.execute("DROP USER alice")


def test_a_rollback_does_not_leave_a_session_with_stale_privileges(server):
    # What a session learns inside a transaction (its catalog views, remade there) is undone
    # by ROLLBACK; the session then learns it again.
    with connect(server, "alice") as alice, connect(server, "bob") as bob:
        bob.execute("BEGIN")
        alice.execute("GRANT EXECUTE ON MODEL peng TO bob")
        try:
            assert models(bob) == {"peng"}
            bob.execute("ROLLBACK")
            assert models(bob) == {"peng"}
            assert bob.execute(CALL).fetchone() == ("Gentoo",)
        finally:
            alice.execute("REVOKE EXECUTE ON MODEL peng FROM bob")

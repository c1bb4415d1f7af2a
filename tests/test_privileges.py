"""Privileges, groups and roles without a server: the statements are accepted and stored in the
model store by an embedded connection, which they do not restrict; and the rules a served
session is held to (``sqlml.access``), read from the same stores. The server's side, with real
clients: test_server_privileges.py."""

from __future__ import annotations

import pytest

import sqlml
from sqlml import errors
from sqlml.access import Access
from sqlml.store.privileges import PrivilegeStore
from tests.conftest import load


def run(conn, text: str) -> list:
    """Every result of a script: (tag, notices)."""
    return [(r.tag, list(r.notices)) for r in conn.run(text)]


@pytest.fixture
def embedded(tmp_path):
    with sqlml.connect(tmp_path / "db.duckdb", synchronous=True) as conn:
        run(
            conn,
            "CREATE USER boss PASSWORD 'x' SUPERUSER; CREATE USER alice PASSWORD 'x'; "
            "CREATE USER bob PASSWORD 'x'; CREATE USER carol PASSWORD 'x'",
        )
        yield conn


def access(conn, user: str) -> Access:
    return Access(user, conn.users, conn.privileges)


def model(name: str = "churn", owner: str | None = "alice", schema: str = "main") -> dict:
    """A model as its manifest names it (what the rules read of one)."""
    return {"schema": schema, "name": name, "owner_user": owner}


@pytest.mark.parametrize(
    ("cls", "sqlstate"),
    [
        (errors.RoleNotFound, "42704"),
        (errors.RoleAlreadyExists, "42710"),
        (errors.DependentObjectsExist, "2BP01"),
        (errors.InvalidGrantOperation, "0LP01"),
    ],
)
def test_the_new_errors_have_their_sqlstates(cls, sqlstate):
    assert cls.sqlstate == sqlstate and issubclass(cls, sqlml.SqlmlError)


def test_groups_roles_and_grants_are_stored_in_the_model_store(embedded):
    tags = run(
        embedded,
        "CREATE GROUP analysts WITH USER bob; ALTER GROUP analysts ADD USER carol; "
        "CREATE ROLE ml_admin; GRANT CREATE MODEL, DROP MODEL TO ROLE ml_admin; "
        "GRANT ROLE ml_admin TO alice WITH ADMIN OPTION; GRANT CREATE MODEL TO GROUP analysts",
    )
    assert [t for t, _ in tags] == [
        "CREATE ROLE", "ALTER ROLE", "CREATE ROLE", "GRANT", "GRANT ROLE", "GRANT",
    ]  # fmt: skip
    stored = PrivilegeStore(embedded.store).read()
    assert stored.groups == {"analysts": ["bob", "carol"]}
    assert stored.roles == {"ml_admin": {"owner": None}}
    assert stored.member("ml_admin", ("user", "alice"))["admin_option"] is True
    assert stored.holds("carol", "CREATE MODEL") and stored.holds("alice", "DROP MODEL")
    assert not stored.holds("boss", "CREATE MODEL")
    assert (embedded.store.root / "privileges.json").stat().st_mode & 0o777 == 0o600
    # the same statements in another connection (another process would do the same) see it
    with sqlml.connect(embedded.engine.path) as other:
        assert other.privileges.read().groups == stored.groups


def test_every_name_a_statement_gives_must_exist(embedded):
    with pytest.raises(errors.UserNotFound, match='User "dave" does not exist'):
        run(embedded, "GRANT CREATE MODEL TO dave")
    with pytest.raises(errors.RoleNotFound, match='Group "nobody" does not exist'):
        run(embedded, "GRANT CREATE MODEL TO GROUP nobody")
    with pytest.raises(errors.RoleNotFound, match=r'Role "r" does not exist \(roles: none\)'):
        run(embedded, "GRANT ROLE r TO bob")
    with pytest.raises(errors.ModelNotFound, match="Model main.nope does not exist"):
        run(embedded, "GRANT EXECUTE ON MODEL nope TO bob")
    with pytest.raises(errors.UserNotFound):
        run(embedded, "CREATE GROUP g WITH USER bob, dave")
    run(embedded, "CREATE GROUP g; CREATE ROLE r")
    with pytest.raises(errors.RoleAlreadyExists):
        run(embedded, "CREATE GROUP g")
    with pytest.raises(errors.RoleAlreadyExists):
        run(embedded, "CREATE ROLE r")
    assert PrivilegeStore(embedded.store).read().grants == []  # nothing half-done


def test_revoking_what_was_not_granted_is_a_notice(embedded):
    [(tag, notices)] = run(embedded, "REVOKE CREATE MODEL FROM PUBLIC")
    assert tag == "REVOKE"
    assert notices == [
        "REVOKE: nothing to revoke for CREATE MODEL from PUBLIC: it was not granted."
    ]


def test_dropping_a_group_or_role_takes_its_grants_and_memberships(embedded):
    run(
        embedded,
        "CREATE GROUP g WITH USER bob; GRANT CREATE MODEL TO GROUP g; CREATE ROLE r; "
        "GRANT CREATE MODEL TO ROLE r; GRANT ROLE r TO carol",
    )
    with pytest.raises(errors.DependentObjectsExist, match="it is granted to user carol"):
        run(embedded, "DROP ROLE r")
    [(_, notices)] = run(embedded, "DROP ROLE r FORCE")
    assert notices == ["DROP ROLE r: the 1 privilege granted to it went with it."]
    run(embedded, "DROP GROUP g")
    stored = PrivilegeStore(embedded.store).read()
    assert stored.grants == [] and stored.members == [] and stored.groups == {}
    # a new group of the same name starts with nothing
    run(embedded, "CREATE GROUP g WITH USER bob")
    assert not PrivilegeStore(embedded.store).read().holds("bob", "CREATE MODEL")


def test_a_dropped_user_leaves_no_privileges_behind(embedded):
    run(embedded, "CREATE GROUP g WITH USER bob; GRANT CREATE MODEL TO bob; DROP USER bob")
    run(embedded, "CREATE USER bob PASSWORD 'y'")
    stored = PrivilegeStore(embedded.store).read()
    assert stored.grants == [] and stored.groups == {"g": []}
    assert not stored.holds("bob", "CREATE MODEL")


def test_a_role_cannot_be_granted_to_itself(embedded):
    run(embedded, "CREATE ROLE a; CREATE ROLE b; GRANT ROLE a TO ROLE b")
    with pytest.raises(errors.InvalidGrantOperation, match="cannot be granted to itself"):
        run(embedded, "GRANT ROLE b TO ROLE a")
    with pytest.raises(errors.InvalidGrantOperation):
        run(embedded, "GRANT ROLE a TO ROLE a")


# -- the rules of a served session ----------------------------------------------------------------


def test_create_model_needs_the_privilege_from_the_user_a_group_a_role_or_public(embedded):
    bob, carol = access(embedded, "bob"), access(embedded, "carol")
    with pytest.raises(errors.InsufficientPrivilege) as caught:
        bob.require_create("main.m")
    assert str(caught.value) == (
        'permission denied to CREATE MODEL main.m: user "bob" has no CREATE MODEL privilege. '
        "Ask a superuser to GRANT CREATE MODEL TO bob."
    )
    run(embedded, "CREATE GROUP g WITH USER bob; GRANT CREATE MODEL TO GROUP g")
    bob.refresh()
    bob.require_create("main.m")
    with pytest.raises(errors.InsufficientPrivilege):
        carol.require_create("main.m")
    run(embedded, "CREATE ROLE r; GRANT CREATE MODEL TO ROLE r; GRANT ROLE r TO carol")
    carol.refresh()
    carol.require_create("main.m")
    run(embedded, "REVOKE ROLE r FROM carol; GRANT CREATE MODEL TO PUBLIC")
    carol.refresh()
    carol.require_create("main.m")  # as everybody now
    access(embedded, "boss").require_create("main.m")  # superusers always


def test_a_model_is_its_owners_and_executed_by_those_granted_it(embedded):
    alice, bob, boss = (access(embedded, u) for u in ("alice", "bob", "boss"))
    churn = model("churn", owner="alice")
    assert alice.may_execute(churn) and alice.administers(churn) and boss.may_execute(churn)
    with pytest.raises(errors.InsufficientPrivilege) as caught:
        bob.require_execute(churn, "calling predict_churn")
    assert str(caught.value) == (
        'permission denied for model main.churn: user "bob" has no EXECUTE privilege on it, '
        "which calling predict_churn needs. Ask its owner alice or a superuser to GRANT "
        "EXECUTE ON MODEL main.churn TO bob."
    )
    with embedded.privileges.change() as privileges:  # as GRANT EXECUTE ON MODEL stores it
        privileges.grant("EXECUTE", ("Main", "CHURN"), ("user", "bob"))
    bob.refresh()
    assert bob.may_execute(churn) and not bob.administers(churn)
    assert not bob.may_execute(model("churn", schema="other"))
    with pytest.raises(errors.InsufficientPrivilege, match="only its owner alice or a superuser"):
        bob.require_grant_execute(churn, "GRANT")
    with pytest.raises(errors.InsufficientPrivilege, match="DROP MODEL main.churn"):
        bob.require_drop(churn)
    alice.require_drop(churn)
    boss.require_drop(churn)


def test_a_model_created_without_a_user_is_the_superusers(embedded):
    old = model("legacy", owner=None)
    with pytest.raises(errors.InsufficientPrivilege, match="Ask a superuser \\(who owns it\\)"):
        access(embedded, "alice").require_execute(old, "SHOW MODEL")
    with pytest.raises(errors.InsufficientPrivilege):
        access(embedded, "alice").require_drop(old)
    access(embedded, "boss").require_drop(old)
    Access(None, embedded.users, embedded.privileges).require_drop(old)  # embedded: anyone


def test_drop_model_permission_comes_with_a_role(embedded):
    bob = access(embedded, "bob")
    churn = model("churn", owner="alice")
    run(embedded, "CREATE ROLE cleaner; CREATE ROLE janitor; GRANT DROP MODEL TO ROLE cleaner")
    run(embedded, "GRANT ROLE cleaner TO ROLE janitor; GRANT ROLE janitor TO bob")
    bob.refresh()
    bob.require_drop(churn)  # through janitor, which has cleaner
    assert not bob.may_execute(churn)  # dropping is not using


def test_grant_options_let_users_grant_on(embedded):
    bob = access(embedded, "bob")
    run(embedded, "GRANT CREATE MODEL TO bob")
    bob.refresh()
    with pytest.raises(errors.InsufficientPrivilege, match="WITH GRANT OPTION"):
        bob.require_grant_create("GRANT")
    run(embedded, "GRANT CREATE MODEL TO bob WITH GRANT OPTION")
    bob.refresh()
    bob.require_grant_create("GRANT")
    run(embedded, "REVOKE GRANT OPTION FOR CREATE MODEL FROM bob")
    bob.refresh()
    assert embedded.privileges.read().holds("bob", "CREATE MODEL")
    with pytest.raises(errors.InsufficientPrivilege):
        bob.require_grant_create("GRANT")
    run(embedded, "CREATE ROLE r; GRANT ROLE r TO carol WITH ADMIN OPTION")
    carol = access(embedded, "carol")
    carol.require_role_admin("r", "GRANT")
    with pytest.raises(errors.InsufficientPrivilege, match="GRANT ROLE r"):
        bob.require_role_admin("r", "GRANT")
    with pytest.raises(errors.InsufficientPrivilege, match="only a superuser may"):
        bob.require_superuser("CREATE GROUP")


def test_a_user_connection_must_be_served(tmp_path):
    with pytest.raises(sqlml.SqlmlError, match="served=True"):
        sqlml.Connection(str(tmp_path / "x.duckdb"), user="alice")


@pytest.mark.slow
def test_an_embedded_connection_is_not_restricted(embedded):
    load(embedded, "penguins")
    run(embedded, "REVOKE CREATE MODEL FROM PUBLIC")  # nobody was granted anything
    run(
        embedded,
        "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, sex FROM penguins) "
        "TARGET species FUNCTION predict_species MODEL_TYPE LINEAR_LEARNER "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)",
    )
    info = dict(embedded.execute("SHOW MODEL peng").fetchall())
    assert info["Owner"] and "Model Store" in info  # the account that ran it; everything shown
    run(embedded, "GRANT EXECUTE ON MODEL peng TO bob")
    rows = embedded.execute(
        "SELECT namespace_name, model_name, model_version, privilege_type, identity_name, "
        "identity_type, admin_option FROM svv_ml_model_privileges"
    ).fetchall()
    assert rows == [("main", "peng", 1, "EXECUTE", "bob", "user", False)]
    run(embedded, "REVOKE EXECUTE ON MODEL peng FROM bob")
    assert embedded.execute("SELECT predict_species('Biscoe', 47.5, 'MALE')").fetchone()
    assert [m for (_, m, *_) in embedded.execute("SHOW MODEL ALL").fetchall()] == ["peng"]
    run(embedded, "GRANT EXECUTE ON MODEL peng TO carol; DROP MODEL peng")
    assert embedded.privileges.read().grants == []  # the model's grants went with it

"""One handler per ML statement: ``HANDLERS`` maps a statement's type to the function that runs
it, given the session (its engine, model store and settings) and the typed statement, and
returning a :class:`~sqlml.results.StatementResult`."""

from __future__ import annotations

from sqlml.sql import ast
from sqlml.statements.create_direct import create_external_model_statement
from sqlml.statements.create_model import create_model_statement
from sqlml.statements.drop_model import drop_model
from sqlml.statements.evaluate_model import evaluate_model
from sqlml.statements.export_model import export_model
from sqlml.statements.load import copy_from, unload
from sqlml.statements.privileges import (
    alter_group,
    create_group,
    create_role,
    drop_group,
    drop_role,
    grant_privileges,
    grant_role,
    revoke_privileges,
    revoke_role,
)
from sqlml.statements.procedures import call_procedure, create_procedure, drop_procedure
from sqlml.statements.show_model import show_model, show_models
from sqlml.statements.users import alter_user, create_user, drop_user

HANDLERS = {
    ast.CreateModel: create_model_statement,
    ast.CreateExternalModel: create_external_model_statement,
    ast.ShowModel: show_model,
    ast.ShowModelAll: show_models,
    ast.DropModel: drop_model,
    ast.EvaluateModel: evaluate_model,
    ast.ExportModel: export_model,
    ast.CreateUser: create_user,
    ast.AlterUser: alter_user,
    ast.DropUser: drop_user,
    ast.GrantPrivileges: grant_privileges,
    ast.RevokePrivileges: revoke_privileges,
    ast.GrantRole: grant_role,
    ast.RevokeRole: revoke_role,
    ast.CreateGroup: create_group,
    ast.AlterGroup: alter_group,
    ast.DropGroup: drop_group,
    ast.CreateRole: create_role,
    ast.DropRole: drop_role,
    ast.CopyFrom: copy_from,
    ast.Unload: unload,
    ast.CreateProcedure: create_procedure,
    ast.DropProcedure: drop_procedure,
    ast.CallProcedure: call_procedure,
}

__all__ = ["HANDLERS"]

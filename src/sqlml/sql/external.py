"""``CREATE EXTERNAL MODEL`` (reference §3): Redshift's statement for LLMs served elsewhere.

``CREATE EXTERNAL MODEL m FUNCTION fn [IAM_ROLE { default | 'arn' }] MODEL_TYPE { BEDROCK |
OPENAI } SETTINGS (MODEL_ID '...', PROMPT '...', SUFFIX '...', REQUEST_TYPE RAW | UNIFIED,
RESPONSE_TYPE VARCHAR | SUPER, ENDPOINT 'http://host:port/v1', API_KEY_ENV 'VAR', ...)``; the
clauses in any order, each once. Parsing only: kinds/external.py checks what they mean.
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from sqlml.sql import ast

MODEL_TYPES = ("BEDROCK", "OPENAI")


def parse_create_external_model(parser) -> ast.CreateExternalModel:
    parser.expect_word("MODEL")
    fields: dict[str, object] = {"name": parser.name("a model name after CREATE EXTERNAL MODEL")}
    seen: set[str] = set()
    while parser.peek() is not None:
        tok, word = parser.peek(), parser.peek_word()
        if word not in _CLAUSES:
            from sqlml import settings as S

            parser.fail(
                f"Unknown CREATE EXTERNAL MODEL clause.{S.did_you_mean(word or '', _CLAUSES)} "
                "It takes FUNCTION, IAM_ROLE, MODEL_TYPE and SETTINGS"
            )
        if word in seen:
            parser.fail(f"The {word} clause is given twice")
        seen.add(word)
        parser.advance()
        fields.update(_CLAUSES[word](parser, tok))
    if "function" not in fields:
        parser.fail("CREATE EXTERNAL MODEL needs a FUNCTION clause naming its function", None)
    fields.setdefault("model_type", None)
    return ast.CreateExternalModel(**fields, text=parser.chunk.text.strip())


def _function(parser, _kw) -> dict:
    name = parser.name("a function name after FUNCTION")
    tok = parser.peek()
    if tok is not None and tok.token_type == TokenType.L_PAREN:
        parser.fail(
            "An external model's function takes no declared types (it takes the input text, "
            "and optionally an inference configuration): write FUNCTION " + str(name)
        )
    return {"function": name}


def _model_type(parser, _kw) -> dict:
    from sqlml import settings as S

    tok, word = parser.peek(), parser.peek_word()
    if word not in MODEL_TYPES:
        parser.fail(
            f"Unknown MODEL_TYPE for CREATE EXTERNAL MODEL.{S.did_you_mean(word or '', MODEL_TYPES)}"
            f" Valid model types: {', '.join(MODEL_TYPES)}",
            tok,
        )
    parser.advance()
    return {"model_type": word}


def _iam_role(parser, kw) -> dict:
    return parser.clause_iam_role(kw)


def _settings(parser, kw) -> dict:
    return parser.clause_settings(kw)


_CLAUSES = {
    "FUNCTION": _function,
    "IAM_ROLE": _iam_role,
    "MODEL_TYPE": _model_type,
    "SETTINGS": _settings,
}

"""Replay the corpus: every statement of every page, in order, in one Redshift-dialect session.

Each statement ends ``ok``, ``unsupported`` (a clear "not supported yet" naming the feature) or
``failed``. ``python -m tests.redshift_docs.replay`` prints the counts by part (the figures of
issue 21's note); tests/test_redshift_docs.py asserts on the outcomes.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).parent
PARTS = ("table_prep", "create_model", "show_drop", "prediction", "probability", "privileges")


CHURN_FEATURES = (
    "Account_length, Area_code, VMail_message, Day_mins, Day_calls, Day_charge, Eve_mins, "
    "Eve_calls, Eve_charge, Night_mins, Night_calls, Night_charge, Intl_mins, Intl_calls, "
    "Intl_charge, Cust_serv_calls"
)

# Statements broken on the page itself, which Redshift would refuse too: the smallest fix, and
# why. The replay runs the fixed text and reports the step as run with an erratum.
ERRATA = {
    ("08_probability_metrics", 1): (
        "the page writes IAM_ROLE {default}, leaves SETTINGS ( unclosed, and trains FROM the whole "
        "table while its examples call the functions with 16 columns: FROM those 16 and churn",
        lambda t: (
            t.replace("IAM_ROLE {default}", "IAM_ROLE default")
            .replace("'<DOC-EXAMPLE-BUCKET>';", "'<DOC-EXAMPLE-BUCKET>');")
            .replace(
                "FROM customer_activity",
                f"FROM (SELECT {CHURN_FEATURES}, churn FROM customer_activity)",
            )
        ),
    ),
    ("08_probability_metrics", 7): (
        'the page compares with "True." in double quotes, an identifier in Redshift',
        lambda t: t.replace('"True."', "'True.'"),
    ),
    ("05_multiclass_classification", 11): (
        "the page leaves out the parenthesis that opens the first query of its UNION",
        lambda t: "(" + t,
    ),
}


@dataclass
class Step:
    file: str
    number: int  # 1-based within its file
    part: str
    expect: str | None
    text: str
    outcome: str = ""
    message: str = ""
    rows: list = field(default_factory=list)
    erratum: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file} #{self.number} ({self.part})"


def steps() -> list[Step]:
    """The corpus' statements in order: files by name, statements as the pages give them."""
    out = []
    for path in sorted(CORPUS.glob("*.sql")):
        blocks = re.split(r"^-- part: *", path.read_text(encoding="utf-8"), flags=re.M)[1:]
        for number, block in enumerate(blocks, 1):
            part, _, rest = block.partition("\n")
            expect = None
            lines = rest.splitlines()
            while lines and lines[0].startswith("-- expect:"):
                expect = lines.pop(0).split(":", 1)[1].strip()
            out.append(Step(path.stem, number, part.strip(), expect, "\n".join(lines).strip()))
    return out


def replay(conn, all_steps: list[Step]) -> list[Step]:
    """Run each step on ``conn``, recording its outcome, message and (a few) rows."""
    from sqlml.errors import FeatureNotSupported, SqlmlError

    for step in all_steps:
        text = step.text
        if (step.file, step.number) in ERRATA:
            step.erratum, fix = ERRATA[(step.file, step.number)]
            text = fix(text)
            assert text != step.text, f"the erratum of {step.where} no longer applies"
        try:
            for result in conn.run(text):
                step.rows = result.arrow().to_pylist()[:5] if result.has_rows else []
            step.outcome = "ok"
        except FeatureNotSupported as e:
            step.outcome, step.message = "unsupported", str(e)
        except SqlmlError as e:
            unsupported = "not supported" in str(e)
            step.outcome, step.message = ("unsupported" if unsupported else "failed"), str(e)
    return all_steps


def counts(all_steps: list[Step]) -> str:
    """A Markdown table of outcomes by part."""
    by = Counter((s.part, s.outcome) for s in all_steps)
    lines = ["| part | ok | unsupported | failed |", "|---|---|---|---|"]
    for part in PARTS:
        lines.append(
            f"| {part} | {by[(part, 'ok')]} | {by[(part, 'unsupported')]} | "
            f"{by[(part, 'failed')]} |"
        )
    total = Counter(s.outcome for s in all_steps)
    errata = sum(1 for s in all_steps if s.erratum)
    lines.append(f"| all | {total['ok']} | {total['unsupported']} | {total['failed']} |")
    lines.append(f"\n({errata} statements run with an erratum: ERRATA in replay.py)")
    return "\n".join(lines)


def main() -> int:  # pragma: no cover - a report for people
    import tempfile

    import sqlml

    with tempfile.TemporaryDirectory() as tmp:
        from tests.redshift_docs.serving import objects_in_s3

        with objects_in_s3(Path(tmp)):
            conn = sqlml.connect(
                Path(tmp) / "docs.duckdb",
                dialect="redshift",
                synchronous=True,
                default_settings={"MAX_RUNTIME": 20, "MAX_TRIALS": 4},
            )
            done = replay(conn, steps())
    print(counts(done))
    for step in done:
        if step.outcome != "ok":
            print(f"{step.outcome:12} {step.where}: {step.message.splitlines()[0][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""[ext] integer aliases of accounts, computers and printers for the PrintNode-compatible
API (PrintNode's ids are integers; ours are opaque strings; jobs use their ``seq``), and
the ``source`` of the jobs made there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the column naming the object, the object's table)
_ALIASES = (
    ("printnode_account_ids", "account_id", "accounts"),
    ("printnode_computer_ids", "computer_id", "computers"),
    ("printnode_printer_ids", "printer_id", "printers"),
)


def upgrade() -> None:
    for name, column, target in _ALIASES:
        op.create_table(
            name,
            sa.Column(
                "seq",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                autoincrement=True,
                nullable=False,
            ),
            sa.Column(column, sa.String(length=40), nullable=False),
            sa.ForeignKeyConstraint(
                [column],
                [f"{target}.id"],
                name=op.f(f"fk_{name}_{column}_{target}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("seq", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint(column, name=op.f(f"uq_{name}_{column}")),
            sqlite_autoincrement=True,
        )
    op.create_table(
        "printnode_job_sources",
        sa.Column("job_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_seq"],
            ["print_jobs.seq"],
            name=op.f("fk_printnode_job_sources_job_seq_print_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_seq", name=op.f("pk_printnode_job_sources")),
    )


def downgrade() -> None:
    op.drop_table("printnode_job_sources")
    for name, _, _ in reversed(_ALIASES):
        op.drop_table(name)

"""a computer is (account, machine id) when its client sends one; how a job was sent
(resumable or not); documents the server downloaded for clients that do not fetch

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITHOUT_MACHINE = sa.text("machine_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("computers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("machine_id", sa.String(length=200), nullable=True))
        batch_op.drop_constraint("uq_computers_account_id", type_="unique")
        batch_op.create_unique_constraint("uq_computers_account_id", ["account_id", "machine_id"])
        batch_op.create_index(
            "uq_computers_account_id_name_without_machine",
            ["account_id", "name"],
            unique=True,
            sqlite_where=_WITHOUT_MACHINE,
            postgresql_where=_WITHOUT_MACHINE,
        )
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_resumable", sa.Boolean(), nullable=True))
    with op.batch_alter_table("print_job_contents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fetched", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("print_job_contents", schema=None) as batch_op:
        batch_op.drop_column("fetched")
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_column("sent_resumable")
    with op.batch_alter_table("computers", schema=None) as batch_op:
        batch_op.drop_index("uq_computers_account_id_name_without_machine")
        batch_op.drop_constraint("uq_computers_account_id", type_="unique")
        batch_op.create_unique_constraint("uq_computers_account_id", ["account_id", "name"])
        batch_op.drop_column("machine_id")

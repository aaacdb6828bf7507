"""[ext] printers' share tokens: print to one printer over IPP (``/ipp/share/<token>``)
without an API key; only the token's SHA-256 is stored, at most one live per printer

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "printer_share_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("printer_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_printer_share_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["printer_id"],
            ["printers.id"],
            name=op.f("fk_printer_share_tokens_printer_id_printers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_printer_share_tokens_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_printer_share_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_printer_share_tokens_token_hash")),
    )
    with op.batch_alter_table("printer_share_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_printer_share_tokens_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_printer_share_tokens_printer_id"), ["printer_id"], unique=False
        )
        batch_op.create_index(
            "uq_printer_share_tokens_live_printer",
            ["printer_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade() -> None:
    op.drop_table("printer_share_tokens")

"""index webhook deliveries by event, for pruning events; computers by account and state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("computers", schema=None) as batch_op:
        batch_op.create_index("ix_computers_account_state", ["account_id", "state"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_event_seq"), ["event_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("computers", schema=None) as batch_op:
        batch_op.drop_index("ix_computers_account_state")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_event_seq"))

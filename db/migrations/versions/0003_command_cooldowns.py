"""Per-user cooldown windows shared by every bot process (several processes, one shard range each).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_cooldowns",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("window_start", sa.Double(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_command_cooldowns")),
    )
    op.create_index("ix_command_cooldowns_window_start", "command_cooldowns", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_command_cooldowns_window_start", table_name="command_cooldowns")
    op.drop_table("command_cooldowns")

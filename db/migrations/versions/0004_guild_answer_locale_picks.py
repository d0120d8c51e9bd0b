"""Per-server settings of the open issues: default answer privacy, discovery language, titles per discovery post.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.add_column(sa.Column("answers_private", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("discovery_picks", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.drop_column("discovery_picks")
        batch.drop_column("locale")
        batch.drop_column("answers_private")

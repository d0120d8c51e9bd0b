"""Ratings, guild settings and bot meta.

Revision ID: 0001
Revises:
Create Date: 2024-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title_id", sa.String(length=128), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value IN (-1, 1)", name=op.f("ck_ratings_value")),
        sa.PrimaryKeyConstraint("user_id", "title_id", name=op.f("pk_ratings")),
    )
    op.create_index("ix_ratings_user_id_updated_at", "ratings", ["user_id", "updated_at"])
    op.create_index("ix_ratings_title_id_value", "ratings", ["title_id", "value"])

    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("discovery_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("discovery_every_hours", sa.Integer(), server_default=sa.text("24"), nullable=False),
        sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adult_allowed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("discovery_disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_settings")),
    )
    op.create_index("ix_guild_settings_next_post_at", "guild_settings", ["next_post_at"])

    op.create_table(
        "bot_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_meta")),
    )


def downgrade() -> None:
    op.drop_table("bot_meta")
    op.drop_index("ix_guild_settings_next_post_at", table_name="guild_settings")
    op.drop_table("guild_settings")
    op.drop_index("ix_ratings_title_id_value", table_name="ratings")
    op.drop_index("ix_ratings_user_id_updated_at", table_name="ratings")
    op.drop_table("ratings")

"""Shown titles, discovery posts and guild members.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shown_titles",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title_id", sa.String(length=128), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "title_id", name=op.f("pk_shown_titles")),
    )
    op.create_index("ix_shown_titles_title_id", "shown_titles", ["title_id"])

    op.create_table(
        "discovery_posts",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title_id", sa.String(length=128), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "title_id", name=op.f("pk_discovery_posts")),
    )

    op.create_table(
        "guild_members",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_guild_members")),
    )
    op.create_index("ix_guild_members_user_id", "guild_members", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_guild_members_user_id", table_name="guild_members")
    op.drop_table("guild_members")
    op.drop_table("discovery_posts")
    op.drop_index("ix_shown_titles_title_id", table_name="shown_titles")
    op.drop_table("shown_titles")

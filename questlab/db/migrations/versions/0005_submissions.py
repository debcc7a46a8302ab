"""submissions and editor drafts; notifications may point at a submission (regrade)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 21:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quest", sa.String(length=80), nullable=False),
        sa.Column("lesson_key", sa.String(length=200), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("results_json", sa.Text(), nullable=False),
        sa.Column("diagnoses", sa.String(length=500), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("checks_version", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("regraded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_submissions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submissions_user_lesson", ["user_id", "quest", "lesson_key", "created_at"], unique=False
        )
    op.create_table(
        "exercise_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quest", sa.String(length=80), nullable=False),
        sa.Column("lesson_key", sa.String(length=200), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exercise_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_drafts")),
        sa.UniqueConstraint("user_id", "quest", "lesson_key", name="uq_exercise_drafts_user_quest_lesson"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("comment_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_submission_id_submissions"),
            "submissions",
            ["submission_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE comment_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notifications_submission_id_submissions"), type_="foreignkey")
        batch_op.drop_column("submission_id")
        batch_op.alter_column("comment_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("exercise_drafts")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_user_lesson")
    op.drop_table("submissions")

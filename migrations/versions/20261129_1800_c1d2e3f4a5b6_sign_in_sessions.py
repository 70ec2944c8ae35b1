"""sign-in and sessions: server-side sessions, sign-in throttling

Revision ID: c1d2e3f4a5b6
Revises: b8c0d6e4f3a5
Create Date: 2026-11-29 18:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'c1d2e3f4a5b6'
down_revision = 'b8c0d6e4f3a5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

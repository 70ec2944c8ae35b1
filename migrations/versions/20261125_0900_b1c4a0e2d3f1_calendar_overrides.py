"""calendar overrides (administrator corrections of the working-day calendar)

Revision ID: b1c4a0e2d3f1
Revises: 72918d20c0ce
Create Date: 2026-11-25 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1c4a0e2d3f1'
down_revision = '72918d20c0ce'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""chat unread counters

Revision ID: f05485eb2460
Revises: c0b08c57ff29
Create Date: 2026-11-29 14:27:35.592439+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f05485eb2460'
down_revision: str | Sequence[str] | None = 'c0b08c57ff29'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_unread', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('store_unread', sa.Integer(), server_default='0', nullable=False))
    # Counted once from the messages, as the code counted them on every view before.
    op.execute(
        "UPDATE chat_conversation SET"
        " buyer_unread = (SELECT count(*) FROM chat_message m"
        "  WHERE m.conversation_id = chat_conversation.id AND m.sender_side <> 'buyer'"
        "  AND m.seq > chat_conversation.buyer_read_seq),"
        " store_unread = (SELECT count(*) FROM chat_message m"
        "  WHERE m.conversation_id = chat_conversation.id AND m.sender_side = 'buyer'"
        "  AND m.seq > chat_conversation.store_read_seq)")
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_chat_conversation_unread_not_negative'),
                                         'buyer_unread >= 0 AND store_unread >= 0')


def downgrade() -> None:
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_chat_conversation_unread_not_negative'), type_='check')
        batch_op.drop_column('store_unread')
        batch_op.drop_column('buyer_unread')

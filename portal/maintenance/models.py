from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import UTCDateTime, db
from portal.core.timeutil import utcnow


class Anonymisation(db.Model):
    """That an admin removed a departed person's identity: the audit trail of a change that cannot
    be undone. It holds ids only, never the name or email that were removed."""

    __tablename__ = "anonymisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

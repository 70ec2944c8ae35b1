"""Administrator corrections of the working-day calendar (法定节假日 and 调休 make-up working days)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class DayKind(str, enum.Enum):
    HOLIDAY = "holiday"  # a rest day, even on a weekday (法定节假日)
    WORKDAY = "workday"  # a working day, even on a weekend (调休上班)


class CalendarOverride(db.Model):
    """One day whose status the administrator set; it wins over the package's data."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarYear(db.Model):
    """A year whose official schedule the administrator loaded whole: its dates are no longer estimated."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    source: Mapped[str] = mapped_column(Text, default="")
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

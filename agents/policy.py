"""The escalation policy: when the bot must hand a conversation to a human, set by each tenant's admin."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Annotated

import msgspec

from core.errors import InvalidInputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class OpeningHours(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    opens: str
    """HH:MM, 24-hour clock, local time."""
    closes: str


class BusinessHours(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """When humans answer. Outside these hours the bot still opens the ticket and says when they return."""

    timezone: str = "America/Sao_Paulo"
    weekly: dict[str, list[OpeningHours]] = msgspec.field(default_factory=dict)
    """Weekday (mon … sun) → its opening intervals; a missing day is closed."""
    holidays: list[datetime.date] = msgspec.field(default_factory=list)

    def check(self, where: str) -> None:
        """InvalidInputError naming the field under ``where`` (e.g. ``business_hours.timezone``)."""
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError(f"{where}.timezone", f"unknown time zone {self.timezone!r}") from exc
        for day, intervals in self.weekly.items():
            if day not in WEEKDAYS:
                raise InvalidInputError(f"{where}.weekly", f"{day!r} is not one of {WEEKDAYS}")
            for index, hours in enumerate(intervals):
                for name in ("opens", "closes"):
                    if not _CLOCK.match(getattr(hours, name)):
                        raise InvalidInputError(
                            f"{where}.weekly.{day}[{index}].{name}", "use HH:MM on a 24-hour clock"
                        )
                if hours.opens >= hours.closes:
                    raise InvalidInputError(
                        f"{where}.weekly.{day}", f"opens {hours.opens} is not before {hours.closes}"
                    )

    def is_open(self, moment: datetime.datetime) -> bool:
        local = moment.astimezone(zoneinfo.ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.strftime("%H:%M")
        return any(h.opens <= now < h.closes for h in self.weekly.get(WEEKDAYS[local.weekday()], []))

    def next_opening(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The next time humans are back (local time), within two weeks; None if never."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        for offset in range(15):
            day = local.date() + datetime.timedelta(days=offset)
            if day in self.holidays:
                continue
            for hours in sorted(self.weekly.get(WEEKDAYS[day.weekday()], []), key=lambda h: h.opens):
                hour, minute = map(int, hours.opens.split(":"))
                opening = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)
                if opening > local:
                    return opening
        return None


class EscalationPolicy(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Each rule hands off when it fires; the decision record names the one that did."""

    always_escalate_intents: list[str] = msgspec.field(default_factory=lambda: ["human_agent"])
    sentiment_threshold: Annotated[float, msgspec.Meta(ge=-1.0, le=1.0)] = -0.7
    """At or below this sentiment score (-1 furious … 1 delighted) the customer goes to a human."""
    churn_threshold: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.8
    """At or above this churn risk the customer goes to a human."""
    min_retrieval_confidence: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    """Below this the best passage does not answer; None uses ATENDE_MIN_RELEVANCE."""
    max_bot_turns: Annotated[int, msgspec.Meta(ge=1, le=100)] = 6
    """Bot answers in a row without the customer saying it is solved (thanks, bye) before a human steps in."""
    business_hours: BusinessHours | None = None
    """None: humans are always there."""

    def __post_init__(self) -> None:
        if self.business_hours is not None:
            self.business_hours.check("business_hours")

    def retrieval_threshold(self, default: float) -> float:
        return default if self.min_retrieval_confidence is None else self.min_retrieval_confidence


def policy_from_builtins(raw: object) -> EscalationPolicy:
    """Validate a policy from JSON-like data; a bad field raises InvalidInputError naming it."""
    try:
        return msgspec.convert(raw, EscalationPolicy)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(*validation_field(exc, "policy")) from exc


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def validation_field(error: msgspec.ValidationError, whole: str) -> tuple[str, str]:
    """msgspec says "Expected `float`, got `str` - at `$.sentiment_threshold`": the field, then why."""
    reason, _, path = str(error).partition(" - at `")
    field = path.rstrip("`").removeprefix("$").removeprefix(".")
    unknown = _UNKNOWN_FIELD.search(reason)
    if unknown:
        field = f"{field}.{unknown.group(1)}" if field else unknown.group(1)
        reason = "is not a setting"
    return field or whole, reason

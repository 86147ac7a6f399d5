"""Times as a reader of the channel wants them: in the configured zone, with its abbreviation.

The month names are ours, not the locale's (`%b` follows LC_TIME, which a service may set to
anything), so a message reads the same on every machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def aware(moment: datetime) -> datetime:
    """`moment` with a zone: a naive value is read as UTC (what the model promises), so that
    times of one message compare whichever way they were made."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local(moment: datetime, zone: tzinfo) -> datetime:
    """`moment` in `zone`; a naive value is read as UTC (what the model promises). Total: a
    moment the zone cannot hold (a feed's 9999-12-31T23:30Z is past datetime.max in Paris)
    stays in UTC, whose label then says so, or else in its own offset."""
    moment = aware(moment)
    for target in (zone, UTC):
        try:
            return moment.astimezone(target)
        except (OverflowError, ValueError):
            continue
    return moment


def zone_label(moment: datetime) -> str:
    """The zone's abbreviation at that moment ("CET", "CEST"); zones without one ("-03" in
    the tz database) and fixed offsets read as "UTC-03" or "UTC+05:30"."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}" + (f":{rest:02d}" if rest else "")


def full_time(moment: datetime, zone: tzinfo) -> str:
    """The date and time with the zone: "4 Dec 2026, 09:15 CET"."""
    at = local(moment, zone)
    return f"{_date(at, with_year=True)}, {at:%H:%M} {zone_label(at)}"


def short_time(moment: datetime, zone: tzinfo, today: datetime | None) -> str:
    """The time alone ("09:15") on the same local day as `today`, else "3 Dec, 22:10" (with
    the year when it differs): a digest line, whose heading names the zone."""
    at = local(moment, zone)
    if today is not None:
        reference = local(today, zone)
        if at.date() == reference.date():
            return f"{at:%H:%M}"
        return f"{_date(at, with_year=at.year != reference.year)}, {at:%H:%M}"
    return f"{_date(at, with_year=True)}, {at:%H:%M}"


def since_time(moment: datetime, zone: tzinfo, today: datetime | None) -> str:
    """Like `short_time`, with the zone: "08:00 CET", "3 Dec, 22:10 CET"."""
    at = local(moment, zone)
    return f"{short_time(moment, zone, today)} {zone_label(at)}"


def _date(at: datetime, *, with_year: bool) -> str:
    day = f"{at.day} {_MONTHS[at.month - 1]}"
    return f"{day} {at.year}" if with_year else day

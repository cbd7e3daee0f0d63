"""Times as the reader reads them: relative in their language ("hace 3 minutos"), exact in their
time zone, and the zone itself (the account's setting, else the one the browser reported, else
UTC). Everything a time needs is worked out once per request (`clock()`), so formatting one is
a couple of Babel calls with no lookups."""
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import TIMEDELTA_UNITS, format_date, format_time, format_timedelta, get_datetime_format
from babel.numbers import format_decimal
from markupsafe import Markup, escape
from quart import g, has_request_context, request

from ..db import utcnow
from .locales import current_locale, gettext as _

ZONE_COOKIE = "tz"  # set by static/app.js from Intl.DateTimeFormat().resolvedOptions().timeZone
UTC = "UTC"
JUST_NOW = timedelta(seconds=45)
_RELATIVE: dict[tuple, str] = {}  # (locale, unit, count) → "3 minutes ago", as Babel writes it


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones() - {"localtime", "Factory"}))


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zone_names())


def zone_choices() -> list[tuple[str, str]]:
    """The edit-profile select: automatic first, then every zone by its IANA name."""
    return [("", _("Automatic"))] + [(name, name) for name in zone_names()]


def known_zone(name: str | None) -> str | None:
    return name if name and name in _known_zones() else None


def reader_zone() -> str:
    """The account's time zone, else the browser's (remembered in a cookie), else UTC."""
    if not has_request_context():
        return UTC
    user = g.get("user")
    return (known_zone(user.timezone if user is not None else None)
            or known_zone(request.cookies.get(ZONE_COOKIE)) or UTC)


class Clock:
    """The reader's language, zone and "now", for formatting many times alike."""

    def __init__(self, locale: Locale, zone: str, now: datetime):
        self.locale, self.zone_name, self.now = locale, zone, now
        self.zone = ZoneInfo(zone)
        self.today = now.astimezone(self.zone).date()
        # As Babel's format_datetime(…, "medium") puts them together, minus its lookups per call.
        self.datetime_pattern = get_datetime_format("medium", locale).replace("'", "")
        self.dates: dict[date, str] = {}  # a page's posts share a few days

    def local(self, when: datetime) -> tuple[datetime, str]:
        """`when` in the reader's zone, and its date written as they write it."""
        local = when.astimezone(self.zone)
        day = local.date()
        written = self.dates.get(day)
        if written is None:
            written = self.dates[day] = format_date(day, "medium", locale=self.locale)
        return local, written

    def relative(self, when: datetime) -> str:
        """"3 minutes ago", "hace 3 minutos"; anything within 45 seconds (or a clock a little
        ahead) is "just now"."""
        ago = self.now - when
        if ago < JUST_NOW:
            return _("just now")
        # Babel's own choice of unit and count (threshold 0.85), so that its answer, the same for
        # every time with that unit and count, is worked out once per language.
        delta = -ago
        seconds = abs(delta.days * 86400 + delta.seconds)
        for unit, per_unit in TIMEDELTA_UNITS:
            value = seconds / per_unit
            if value >= 0.85 or unit == "second":
                break
        key = (self.locale, unit, int(round(max(1, value) if unit == "second" and value > 0 else value)))
        text = _RELATIVE.get(key)
        if text is None:
            text = _RELATIVE[key] = format_timedelta(delta, add_direction=True, locale=self.locale)
        return text

    def exact(self, when: datetime) -> str:
        """The date and time in the reader's zone, the zone named: "24 nov 2026, 11:25:00 (UTC)"."""
        local, day = self.local(when)
        time = format_time(local, "medium", locale=self.locale)
        return f"{self.datetime_pattern.replace('{0}', time).replace('{1}', day)} ({self.zone_name})"

    def calendar(self, when: datetime) -> str:
        """"today at 18:40", "yesterday at 18:40", else the date: "on Nov 20, 2026 at 18:40"."""
        local, day = self.local(when)
        time = format_time(local, "short", locale=self.locale)
        days = (self.today - local.date()).days
        if days == 0:
            return _("today at %(time)s", time=time)
        if days == 1:
            return _("yesterday at %(time)s", time=time)
        return _("on %(date)s at %(time)s", date=day, time=time)

    def tag(self, when: datetime, text: str) -> Markup:
        # An f-string of escaped parts: Markup.format costs as much as the rest put together.
        return Markup(f'<time datetime="{when.isoformat()}" title="{escape(self.exact(when))}">'
                      f'{escape(text)}</time>')


def clock() -> Clock:
    """This request's Clock (a new one inside `speaking()`, whose language differs)."""
    locale = current_locale()
    found = g.get("clock")
    if found is None or found.locale is not locale:
        found = g.clock = Clock(locale, reader_zone(), utcnow())
    return found


def relative_time(when: datetime | None) -> Markup:
    """A <time> showing how long ago `when` was, with the exact time in its title."""
    if when is None:
        return Markup("")
    reader = clock()
    return reader.tag(when, reader.relative(when))


def calendar_time(when: datetime | None) -> Markup:
    """A <time> showing `when` as "yesterday at 18:40", the exact time in its title."""
    if when is None:
        return Markup("")
    reader = clock()
    return reader.tag(when, reader.calendar(when))


def number(value: int) -> str:
    """1234 written as the reader writes it: "1,234", "1.234"."""
    return format_decimal(value, locale=current_locale())

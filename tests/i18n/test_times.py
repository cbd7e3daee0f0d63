"""Times as the reader reads them: relative in their language, the exact time in their zone (the
profile's, else the browser's cookie, else UTC, named) in the title, calendar-style "last seen"."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from babel import Locale

from conftest import make_post, post
from helpers import HTMX, page_of, visible
from helpers import alice_client  # noqa: F401 (the fixture)
from htmltree import parse
from microblog.accounts import User
from microblog.db import utcnow
from microblog.i18n.times import Clock

# Mexico City stopped changing its clocks in 2022; New York still does (2026-03-08, 2:00 -> 3:00).
BEFORE_DST = datetime(2026, 3, 8, 6, 30, tzinfo=timezone.utc)  # 01:30 EST in New York
AFTER_DST = datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)   # 03:30 EDT in New York


def times(page: str) -> list[tuple[str, str, str]]:
    return [(t["datetime"], t["title"], t.text) for t in parse(page).find_all("time")]


@pytest.mark.parametrize("zone, before, after", [
    ("America/New_York", "8 mar 2026, 1:30:00 (America/New_York)", "8 mar 2026, 3:30:00 (America/New_York)"),
    ("Europe/Madrid", "8 mar 2026, 7:30:00 (Europe/Madrid)", "8 mar 2026, 8:30:00 (Europe/Madrid)"),
    ("America/Mexico_City", "8 mar 2026, 0:30:00 (America/Mexico_City)", "8 mar 2026, 1:30:00 (America/Mexico_City)"),
])
def test_exact_times_follow_the_zone_across_a_dst_change(zone, before, after):
    clock = Clock(Locale("es"), zone, AFTER_DST + timedelta(hours=1))
    assert (clock.exact(BEFORE_DST), clock.exact(AFTER_DST)) == (before, after)


@pytest.mark.parametrize("ago, english, spanish", [
    (timedelta(seconds=10), "just now", "ahora mismo"),
    (timedelta(seconds=-30), "just now", "ahora mismo"),  # a clock a little ahead
    (timedelta(minutes=3), "3 minutes ago", "hace 3 minutos"),
    (timedelta(minutes=1), "1 minute ago", "hace 1 minuto"),
    (timedelta(hours=5), "5 hours ago", "hace 5 horas"),
    (timedelta(days=1), "1 day ago", "hace 1 día"),
    (timedelta(days=400), "1 year ago", "hace 1 año"),
])
async def test_relative_times_in_the_readers_language(app, ago, english, spanish):
    now = utcnow()
    async with app.test_request_context("/"):
        assert Clock(Locale("en"), "UTC", now).relative(now - ago) == english
    async with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        assert Clock(Locale("es"), "UTC", now).relative(now - ago) == spanish


async def test_last_seen_is_calendar_style_in_the_readers_zone(app):
    now = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # 21:00 on the 24th in Mexico City
    async with app.test_request_context("/", headers={"Accept-Language": "es"}):
        await app.preprocess_request()
        utc, mexico = Clock(Locale("es"), "UTC", now), Clock(Locale("es"), "America/Mexico_City", now)
        seen = datetime(2026, 11, 24, 18, 40, tzinfo=timezone.utc)
        assert utc.calendar(seen) == "ayer a las 18:40"
        assert mexico.calendar(seen) == "hoy a las 12:40"
        assert mexico.calendar(datetime(2026, 11, 20, 18, 40, tzinfo=timezone.utc)) == "el 20 nov 2026 a las 12:40"
    async with app.test_request_context("/"):
        await app.preprocess_request()
        assert Clock(Locale("en"), "UTC", now).calendar(seen) == "yesterday at 6:40\u202fPM"


@pytest.mark.parametrize("htmx", [False, True])
async def test_a_post_shows_how_long_ago_in_the_readers_language_and_zone(client, db, alice, htmx):
    await make_post(db, alice, "hola", utcnow() - timedelta(minutes=3))
    client.set_cookie("localhost", "tz", "America/Mexico_City")
    response = await client.get("/explore", headers={"Accept-Language": "es-MX", **(HTMX if htmx else {})})
    page = (await response.get_data()).decode()
    [(machine, exact, shown)] = times(page)
    assert shown == "hace 3 minutos" and "alice @alice · hace 3 minutos hola" in visible(page)
    assert exact.endswith(" (America/Mexico_City)")
    assert datetime.fromisoformat(machine).tzinfo == timezone.utc


async def test_without_a_zone_times_are_in_utc_and_say_so(client, db, alice):
    post_ = await make_post(db, alice, "hi", datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    [(machine, exact, _shown)] = times(await page_of(client, "/explore"))
    assert machine == post_.timestamp.isoformat() and exact == "Jul 1, 2026, 12:00:00\u202fPM (UTC)"


@pytest.mark.parametrize("cookie", ["Not/AZone", "../../etc/passwd", "x" * 300, "localtime"])
async def test_a_zone_cookie_that_names_no_zone_means_utc(client, db, alice, cookie):
    await make_post(db, alice, "hi", datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    client.set_cookie("localhost", "tz", cookie)
    [(_machine, exact, _shown)] = times(await page_of(client, "/explore"))
    assert exact.endswith("(UTC)")


async def test_the_profiles_zone_wins_over_the_browsers(app, db, alice_client, alice):
    await make_post(db, alice, "hi", datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    alice_client.set_cookie("localhost", "tz", "Asia/Tokyo")
    assert times(await page_of(alice_client, "/explore"))[0][1] == "Jul 1, 2026, 9:00:00\u202fPM (Asia/Tokyo)"
    response = await post(alice_client, "/edit_profile", {"nickname": "alice", "timezone": "America/New_York"})
    assert response.status_code == 303
    async with app.extensions["db_sessionmaker"]() as other:
        assert (await other.get(User, alice.id)).timezone == "America/New_York"
    page = await page_of(alice_client, "/edit_profile")
    assert parse(page).find("option", value="America/New_York").get("selected") is not None
    assert times(await page_of(alice_client, "/explore"))[0][1] == "Jul 1, 2026, 8:00:00\u202fAM (America/New_York)"
    # Back to automatic: the browser's zone again.
    assert (await post(alice_client, "/edit_profile", {"nickname": "alice", "timezone": ""})).status_code == 303
    assert times(await page_of(alice_client, "/explore"))[0][1].endswith("(Asia/Tokyo)")


async def test_a_zone_that_does_not_exist_is_refused_and_nothing_is_lost(db, alice_client, alice):
    response = await post(alice_client, "/edit_profile",
                          {"nickname": "alice", "about_me": "kept", "timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 422
    page = (await response.get_data()).decode()
    assert "Not a valid choice." in visible(page) and "kept" in page
    await db.refresh(alice)
    assert alice.timezone is None


@pytest.mark.parametrize("accept_language, expected", [
    ("en", r"Last seen yesterday at \d+:\d\d\s[AP]M"), ("es-MX", r"Visto por última vez ayer a las \d+:\d\d"),
])
async def test_a_profile_says_when_its_user_was_last_seen_calendar_style(client, db, alice, accept_language, expected):
    alice.last_seen = utcnow() - timedelta(days=1)  # the day before, in UTC whatever the hour
    await db.commit()
    response = await client.get("/user/alice", headers={"Accept-Language": accept_language})
    page = (await response.get_data()).decode()
    assert re.search(expected, visible(page))
    [(machine, exact, _shown)] = times(page)
    assert machine == alice.last_seen.isoformat() and exact.endswith("(UTC)")


@pytest.mark.parametrize("seconds", [45, 59.4, 89.6, 90.4, 3000, 3036, 3060, 3100, 73000, 73500, 86400 * 6.2,
                                     86400 * 25.5, 86400 * 300, 86400 * 700])
@pytest.mark.parametrize("language", ["en", "es"])
def test_relative_times_read_as_babel_writes_them(seconds, language):
    # Each (unit, count) is written once per language and kept: the kept words must be Babel's
    # for every time, also next to the thresholds where it changes unit (51 minutes is "1 hour").
    from babel.dates import format_timedelta
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    clock = Clock(Locale(language), "UTC", now)
    when = now - timedelta(seconds=seconds)
    assert clock.relative(when) == format_timedelta(when - now, add_direction=True, locale=Locale(language))

"""Last seen: written on a logged-in user's requests, at most once a minute."""
from datetime import datetime, timedelta, timezone

from microblog.accounts import User
from microblog.db import utcnow


async def test_last_seen_is_written_at_most_once_a_minute(alice_client, db, alice):
    before = utcnow()
    assert (await alice_client.get("/index")).status_code == 200
    await db.refresh(alice)
    first = alice.last_seen
    assert first is not None and first >= before - timedelta(seconds=1)

    assert (await alice_client.get("/explore")).status_code == 200
    await db.refresh(alice)
    assert alice.last_seen == first  # not written again within the minute

    alice.last_seen = first - timedelta(minutes=2)
    await db.commit()
    assert (await alice_client.get("/index")).status_code == 200
    await db.refresh(alice)
    assert alice.last_seen >= first


def test_seen_now_records_at_most_once_a_minute():
    user = User(nickname="john", email="john@example.com")
    t0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert user.seen_now(t0) is True and user.last_seen == t0
    assert user.seen_now(t0 + timedelta(seconds=59)) is False and user.last_seen == t0
    assert user.seen_now(t0 + timedelta(seconds=60)) is True
    assert user.last_seen == t0 + timedelta(seconds=60)

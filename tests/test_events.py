"""The site's named events (microblog/events.py): sent by the model code that makes a change, in
its transaction, reaching each listener exactly once however many apps a process builds."""
import re

import pytest
from sqlalchemy import select

from microblog import create_app, events, follows
from microblog.jobs import Job
from microblog.posts import Post

from conftest import follow, login, make_user, post


@pytest.fixture
def app_config(app_config):
    """Whoosh on every database: its index follows posts through jobs, so they can be counted."""
    return {**app_config, "SEARCH_BACKEND": "whoosh"}


async def job_kinds(db) -> list[str]:
    return list(await db.scalars(select(Job.kind).order_by(Job.id)))


async def test_each_event_reaches_each_listener_once_however_many_apps(app, app_config, db):
    for _ in range(3):  # as tests, the CLI and a worker do: more apps in the same process
        create_app(app_config)
    alice, bob = await make_user(db, "alice"), await make_user(db, "bob")
    assert await follow(db, alice, bob)
    async with app.app_context():
        post = await Post.publish(db, alice, "one post, one indexing job")
        await db.commit()
        await post.delete_by(db, alice)
        await db.commit()
    assert await job_kinds(db) == ["mail.new_follower", "search.sync", "search.sync"]


async def test_a_listener_connected_again_is_called_once(app, db):
    heard = []

    def listener(db, **ids):
        heard.append(ids)

    events.unfollowed.connect(listener)
    events.unfollowed.connect(listener)
    try:
        alice, bob = await make_user(db, "alice"), await make_user(db, "bob")
        await follow(db, alice, bob)
        assert await follows.unfollow(db, alice, bob)
        assert not await follows.unfollow(db, alice, bob)  # nothing undone: no event
        await db.rollback()
    finally:
        events.unfollowed.disconnect(listener)
    assert heard == [{"follower_id": 1, "followed_id": 2}]


async def test_what_listeners_stage_rolls_back_with_the_change(app, db):
    alice = await make_user(db, "alice")
    async with app.app_context():
        await Post.publish(db, alice, "never saved")
        await db.rollback()
    assert await job_kinds(db) == []


async def test_async_listeners_are_awaited_in_order(app, db):
    heard = []

    async def first(db, **ids):
        heard.append(("first", ids["user_id"]))

    def second(db, **ids):
        heard.append(("second", ids["user_id"]))

    events.profile_updated.connect(first)
    events.profile_updated.connect(second)
    try:
        client = app.test_client()
        await make_user(db, "alice")
        assert (await login(client, "alice")).status_code == 303
        response = await post(client, "/edit_profile", {"nickname": "alicia", "about_me": "hi"})
        assert response.status_code == 303
    finally:
        events.profile_updated.disconnect(first)
        events.profile_updated.disconnect(second)
    assert heard == [("first", 1), ("second", 1)]


def test_the_docstring_names_every_event_and_every_listener(app):
    """events.py's docstring is the page a newcomer reads to know what happens when: it must
    name each event and, under it, each function listening to it."""
    doc = events.__doc__
    for event in events.ALL:
        name = next(name for name, value in vars(events).items() if value is event)
        section = re.search(rf"^  {name}\(.*?(?=^  \w|\Z)", doc, re.M | re.S)
        assert section, f"{name} is not in events.py's docstring"
        for listener in event.listeners:
            where = f"{listener.__module__.removeprefix('microblog.')}.{listener.__qualname__}"
            assert where in section.group(0), f"{where} listens to {name} but is not listed under it"

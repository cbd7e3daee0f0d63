"""The rules of blocks and hidden servers, below the pages: twice is once, nobody blocks or hides
themselves, and hiding a server ends every follow and request with anyone there, both ways."""
import pytest
from sqlalchemy import select

from conftest import make_user
from microblog.accounts import User
from microblog.blocks.models import SelfBlock, block, hide_domain, show_domain, unblock
from microblog.db import utcnow
from microblog.follows.models import (FollowRefused, answer_request, follow, follow_or_request, follow_requests,
                                      followers)


async def someone_elsewhere(db, nickname: str, domain: str = "social.example") -> User:
    user = User(nickname=nickname, domain=domain)
    db.add(user)
    await db.flush()
    return user


async def test_twice_is_once_and_nobody_blocks_themselves(app, db):
    alice, bob = await make_user(db, "alice"), await make_user(db, "bob")
    async with app.app_context():
        assert await block(db, alice, bob) is True
        assert await block(db, alice, bob) is False
        with pytest.raises(SelfBlock):
            await block(db, alice, alice)
        assert await unblock(db, alice, bob) is True
        assert await unblock(db, alice, bob) is False
    assert alice.has_blocks is False  # nothing left: her lists carry no filter again


async def test_hiding_a_server_ends_everything_with_it_both_ways(app, db):
    alice = await make_user(db, "alice")
    async with app.app_context():
        carol, dave, erin = [await someone_elsewhere(db, name) for name in ("carol", "dave", "erin")]
        frank = await someone_elsewhere(db, "frank", "other.example")
        await follow(db, alice, carol)  # she follows carol there
        await follow(db, dave, alice)  # dave there follows her
        await follow_or_request(db, alice, erin)  # she asked erin there
        await follow(db, alice, frank)  # and follows frank, elsewhere again
        with pytest.raises(SelfBlock):
            await hide_domain(db, alice, "")
        assert await hide_domain(db, alice, "social.example") is True
        assert await hide_domain(db, alice, "social.example") is False
        pairs = set((await db.execute(select(followers.c.follower_id, followers.c.followed_id))).all())
        assert pairs == {(alice.id, frank.id)}
        assert (await db.execute(select(follow_requests))).all() == []
        assert await show_domain(db, alice, "other.example") is False
        assert await show_domain(db, alice, "social.example") is True
    assert alice.has_blocks is False


async def test_asking_twice_is_one_request_and_an_answer_after_a_block_makes_no_follow(app, db):
    alice = await make_user(db, "alice")
    async with app.app_context():
        carol = await someone_elsewhere(db, "carol")
        assert await follow_or_request(db, alice, carol) is True
        assert await follow_or_request(db, alice, carol) is False  # two clicks: one request
        assert await block(db, alice, carol) is True  # her request goes with it
        await db.execute(follow_requests.insert().values(follower_id=alice.id, followed_id=carol.id,
                                                        timestamp=utcnow()))  # an answer racing the block
        assert await answer_request(db, alice, carol, accepted=True) is False  # no follow across a block
        assert (await db.execute(select(followers))).all() == []
        assert await answer_request(db, alice, carol, accepted=False) is False  # nothing left to answer
        with pytest.raises(FollowRefused):
            await follow_or_request(db, alice, carol)

"""A page costs a handful of SQL statements, however many posts it shows (the speed issue's
budget: at most 4, the log-in session with its user included)."""
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from conftest import follow, make_post, make_user
from microblog.db import utcnow
from microblog.accounts import User
from microblog.posts import Post
from helpers import HTMX, alice_client, older_link  # noqa: F401 (alice_client: the fixture)


@pytest.fixture
def app_config(app_config):
    # At most two connections (the pool's one, one more in a burst): the plan test reads both.
    return {**app_config, "DB_POOL_SIZE": 1}


@pytest.fixture
async def site(db, alice):
    bob = await make_user(db, "bob")
    await follow(db, alice, bob)
    for n in range(30):
        await make_post(db, bob if n % 2 else alice, f"post {n}")


async def statements_of(app, client, url: str, headers: dict | None = None) -> list[str]:
    seen = []
    engine = app.extensions["db_engine"].sync_engine
    listener = lambda conn, cursor, statement, *_: seen.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = await client.get(url, headers=headers or {})
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


@pytest.mark.parametrize("url", ["/index", "/explore", "/user/bob", "/user/alice", "/user/alice/followers"])
async def test_a_page_costs_at_most_four_statements(app, site, alice_client, url):
    await alice_client.get(url)  # the first request of a session notes "last seen" (once a minute)
    statements = await statements_of(app, alice_client, url)
    assert 1 <= len(statements) <= 4, statements


@pytest.mark.parametrize("logged_in", [False, True])
async def test_a_persons_card_costs_at_most_four_statements(app, site, alice_client, logged_in):
    """Fetched on every hover of a name: the log-in session, the user, their follow box, their posts."""
    reader = alice_client if logged_in else app.test_client()
    await reader.get("/user/bob/card", headers=HTMX)  # "last seen" noted
    statements = await statements_of(app, reader, "/user/bob/card", HTMX)
    assert 1 <= len(statements) <= (4 if logged_in else 3), statements


async def test_the_next_page_costs_at_most_four_statements(app, site, alice_client):
    page = await (await alice_client.get("/index")).get_data(as_text=True)
    statements = await statements_of(app, alice_client, older_link(page), HTMX)
    assert 1 <= len(statements) <= 4, statements


async def test_postgresql_plans_the_timeline_once_not_for_every_page(app, db, site, alice, alice_client, database_url):
    """asyncpg prepares each statement; PostgreSQL plans a prepared statement afresh for each of
    its first five runs, then keeps one plan for all if that plan looks no costlier. The timeline
    must get there (planning it cost a quarter of its time in PostgreSQL): its page size is written
    into the statement, not a parameter whose row count the planner cannot know."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plan cache")
    # Enough posts for the planner's estimates to matter (with a few dozen, any plan is cheap).
    users = [await make_user(db, f"user{n}") for n in range(20)]
    for user in users[:10]:
        await follow(db, alice, user)
    start = utcnow() - timedelta(days=365)
    await db.execute(insert(Post), [{"body": f"post {n}", "user_id": users[n % 20].id, "language": "",
                                     "timestamp": start + timedelta(minutes=n)} for n in range(4000)])
    await db.commit()
    await db.execute(text("ANALYZE"))
    await db.commit()
    for _ in range(20):
        assert (await alice_client.get("/index")).status_code == 200
    # Each connection prepares its own statements: look at every one the pool may have used.
    engine = app.extensions["db_engine"]
    async with engine.connect() as first, engine.connect() as second:
        if first.dialect.server_version_info < (14,):
            pytest.skip("pg_prepared_statements counts plans from PostgreSQL 14")
        plans = [row for connection in (first, second) for row in (await connection.execute(text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%FROM followers%ORDER BY post.timestamp DESC%'"))).all()]
    generic, custom = max(plans, key=sum)  # the page's statement (the others ran once, if at all)
    assert generic + custom >= 10 and custom <= 5, plans


@pytest.fixture
async def site_with_posts_from_elsewhere(db, alice):
    """alice follows carol from elsewhere (her picture kept here) as well as bob; half the posts
    of her timeline came from elsewhere, as HTML."""
    from microblog.federation import RemoteActor
    bob, carol = await make_user(db, "bob"), User(nickname="carol", domain="social.example", picture="0" * 32)
    db.add(carol)
    await db.flush()
    db.add(RemoteActor(user_id=carol.id, actor_id="https://social.example/users/carol", inbox="https://social.example/inbox",
                       key_id="https://social.example/users/carol#main-key", fetched_at=utcnow()))
    await follow(db, alice, bob)
    await follow(db, alice, carol)
    for n in range(30):
        if n % 2:
            ap_id = f"https://social.example/users/carol/statuses/{n}"
            db.add(Post(body=f"post {n}", html=f"<p>post {n}</p>", ap_id=ap_id, url=ap_id, user_id=carol.id,
                        timestamp=utcnow() - timedelta(minutes=n), language="en"))
        else:
            await make_post(db, bob, f"post {n}", when=utcnow() - timedelta(minutes=n))
    await db.commit()


@pytest.mark.parametrize("url", ["/index", "/explore", "/user/carol@social.example"])
async def test_posts_from_elsewhere_cost_no_more_statements(app, site_with_posts_from_elsewhere, alice_client, url):
    await alice_client.get(url)
    statements = await statements_of(app, alice_client, url)
    budget = 5 if url.startswith("/user/") else 4  # their profile: also what their server says of them
    assert 1 <= len(statements) <= budget, statements
    if url == "/index":
        page = await (await alice_client.get(url)).get_data(as_text=True)
        assert "<p>post 1</p>" in page and "@carol@social.example" in page and "/avatar/" in page

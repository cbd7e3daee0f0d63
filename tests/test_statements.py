"""A page costs a handful of SQL statements, however many posts it shows (the speed issue's
budget: at most 4, the log-in session with its user included)."""
import pytest
from sqlalchemy import event

from conftest import follow, make_post, make_user
from helpers import HTMX, alice_client, older_link  # noqa: F401 (alice_client: the fixture)


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


async def test_the_next_page_costs_at_most_four_statements(app, site, alice_client):
    page = await (await alice_client.get("/index")).get_data(as_text=True)
    statements = await statements_of(app, alice_client, older_link(page), HTMX)
    assert 1 <= len(statements) <= 4, statements

"""Passing database trouble is a clear 503 with Retry-After, not a 500: a read-only database (a
full disk, maintenance) still serves every page that only reads; a database that cannot be reached
says so."""
import pytest

from conftest import TEST_CONFIG, free_port, login, make_post, make_user, post, reset_schema, text_of
from microblog import create_app

READ_ONLY = "The site is read-only for now"
UNREACHABLE = "The site cannot reach its database at the moment."


def config(url: str) -> dict:
    return {**TEST_CONFIG, "DATABASE_URL": url, "PROPAGATE_EXCEPTIONS": False, "JOBS_RUN_IN_WEB": False}


async def test_a_read_only_database_serves_reads_and_refuses_writes_clearly(tmp_path):
    path = tmp_path / "blog.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    await reset_schema(url)
    writable = create_app(config(url))
    async with writable.test_app():
        async with writable.extensions["db_sessionmaker"]() as db:
            alice = await make_user(db, "alice")
            await make_post(db, alice, "written before the disk filled up")
        browser = writable.test_client()
        assert (await login(browser, "alice")).status_code == 303
        await browser.get("/index")

    read_only = create_app(config(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"))
    async with read_only.test_app():
        client = read_only.test_client()
        client.cookie_jar = browser.cookie_jar  # the same browser, after the disk filled up
        for url in ("/index", "/explore", "/user/alice"):
            response = await client.get(url)
            assert response.status_code == 200, url
            assert "written before the disk filled up" in await text_of(response)

        response = await post(client, "/post", {"post": "this cannot be saved"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        assert READ_ONLY in await text_of(response)
        response = await post(client, "/post", {"post": "this cannot be saved"}, htmx=True)
        assert response.status_code == 503
        assert "nothing can be saved" in await text_of(response)

        visitor = read_only.test_client()
        response = await login(visitor, "alice")  # a log-in writes (its throttle, its session)
        assert response.status_code == 503
        assert READ_ONLY in await text_of(response)


@pytest.mark.parametrize("url", [
    "sqlite+aiosqlite:////nonexistent-folder/blog.sqlite",
    f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test",  # nothing listens there
])
@pytest.mark.parametrize("admins", [[], ["admin@example.com"]])
async def test_an_unreachable_database_is_a_503_saying_so(url, admins):
    app = create_app({**config(url), "ADMINS": admins})
    async with app.test_app():
        client = app.test_client()
        response = await client.get("/explore")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        page = await text_of(response)
        assert UNREACHABLE in page
        assert "The administrator has been notified" not in page
        response = await client.get("/explore", headers={"HX-Request": "true"})
        assert response.status_code == 503 and "<html" not in await text_of(response)

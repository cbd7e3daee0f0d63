"""PROFILE=1 keeps a pyinstrument profile of each slow request; the slow-query log names the route."""
import logging

import pytest

from conftest import TEST_CONFIG, make_user, text_of
from microblog import create_app


@pytest.fixture
def profiled_app(database_url, tmp_path):
    def make(**config):
        return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "PROFILE": True,
                           "PROFILE_DIR": str(tmp_path / "profiles"), **config})
    return make


async def test_a_slow_request_leaves_a_profile_named_by_its_route(profiled_app, tmp_path, app, db):
    await make_user(db, "bob")
    slow = profiled_app(PROFILE_SECONDS=0)  # every request counts as slow
    async with slow.test_app():
        client = slow.test_client()
        assert (await client.get("/user/bob")).status_code == 200
        assert (await client.get("/explore")).status_code == 200
    profiles = sorted((tmp_path / "profiles").iterdir(), key=lambda p: p.name)
    names = [p.name for p in profiles]
    assert len(names) == 2, names
    assert any(n.endswith("-GET-user-nickname.html") for n in names), names  # the route, not "bob"
    assert not any("bob" in n for n in names)
    explore = next(p for p in profiles if p.name.endswith("-GET-explore.html")).read_text()
    assert "pyinstrument" in explore and "GET /explore" in explore  # a request too fast for a sample is named too


async def test_fast_requests_leave_nothing(profiled_app, tmp_path, app):
    fast = profiled_app(PROFILE_SECONDS=60)
    async with fast.test_app():
        assert (await fast.test_client().get("/explore")).status_code == 200
    assert list((tmp_path / "profiles").iterdir()) == []


async def test_without_profile_there_is_no_profiler(app, client):
    assert app.config["PROFILE"] is False
    assert (await client.get("/explore")).status_code == 200
    assert not any(getattr(f, "__name__", "") == "_start" for f in app.before_request_funcs.get(None, []))


async def test_the_slow_query_log_names_the_route(database_url, caplog, app, db):
    await make_user(db, "bob")
    logged_app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "SLOW_QUERY_SECONDS": 1e-9})
    async with logged_app.test_app():
        with caplog.at_level(logging.WARNING, logger="microblog.slow_query"):
            response = await logged_app.test_client().get("/user/bob")
            assert response.status_code == 200, await text_of(response)
    logged = [r.getMessage() for r in caplog.records if r.name == "microblog.slow_query"]
    by_request = [m for m in logged if "FROM job" not in m]
    assert by_request and all(" in GET /user/<nickname>: " in m for m in by_request), by_request[:3]
    assert all(" in no request: " in m for m in logged if "FROM job" in m)  # the job runner's polling

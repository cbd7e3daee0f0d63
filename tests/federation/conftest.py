"""Fixtures for the federation tests: a Fedify peer and our app, over HTTPS, offline (network.py).

    def test_something(fediverse, peer, site_a):
        peer.follow("bob", "@alice@a.test")                      # the peer's control API
        response = fediverse.client.get(f"{site_a.url}/user/alice")  # https://a.test, through nginx
        assert fediverse.nginx.requests(host="a.test", path="/.well-known/webfinger")

`fediverse` (the namespace, CA, nginx and the peer) starts once per session, or per xdist worker;
`site_a` and `site_b` are our app at https://a.test and https://b.test, each started on first use
and kept for the session: tests that share them use names of their own (`unique`).
"""
import pytest

from .network import HarnessError, fediverse as start_fediverse, unavailable


_timings: list[dict] = []  # this process's start-up times, for the summary


@pytest.fixture(scope="session")
def fediverse():
    if reason := unavailable():
        pytest.skip(reason)
    try:
        with start_fediverse() as world:
            _timings.append(world.timings)
            yield world
    except HarnessError as error:
        pytest.fail(f"the federation harness did not start: {error}", pytrace=False)


def pytest_terminal_summary(terminalreporter):
    """How long the harness took to start (not shown under xdist: workers' output is not)."""
    for timings in _timings:
        terminalreporter.write_line("federation harness: " + ", ".join(
            f"{step} {seconds:.1f} s" for step, seconds in timings.items()))


@pytest.fixture(scope="session")
def peer(fediverse):
    return fediverse.peer


def _site(fediverse, host: str):
    try:
        return fediverse.site(host)
    except HarnessError as error:
        pytest.fail(f"our app at https://{host} did not start: {error}", pytrace=False)


@pytest.fixture(scope="session")
def site_a(fediverse):
    return _site(fediverse, "a.test")


@pytest.fixture(scope="session")
def site_b(fediverse):
    return _site(fediverse, "b.test")

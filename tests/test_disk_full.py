"""SQLite on a full disk (hardening, second round): a post is a 503 saying the disk is full, pages
still read, and once space is freed posting works again, without a restart. A small tmpfs of its
own plays the disk (mounting one needs root)."""
import logging
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from conftest import TEST_CONFIG, make_post, make_user, post, reset_schema, text_of
from helpers import logged_in, visible
from microblog import create_app

DISK_FULL = "The server's disk is full"
CHUNK = 64 * 1024


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB tmpfs at tmp_path/disk, unmounted however the test ends."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(filler: Path) -> int:
    """Write `filler` until the disk has no room left; its size."""
    with open(filler, "ab", buffering=0) as file:
        for size in (CHUNK, 4096, 512, 1):  # the last few bytes too
            try:
                while file.write(b"\0" * size):
                    pass
            except OSError:
                continue
    return filler.stat().st_size


async def publish(client, body: str):
    return await post(client, "/post", {"post": body, "submission": secrets.token_urlsafe(16)})


async def test_a_full_disk_is_a_503_saying_so_and_heals_when_space_returns(small_disk, caplog):
    url = f"sqlite+aiosqlite:///{small_disk / 'blog.sqlite'}"
    await reset_schema(url)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "PROPAGATE_EXCEPTIONS": False, "JOBS_RUN_IN_WEB": False,
                      "SEARCH_INDEX_DIR": str(small_disk.parent / "search-index")})
    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            alice = await make_user(db, "alice")
            await make_post(db, alice, "written before the disk filled up")
        client = await logged_in(app, "alice")
        for n in range(20):  # a WAL that has grown a little, as on a site in use
            assert (await publish(client, f"before {n} " + "x" * 100)).status_code == 303

        filler = small_disk / "filler"
        fill(filler)
        statuses = []
        for n in range(200):  # until SQLite has used up what room it had kept
            response = await publish(client, f"while full {n} " + "x" * 100)
            statuses.append(response.status_code)
            if response.status_code != 303:
                break
        print(f"\nthe disk filled up ({filler.stat().st_size} bytes of filler): {len(statuses)} posts tried, "
              f"the last answered {statuses[-1]}")
        assert response.status_code == 503, statuses
        assert response.headers["Retry-After"]
        assert DISK_FULL in visible(await text_of(response))
        response = await post(client, "/post", {"post": "htmx while full"}, htmx=True)
        assert response.status_code == 503 and "disk is full" in await text_of(response)
        for page in ("/explore", "/user/alice", "/index"):
            response = await client.get(page)
            assert response.status_code == 200, page
            assert "before 19" in await text_of(response)
        assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
        assert len([r for r in caplog.records if "disk is full" in r.getMessage().lower()]) <= 3, caplog.text

        filler.unlink()
        assert (await publish(client, "after the disk was freed")).status_code == 303
        for n in range(20):
            assert (await publish(client, f"after {n} " + "x" * 100)).status_code == 303
    # The log says what is wrong and what to do, once (then a line a minute while it lasts).
    [full] = [r for r in caplog.records if r.levelno == logging.ERROR and "is full" in r.getMessage()]
    assert "bytes free" in full.getMessage() and "Free space on that disk" in full.getMessage()

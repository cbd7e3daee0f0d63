"""Heroku, as its Python buildpack and dynos run the app from a fresh clone: bin/post_compile at
build time (compiled translations in the slug), the Procfile's release line (migrations only) on
`DATABASE_URL` as Heroku gives it (postgres://), then the web line on $PORT, logging to stdout."""
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import POSTGRES_URL, reset_schema
from helpers import input_value, visible
from microblog.config import normalise_database_url

from .support import clean_environment, copy_checkout, free_port, wait_for_port

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="Heroku runs on PostgreSQL: set TEST_DATABASE_URL")


def procfile(app_dir: Path) -> dict[str, str]:
    lines = (app_dir / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in
            (line.partition(":") for line in lines if line.strip() and not line.startswith("#"))}


def heroku_database_url() -> str:
    """The test database as Heroku's DATABASE_URL spells it."""
    return "postgres://" + POSTGRES_URL.split("://", 1)[1]


def dyno_environment(**more) -> dict:
    return clean_environment(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        DATABASE_URL=heroku_database_url(), SECRET_KEY="heroku-test-secret",
        BASE_URL="https://microblog-test.herokuapp.com", DYNO="web.1", TRUSTED_PROXIES="1",
        SECURE_COOKIES="0",  # the test talks plain http to the dyno; Heroku's router speaks https
        PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_COST="1024", **more)


def test_built_released_and_served_as_heroku_does(tmp_path):
    app_dir = copy_checkout(tmp_path / "slug")
    mo = app_dir / "translations" / "es" / "LC_MESSAGES" / "messages.mo"
    assert not mo.exists()
    assert (app_dir / ".python-version").read_text().strip().startswith("3.")

    build = subprocess.run([str(app_dir / "bin" / "post_compile")], cwd=app_dir, capture_output=True, text=True,
                           env=clean_environment(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"),
                           timeout=60)
    assert build.returncode == 0, build.stderr
    assert mo.stat().st_size > 1000

    asyncio.run(reset_schema(normalise_database_url(POSTGRES_URL), create_tables=False))
    commands = procfile(app_dir)
    assert "translate" not in commands["release"]  # its files would never reach the web dynos
    release = subprocess.run(["bash", "-c", commands["release"]], cwd=app_dir, env=dyno_environment(),
                             capture_output=True, text=True, timeout=120)
    assert release.returncode == 0, release.stdout + release.stderr

    port = free_port()
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(["bash", "-c", "exec " + commands["web"]], cwd=app_dir, env=dyno_environment(PORT=str(port)),
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, web, log=log)
        walk_the_main_pages(f"http://127.0.0.1:{port}")
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(30)
    assert web.returncode == 0
    output = log.read_text()
    assert "microblog serving on 0.0.0.0:" in output and "microblog starting" in output  # logs on stdout
    assert not (app_dir / "instance" / "logs").exists()
    assert "Traceback" not in output, output[-4000:]


def walk_the_main_pages(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/").status_code == 302  # to the login page
        register = client.get("/auth/register")
        assert register.status_code == 200
        response = client.post("/auth/register", data={
            "csrf_token": input_value(register.text, "csrf_token"), "nickname": "alice",
            "email": "alice@example.com", "password": "correct horse", "password2": "correct horse"})
        assert response.status_code == 303, response.text
        login = client.get("/auth/login")
        response = client.post("/auth/login", data={"csrf_token": input_value(login.text, "csrf_token"),
                                                    "nickname": "alice", "password": "correct horse"})
        assert response.status_code == 303, response.text
        home = client.get("/index")
        response = client.post("/index", data={"csrf_token": input_value(home.text, "csrf_token"),
                                               "post": "hello from a dyno"})
        assert response.status_code == 303
        for page in ("/index", "/explore", "/user/alice"):
            answer = client.get(page)
            assert answer.status_code == 200, page
            assert "hello from a dyno" in visible(answer.text), page
        assert client.get("/user/alice/followers").status_code == 200
        assert client.get("/edit_profile").status_code == 200
        spanish = client.get("/explore", headers={"Accept-Language": "es"})
        assert "Explorar" in visible(spanish.text)  # the translations compiled at build time

"""pi/: the setup script run end to end in a temporary directory (without root), the systemd unit
it renders verified, and the app started as the unit says behind nginx and lighttpd configured
as pi/ says: static files from the proxy with long cache headers, the rest from the app."""
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from microblog.cli import alembic_config

from .support import (check_served, copy_checkout, debian_tool, free_port, make_venv, nginx_main_config, run_setup,
                      settings, start_as_the_unit_says, stop, wait_for_port)

BASE_URL = "http://pi.local/microblog"


@pytest.fixture(scope="module")
def pi(tmp_path_factory):
    """A checkout set up by pi/setup.sh, as a user without root would."""
    app_dir = copy_checkout(tmp_path_factory.mktemp("pi") / "microblog")
    make_venv(app_dir / "venv")
    port = free_port()
    first = run_setup(app_dir, port, BASE_URL=BASE_URL)
    return app_dir, port, first


def test_setup_makes_a_working_instance(pi):
    app_dir, port, first = pi
    assert "Left for root" in first.stdout and "useradd --system" in first.stdout
    env = settings(app_dir)
    assert re.fullmatch(r"[0-9a-f]{64}", env["SECRET_KEY"])
    assert (app_dir / ".env").stat().st_mode & 0o077 == 0  # the secret key is nobody else's
    assert env["BASE_URL"] == BASE_URL and env["TRUSTED_PROXIES"] == "1" and env["SECURE_COOKIES"] == "0"
    database = sqlite3.connect(app_dir / "instance" / "microblog.sqlite")
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert database.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head
    assert "user" in {name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert (app_dir / "translations" / "es" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    unit = (app_dir / "instance" / "deploy" / "microblog.service").read_text()
    assert f"ExecStart={app_dir}/venv/bin/python -m microblog.serve --bind 127.0.0.1:{port}" in unit
    assert "@" not in "".join(line for line in unit.splitlines() if not line.startswith("#"))


def test_setup_again_keeps_the_secret_key_and_the_data(pi):
    app_dir, port, _ = pi
    before = settings(app_dir)["SECRET_KEY"]
    again = run_setup(app_dir, port, BASE_URL=BASE_URL)
    assert "keeping the existing .env" in again.stdout
    assert settings(app_dir)["SECRET_KEY"] == before


def test_the_unit_passes_systemd_analyze_verify(pi):
    app_dir, _, _ = pi
    analyze = debian_tool("systemd-analyze", "systemd")
    unit = app_dir / "instance" / "deploy" / "microblog.service"
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Restart=always" in unit.read_text() and "WEB_CONCURRENCY=1" in unit.read_text()


@pytest.fixture(scope="module")
def app_server(pi, tmp_path_factory):
    """The app started exactly as the rendered unit's ExecStart says, in its WorkingDirectory."""
    app_dir, port, _ = pi
    log = tmp_path_factory.mktemp("pi-log") / "app.log"
    process = start_as_the_unit_says(app_dir, log)
    try:
        wait_for_port(port, process, log=log)
        yield app_dir, port
    finally:
        stop(process)


def test_nginx_serves_static_files_and_proxies_the_rest(app_server, tmp_path):
    app_dir, app_port = app_server
    port = free_port()
    site = (app_dir / "instance" / "deploy" / "nginx.conf").read_text()
    site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    site = site.replace("listen [::]:80 default_server;", "")
    command = nginx_main_config(tmp_path, site)
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        check_served(f"http://127.0.0.1:{port}")
    finally:
        stop(process)


def test_lighttpd_serves_static_files_and_proxies_the_rest(app_server, tmp_path):
    app_dir, app_port = app_server
    lighttpd = debian_tool("lighttpd", "lighttpd")
    port = free_port()
    (tmp_path / "htdocs").mkdir()
    (tmp_path / "site.conf").write_text((app_dir / "instance" / "deploy" / "lighttpd.conf").read_text())
    (tmp_path / "lighttpd.conf").write_text(f"""
server.document-root = "{tmp_path}/htdocs"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{tmp_path}/error.log"
server.modules = ("mod_access", "mod_alias", "mod_redirect")
mimetype.assign = (".css" => "text/css", ".js" => "text/javascript", ".svg" => "image/svg+xml")
include "{tmp_path}/site.conf"
""")
    command = [lighttpd, "-f", str(tmp_path / "lighttpd.conf")]
    checked = subprocess.run([*command, "-tt"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    process = subprocess.Popen([*command, "-D"], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        check_served(f"http://127.0.0.1:{port}")
    finally:
        stop(process)

"""docs/vps.md: pi/setup.sh for a VPS (PostgreSQL, two workers, https at the root), and the app
started as the rendered unit says behind nginx with TLS as pi/nginx-tls.conf says (a self-signed
certificate in place of certbot's)."""
import asyncio
import subprocess

import httpx
import pytest

from conftest import POSTGRES_URL, reset_schema
from microblog.config import normalise_database_url

from .support import (check_served, copy_checkout, free_port, make_venv, nginx_main_config, run_setup, settings,
                      start_as_the_unit_says, stop, wait_for_port)

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="a VPS runs on PostgreSQL: set TEST_DATABASE_URL")
DOMAIN = "microblog.example"


def self_signed_certificate(folder) -> tuple[str, str]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={DOMAIN}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def test_a_vps_with_postgresql_two_workers_and_tls(tmp_path):
    app_dir = copy_checkout(tmp_path / "srv" / "microblog")
    make_venv(app_dir / "venv")
    asyncio.run(reset_schema(normalise_database_url(POSTGRES_URL), create_tables=False))
    port = free_port()
    run_setup(app_dir, port, BASE_URL=f"https://{DOMAIN}", DATABASE_URL=POSTGRES_URL, WEB_CONCURRENCY="2")

    env = settings(app_dir)
    assert env["DATABASE_URL"] == POSTGRES_URL and env["SECURE_COOKIES"] == "1"
    deploy = app_dir / "instance" / "deploy"
    assert sorted(p.name for p in deploy.iterdir()) == ["microblog.service", "nginx-tls.conf"]
    assert "Environment=WEB_CONCURRENCY=2 " in (deploy / "microblog.service").read_text()
    assert not (app_dir / "instance" / "microblog.sqlite").exists()

    site = (deploy / "nginx-tls.conf").read_text()
    assert f"server_name {DOMAIN};" in site and f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem" in site
    cert, key = self_signed_certificate(tmp_path)
    https, http = free_port(), free_port()
    site = (site.replace(f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem", cert)
            .replace(f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem", key)
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;").replace("listen [::]:443 ssl http2;", "")
            .replace("listen 80;", f"listen 127.0.0.1:{http};").replace("listen [::]:80;", ""))
    command = nginx_main_config(tmp_path, site)

    app = start_as_the_unit_says(app_dir, tmp_path / "app.log")
    nginx = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, app, log=tmp_path / "app.log")
        wait_for_port(https, nginx)
        redirect = httpx.get(f"http://127.0.0.1:{http}/explore", headers={"Host": DOMAIN})
        assert redirect.status_code == 301 and redirect.headers["Location"] == f"https://{DOMAIN}/explore"
        check_served(f"https://127.0.0.1:{https}", prefix="")
    finally:
        stop(nginx)
        stop(app)
    log = (tmp_path / "app.log").read_text()
    assert "with 2 worker(s)" in log and log.count("started") >= 2

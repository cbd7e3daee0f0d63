"""What the deployment tests share: a copy of the checkout, Debian tools installed on demand, a
server process started as a deployment starts it, waiting for a port."""
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from helpers import form_action, parse

from microblog import ROOT

SHARED_SITE_PACKAGES = sysconfig.get_paths()["purelib"]


def copy_checkout(target: Path) -> Path:
    """The project's files (tracked and new, not ignored) as a fresh clone would have them."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def make_venv(path: Path) -> Path:
    """A new virtualenv that sees the test run's packages (a .pth file), so `pip install -r
    requirements.txt` finds everything there and needs no network."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)  # pip: the shared one
    site = Path(subprocess.run([str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "shared-test-packages.pth").write_text(SHARED_SITE_PACKAGES + "\n")
    return path


def debian_tool(command: str, package: str) -> str:
    """The path of `command`, installed from Debian first if it is missing (skip if impossible)."""
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    if shutil.which(command, path=search) is None and shutil.which("apt-get") and os.geteuid() == 0:
        # Waiting for dpkg's lock: under pytest-xdist another worker may be installing at once.
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=240",
                        package],
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, timeout=300)
    found = shutil.which(command, path=search)
    if found is None:
        pytest.skip(f"{command} is not installed and cannot be installed here (apt-get install {package})")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {log.read_text() if log else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s: {log.read_text() if log else ''}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def clean_environment(**more) -> dict:
    """The environment of a fresh shell: no test settings leak into the process."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {**keep, **more}


# --- pi/setup.sh and what it renders ------------------------------------------------------------

def run_setup(app_dir: Path, port: int, **settings) -> subprocess.CompletedProcess:
    """pi/setup.sh as a user without root runs it."""
    env = clean_environment(PORT=str(port), SETUP_WITHOUT_ROOT="1", **settings)
    result = subprocess.run(["bash", str(app_dir / "pi" / "setup.sh")], cwd="/", env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def settings(app_dir: Path) -> dict:
    return dict(line.split("=", 1) for line in (app_dir / ".env").read_text().splitlines()
                if line and not line.startswith("#"))


def start_as_the_unit_says(app_dir: Path, log: Path) -> subprocess.Popen:
    """The app started exactly as the rendered unit's ExecStart and Environment say, in its
    WorkingDirectory."""
    unit = (app_dir / "instance" / "deploy" / "microblog.service").read_text()
    command = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.M).group(1))
    environment = dict(item.split("=", 1) for item in
                       shlex.split(re.search(r"^Environment=(.*)$", unit, re.M).group(1)))
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=app_dir, env=clean_environment(**environment),
                                stdout=out, stderr=subprocess.STDOUT)


def check_served(base: str, prefix: str = "/microblog") -> None:
    with httpx.Client(base_url=base, timeout=10, verify=False) as client:
        if prefix:
            bare = client.get(prefix)
            assert bare.status_code in (301, 308) and bare.headers["Location"].endswith(prefix + "/")
        page = client.get(prefix + "/auth/login")
        assert page.status_code == 200
        assert "Content-Security-Policy" in page.headers  # from the app
        root = parse(page.text)
        assert form_action(page.text, "nickname").startswith(prefix + "/auth/login")
        stylesheet = next(e["href"] for e in root.find_all("link") if e.get("rel") == "stylesheet")
        assert stylesheet.startswith(prefix + "/static/") and "?v=" in stylesheet
        static = client.get(stylesheet)
        assert static.status_code == 200 and static.text.strip()
        assert "Content-Security-Policy" not in static.headers  # from the proxy, not the app
        assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "css" in static.headers["Content-Type"]
        unversioned = client.get(stylesheet.split("?")[0])
        assert unversioned.headers["Cache-Control"] == "public, no-cache"
        assert client.get(stylesheet.split("?")[0], headers={"If-None-Match": unversioned.headers["ETag"]}).status_code == 304
        # The app sees the proxy's X-Forwarded-For (TRUSTED_PROXIES=1): a registration works.
        assert client.get(prefix + "/auth/register").status_code == 200


def nginx_main_config(tmp_path: Path, site: str) -> list[str]:
    """nginx with everything in tmp_path and the site as its only server(s); the command to run it."""
    nginx = debian_tool("nginx", "nginx")
    (tmp_path / "site.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (tmp_path / "nginx.conf").write_text(f"""
user root;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp['body']}; proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']}; uwsgi_temp_path {temp['uwsgi']}; scgi_temp_path {temp['scgi']};
    include {tmp_path}/site.conf;
}}
""")
    command = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    return command



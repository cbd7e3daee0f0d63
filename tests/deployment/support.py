"""What the deployment tests share: a copy of the checkout, Debian tools installed on demand, a
server process started as a deployment starts it, waiting for a port."""
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

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
    subprocess.run([base, "-m", "venv", str(path)], check=True, timeout=120)
    site = Path(subprocess.run([str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "shared-test-packages.pth").write_text(SHARED_SITE_PACKAGES + "\n")
    return path


def debian_tool(command: str, package: str) -> str:
    """The path of `command`, installed from Debian first if it is missing (skip if impossible)."""
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    if shutil.which(command, path=search) is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
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

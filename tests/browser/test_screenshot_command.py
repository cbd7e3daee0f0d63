"""bin/screenshot, the README's screenshot: it makes a desktop-size PNG of a home timeline from a
throw-away site. Here it writes to a temporary file: the tests never rewrite docs/screenshot.png."""
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .support import DESKTOP, ROOT

pytestmark = pytest.mark.browser


def test_the_screenshot_command_saves_a_desktop_png():
    with tempfile.TemporaryDirectory(prefix="microblog-screenshot-test-") as workdir:
        output = Path(workdir) / "shot.png"
        done = subprocess.run([sys.executable, str(ROOT / "bin" / "screenshot"), str(output)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        png = output.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (DESKTOP["width"], DESKTOP["height"])
    assert len(png) < 150_000  # small enough to keep in the repository

"""The address `python -m microblog.serve` serves on: one socket per worker, all bound with
SO_REUSEPORT, and a claim on it so that a second server refuses to start.

SO_REUSEPORT lets any process of the same user bind the address too: a second `microblog.serve`
would start without error, take a share of the connections with its own code and settings (or
none), and nobody would know. `claim` refuses that, naming who serves there."""
import errno
import fcntl
import os
import socket
from contextlib import suppress
from pathlib import Path


def address(bind: str) -> tuple[str, int]:
    if bind.startswith(("unix:", "fd://")):
        raise SystemExit(f"microblog.serve binds HOST:PORT addresses only, not {bind}")
    host, _, port = bind.replace("[", "").replace("]", "").rpartition(":")
    return host, int(port)


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket on the address every worker shares; it takes connections once it listens."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def claim(bind: str, instance: str):
    """The address for this supervisor alone (a lock file to `release` as it ends), or SystemExit
    saying who serves there: the lock file (held while the supervisor lives, released by the
    kernel however it ends) names a `microblog.serve` of this folder; a plain bind, without
    SO_REUSEPORT, finds any other process listening there (another checkout's server)."""
    host, port = address(bind)
    path = Path(instance) / f"serve-{host.replace(':', '_') or 'all'}-{port}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        lock = open(path, "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise SystemExit(f"cannot serve on {bind}: microblog.serve (supervisor {holder}) serves there "
                             f"already ({path})") from None
        if path.exists() and path.stat().st_ino == os.fstat(lock.fileno()).st_ino:
            break
        lock.close()  # its holder removed it as it ended, after we opened it: the path's is the one
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections of a past server don't count
    try:
        probe.bind((host, port))
    except OSError as error:
        release(lock)
        if error.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(f"cannot serve on {bind}: {error}: another process listens there "
                         f"(`ss -ltnp 'sport = :{port}'` names it)") from None
    finally:
        probe.close()
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def release(lock) -> None:
    """Removed while still locked: whoever opened it meanwhile finds it gone once they lock it."""
    with suppress(FileNotFoundError):
        os.unlink(lock.name)
    lock.close()

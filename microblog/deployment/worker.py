"""A worker of `python -m microblog.serve` (`--worker`): the app served by Hypercorn on a socket of
its own (addresses.py), with at most MAX_CONNECTIONS connections (connections.py); it stops
gracefully on SIGTERM or when its supervisor is gone, and tells a reloading supervisor when it
listens."""
import asyncio
import gc
import logging
import os
import signal
import socket
from contextlib import suppress

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart

from .. import create_app, logs
from .addresses import address, bound_socket
from .connections import connection_cap, limit_connections

log = logging.getLogger("microblog.serve")

APP_CANNOT_START = 3  # a worker's exit status when create_app() fails: restarting will not help
PARENT_CHECK_SECONDS = 1


def run_worker(config: HypercornConfig, settings: dict, instance: str, ready_fd: int | None) -> int:
    # Ctrl+C (and a hang-up) reach every process of a terminal: the supervisor decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    parent = os.getppid()
    logs.configure(settings, instance)
    try:
        app = create_app()
    except Exception as error:  # a missing SECRET_KEY is one line; a broken import shows where
        log.error("worker %d: the app cannot start: %s", os.getpid(), error,
                  exc_info=not isinstance(error, RuntimeError))
        return APP_CANNOT_START
    app.before_serving(_freeze_what_startup_made)  # last: after langdetect's profiles are loaded
    # Hypercorn sets SO_REUSEPORT only under its own master; an fd:// bind takes our socket as it is.
    fds = [bound_socket(*address(bind)).detach() for bind in config.bind]
    config.bind = [f"fd://{fd}" for fd in fds]
    limit_connections(connection_cap(settings["MAX_CONNECTIONS"]))
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_serve(app, config, parent, fds, ready_fd))
    return 0


def event_loop_factory():
    """uvloop's event loop where it is installed (requirements.txt; a third or more of a page's
    time is event-loop work), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _freeze_what_startup_made() -> None:
    """What startup made lives as long as the worker (modules, the app, langdetect's profiles:
    about 180,000 objects): frozen, the garbage collector no longer walks it on every full
    collection (one took 50-150 ms, every few hundred requests)."""
    gc.collect()
    gc.freeze()


async def _tell_when_listening(fds: list[int], ready_fd: int) -> None:
    """For a reload: the supervisor stops the worker this one replaces once this one listens."""
    sockets = [socket.socket(fileno=os.dup(fd)) for fd in fds]  # copies: Hypercorn owns the originals
    try:
        while not all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for sock in sockets):
            await asyncio.sleep(0.05)
        os.write(ready_fd, b"1")
    finally:
        for sock in sockets:
            sock.close()
        os.close(ready_fd)


async def _serve(app: Quart, config: HypercornConfig, parent: int, fds: list[int] = (),
                 ready_fd: int | None = None) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if ready_fd is not None:
        telling = asyncio.create_task(_tell_when_listening(fds, ready_fd))  # noqa: F841 (kept till served)

    async def shutdown_trigger() -> None:
        while not stop.is_set() and os.getppid() == parent:
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PARENT_CHECK_SECONDS)
        log.info("worker %d stopping (%s): finishing the requests in flight (at most %g s)", os.getpid(),
                 "asked to" if stop.is_set() else "its supervisor is gone", config.graceful_timeout)

    await serve(app, config, shutdown_trigger=shutdown_trigger)
    log.info("worker %d stopped", os.getpid())

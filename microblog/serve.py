"""`python -m microblog.serve`: Hypercorn workers kept alive by a small supervisor.

Hypercorn's own `-w N` master (hypercorn/run.py) stops everything, with status 0, when one worker
dies; killed itself, it leaves its workers serving; and its workers leave signals to it, so a
SIGTERM that reaches them (systemd and Heroku signal every process) cuts their requests. Here:

- each worker is a process of its own (`--worker`) serving the app with `hypercorn.asyncio.serve`
  on a listening socket of its own, bound to the same address with SO_REUSEPORT: the kernel
  spreads new connections over the workers that listen, and a dead worker's share goes to the
  others at once;
- a worker stops gracefully on SIGTERM, or when its supervisor is gone: it stops accepting,
  finishes the requests in flight (up to Hypercorn's graceful_timeout), runs after_serving, exits;
- the supervisor holds the address (bound but never listening, so it takes no connection: nothing
  else can take the port while a worker restarts), starts WEB_CONCURRENCY workers, replaces one
  that dies (at once, then after 0.5, 1, 2 s while workers keep dying young) and on SIGTERM or
  SIGINT stops them all. It gives up and exits 1, for the platform to see, when the app cannot be
  created or workers die young MAX_YOUNG_DEATHS times in a row.
"""
import argparse
import asyncio
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart

from . import ROOT, create_app, logs
from .config import from_environment

log = logging.getLogger("microblog.serve")

INSTANCE = str(ROOT / "instance")
APP_CANNOT_START = 3  # a worker's exit status when create_app() fails: restarting will not help
YOUNG_SECONDS = 10  # a worker that dies sooner counts towards a crash loop
MAX_YOUNG_DEATHS = 5
STOP_MARGIN = 15  # beyond graceful_timeout: after_serving lets the job in hand finish (up to 10 s)
PARENT_CHECK_SECONDS = 1


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


# --- a worker ------------------------------------------------------------------------------

def run_worker(config: HypercornConfig) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches every process: the supervisor decides
    parent = os.getppid()
    logs.configure(from_environment(INSTANCE), INSTANCE)
    try:
        app = create_app()
    except Exception as error:  # a missing SECRET_KEY is one line; a broken import shows where
        log.error("worker %d: the app cannot start: %s", os.getpid(), error,
                  exc_info=not isinstance(error, RuntimeError))
        return APP_CANNOT_START
    app.before_serving(_freeze_what_startup_made)  # last: after langdetect's profiles are loaded
    # Hypercorn sets SO_REUSEPORT only under its own master; an fd:// bind takes our socket as it is.
    config.bind = [f"fd://{bound_socket(*address(bind)).detach()}" for bind in config.bind]
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_serve(app, config, parent))
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


async def _serve(app: Quart, config: HypercornConfig, parent: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def shutdown_trigger() -> None:
        while not stop.is_set() and os.getppid() == parent:
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PARENT_CHECK_SECONDS)
        log.info("worker %d stopping (%s): finishing the requests in flight (at most %g s)", os.getpid(),
                 "asked to" if stop.is_set() else "its supervisor is gone", config.graceful_timeout)

    await serve(app, config, shutdown_trigger=shutdown_trigger)
    log.info("worker %d stopped", os.getpid())


# --- the supervisor ------------------------------------------------------------------------

def describe(status: int) -> str:
    return f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"


@dataclass
class Worker:
    process: subprocess.Popen
    started: float = field(default_factory=time.monotonic)


class Supervisor:
    def __init__(self, command: list[str], count: int, graceful_timeout: float, backoff: float = 0.5):
        self.command, self.count = command, count
        self.graceful_timeout, self.backoff = graceful_timeout, backoff
        self.workers: dict[int, Worker] = {}  # by slot
        self.restarts: dict[int, float] = {}  # slot → when its next worker starts
        self.young_deaths = 0
        self.stop_signal: int | None = None

    def run(self) -> int:
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, self._stop_requested)
        for slot in range(self.count):
            self._start(slot)
        failure = None
        while failure is None:
            time.sleep(0.1)
            if self.stop_signal is not None:  # before looking: workers may be stopping already
                break
            failure = self._replace_the_dead()
        return self._stop(failure)

    def _stop_requested(self, signal_number: int, _frame) -> None:
        self.stop_signal = self.stop_signal or signal_number

    def _start(self, slot: int) -> None:
        process = subprocess.Popen(self.command)
        self.workers[slot] = Worker(process)
        log.info("worker %d started", process.pid)

    def _replace_the_dead(self) -> str | None:
        """Start the workers that are due; a reason to give up, or None."""
        now = time.monotonic()
        for slot, when in list(self.restarts.items()):
            if now >= when:
                del self.restarts[slot]
                self._start(slot)
        for slot, worker in list(self.workers.items()):
            status = worker.process.poll()
            if status is None:
                continue
            del self.workers[slot]
            lived = now - worker.started
            self.young_deaths = self.young_deaths + 1 if lived < YOUNG_SECONDS else 0
            if status == APP_CANNOT_START:
                return f"worker {worker.process.pid} could not create the app"
            if self.young_deaths >= MAX_YOUNG_DEATHS:
                return f"worker {worker.process.pid} died ({describe(status)}), the {self.young_deaths}th in a row " \
                       f"within {YOUNG_SECONDS} s of starting"
            delay = 0 if self.young_deaths <= 1 else self.backoff * 2 ** (self.young_deaths - 2)
            log.warning("worker %d died (%s) after %.1f s; another starts in %g s",
                        worker.process.pid, describe(status), lived, delay)
            self.restarts[slot] = now + delay
        return None

    def _stop(self, failure: str | None) -> int:
        if failure:
            log.error("giving up: %s; stopping", failure)
        else:
            log.info("shutting down (%s): the workers finish the requests in flight (at most %g s)",
                     signal.Signals(self.stop_signal).name, self.graceful_timeout)
        for worker in self.workers.values():
            worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.graceful_timeout + STOP_MARGIN
        clean = failure is None
        for worker in self.workers.values():
            try:
                status = worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                status = worker.process.wait()
                log.error("worker %d did not stop in time: killed", worker.process.pid)
            clean = clean and status in (0, -signal.SIGTERM)  # -SIGTERM: stopped before it served
        if clean:
            log.info("shut down: every worker has stopped")
        else:
            log.error("stopped, exit status 1")
        return 0 if clean else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m microblog.serve",
                                     description="Serve microblog: WEB_CONCURRENCY Hypercorn workers, kept alive.")
    parser.add_argument("-c", "--config", default="hypercorn.toml", help="Hypercorn settings (default: %(default)s)")
    parser.add_argument("-b", "--bind", action="append", help="HOST:PORT, instead of the settings' bind")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = from_environment(INSTANCE)
    config = HypercornConfig.from_toml(args.config)
    if args.bind:
        config.bind = args.bind
    if not settings["ACCESS_LOG"]:  # a line per request costs a cheap page a quarter of its time
        config.accesslog = None
    if args.worker:
        return run_worker(config)

    logs.configure(settings, INSTANCE)
    try:
        held = [bound_socket(*address(bind)) for bind in config.bind]  # noqa: F841 (held till exit)
    except OSError as error:
        log.error("cannot serve on %s: %s", " ".join(config.bind), error)
        return 1
    log.info("microblog serving on %s with %d worker(s), supervisor %d",
             " ".join(config.bind), settings["WEB_CONCURRENCY"], os.getpid())
    command = [sys.executable, "-m", "microblog.serve", "--worker", "--config", args.config,
               *(f"--bind={bind}" for bind in config.bind)]
    return Supervisor(command, settings["WEB_CONCURRENCY"], config.graceful_timeout).run()


def exit_now(status: int) -> None:
    """Exit without freeing the heap object by object: with langdetect's profiles loaded that takes
    a worker seconds, which every stop and restart would wait for. Nothing is left to clean up."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    exit_now(main())

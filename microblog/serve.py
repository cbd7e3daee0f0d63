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
- the supervisor (here) holds the address (bound but never listening, so it takes no connection:
  nothing else can take the port while a worker restarts), starts WEB_CONCURRENCY workers,
  replaces one that dies (at once, then after 0.5, 1, 2 s while workers keep dying young) and on
  SIGTERM or SIGINT stops them all. It gives up and exits 1, for the platform to see, when the app
  cannot be created or workers die young MAX_YOUNG_DEATHS times in a row;
- SIGHUP (systemd's `ExecReload=kill -HUP $MAINPID`: `systemctl reload`) replaces each worker in
  turn: a new one starts (new code, `.env`, hypercorn.toml: a worker reads them as it starts) and
  once it listens the old one is stopped gracefully, so the site serves throughout. The
  supervisor itself re-reads nothing (WEB_CONCURRENCY, the address stay). A new worker that
  cannot start ends the reload: the old ones keep serving, and the log says why;
- a second `microblog.serve` on an address already served refuses to start (SO_REUSEPORT would
  let it bind): deployment/addresses.py.
The worker's side is deployment/worker.py, its connection cap deployment/connections.py.
"""
import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field

from hypercorn.config import Config as HypercornConfig

from . import ROOT, logs
from .config import from_environment
from .deployment.addresses import address, bound_socket, claim, release  # noqa: F401 (bound_socket: tests)
from .deployment.worker import APP_CANNOT_START, _serve, run_worker  # noqa: F401 (_serve: tests)

log = logging.getLogger("microblog.serve")

INSTANCE = str(ROOT / "instance")
YOUNG_SECONDS = 10  # a worker that dies sooner counts towards a crash loop
MAX_YOUNG_DEATHS = 5
STOP_MARGIN = 15  # beyond graceful_timeout: after_serving lets the job in hand finish (up to 10 s)
READY_SECONDS = 120  # a new worker of a reload that does not listen by then is given up


# --- the supervisor ------------------------------------------------------------------------

def describe(status: int) -> str:
    return f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"


@dataclass
class Worker:
    process: subprocess.Popen
    ready_pipe: int | None = None  # a reload's new worker writes a byte to it once it listens
    started: float = field(default_factory=time.monotonic)

    def listens(self) -> bool:
        if self.ready_pipe is None:
            return False
        try:
            told = os.read(self.ready_pipe, 1) == b"1"
        except BlockingIOError:
            return False
        os.close(self.ready_pipe)  # told, or the worker closed it without telling (it ended)
        self.ready_pipe = None
        return told


class Supervisor:
    def __init__(self, command: list[str], count: int, graceful_timeout: float, backoff: float = 0.5):
        self.command, self.count = command, count
        self.graceful_timeout, self.backoff = graceful_timeout, backoff
        self.workers: dict[int, Worker] = {}  # by slot
        self.restarts: dict[int, float] = {}  # slot → when its next worker starts
        self.young_deaths = 0
        self.stop_signal: int | None = None
        # A reload: the slots still to replace, the new worker starting for one, the old ones stopping.
        self.reload_asked = self.reloading = False
        self.to_replace: list[int] = []
        self.incoming: tuple[int, Worker] | None = None
        self.retiring: list[Worker] = []

    def run(self) -> int:
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, self._stop_requested)
        signal.signal(signal.SIGHUP, self._reload_requested)  # by default it would kill us, silently
        for slot in range(self.count):
            self.workers[slot] = self._start()
        failure = None
        while failure is None:
            time.sleep(0.1)
            if self.stop_signal is not None:  # before looking: workers may be stopping already
                break
            failure = self._replace_the_dead()
            self._reload()
        return self._stop(failure)

    def _stop_requested(self, signal_number: int, _frame) -> None:
        self.stop_signal = self.stop_signal or signal_number

    def _reload_requested(self, _signal_number: int, _frame) -> None:
        self.reload_asked = True  # logged by the loop: a signal handler should not take the log's lock

    def _start(self, tell_when_listening: bool = False) -> Worker:
        if not tell_when_listening:
            process = subprocess.Popen(self.command)
            read_end = None
        else:
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            try:
                process = subprocess.Popen([*self.command, f"--ready-fd={write_end}"], pass_fds=(write_end,))
            finally:
                os.close(write_end)  # the worker's now
        log.info("worker %d started", process.pid)
        return Worker(process, read_end)

    def _replace_the_dead(self) -> str | None:
        """Start the workers that are due; a reason to give up, or None."""
        now = time.monotonic()
        for slot, when in list(self.restarts.items()):
            if now >= when:
                del self.restarts[slot]
                self.workers[slot] = self._start()
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

    def _reload(self) -> None:
        """One step of replacing the workers one by one (SIGHUP)."""
        if self.reload_asked:
            self.reload_asked, self.reloading = False, True
            self.to_replace = sorted(self.workers)  # a second SIGHUP starts the round again
            log.info("SIGHUP: replacing the %d worker(s) one by one, each once its successor listens",
                     len(self.to_replace))
        for worker in list(self.retiring):
            if (status := worker.process.poll()) is not None:
                self.retiring.remove(worker)
                if status not in (0, -signal.SIGTERM):
                    log.warning("replaced worker %d ended badly (%s)", worker.process.pid, describe(status))
        if self.incoming:
            self._take_over(*self.incoming)
        elif self.to_replace:
            slot = self.to_replace.pop(0)
            if slot in self.workers:  # else it is dead, and its next worker starts anyway
                self.incoming = slot, self._start(tell_when_listening=True)
        elif self.reloading and not self.retiring:
            self.reloading = False
            log.info("reload done: every worker replaced")

    def _take_over(self, slot: int, new: Worker) -> None:
        """The new worker replaces the slot's once it listens; a reload whose new worker cannot
        start ends there, the old ones serving."""
        status = new.process.poll()
        why = ": it could not create the app" if status == APP_CANNOT_START else ""
        if status is None and time.monotonic() - new.started > READY_SECONDS:
            new.process.kill()
            status, why = new.process.wait(), f": it did not listen within {READY_SECONDS} s"
        if status is not None:
            log.error("reload abandoned: the new worker %d ended before it served (%s)%s; the old "
                      "workers keep serving", new.process.pid, describe(status), why)
            if new.ready_pipe is not None:
                os.close(new.ready_pipe)
            self.incoming, self.to_replace, self.reloading = None, [], False
            return
        if not new.listens():
            return
        self.incoming = None
        self.restarts.pop(slot, None)  # the slot's worker may have died meanwhile
        old = self.workers.get(slot)
        self.workers[slot] = new
        if old is not None:
            old.process.send_signal(signal.SIGTERM)
            self.retiring.append(old)
            log.info("worker %d listens: worker %d stops after its requests in flight",
                     new.process.pid, old.process.pid)

    def _stop(self, failure: str | None) -> int:
        if failure:
            log.error("giving up: %s; stopping", failure)
        else:
            log.info("shutting down (%s): the workers finish the requests in flight (at most %g s)",
                     signal.Signals(self.stop_signal).name, self.graceful_timeout)
        everyone = [*self.workers.values(), *self.retiring, *([self.incoming[1]] if self.incoming else [])]
        for worker in everyone:
            with suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.graceful_timeout + STOP_MARGIN
        clean = failure is None
        for worker in everyone:
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
    parser.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)  # a reload's new worker
    args = parser.parse_args(argv)
    settings = from_environment(INSTANCE)
    config = HypercornConfig.from_toml(args.config)
    if args.bind:
        config.bind = args.bind
    if not settings["ACCESS_LOG"]:  # a line per request costs a cheap page a quarter of its time
        config.accesslog = None
    if args.worker:
        return run_worker(config, settings, INSTANCE, args.ready_fd)

    logs.configure(settings, INSTANCE)
    try:
        locks = [claim(bind, INSTANCE) for bind in config.bind]
        held = [bound_socket(*address(bind)) for bind in config.bind]  # noqa: F841 (held till exit)
    except SystemExit as refusal:
        log.error("%s", refusal)
        return 1
    except OSError as error:
        log.error("cannot serve on %s: %s", " ".join(config.bind), error)
        return 1
    log.info("microblog serving on %s with %d worker(s), supervisor %d",
             " ".join(config.bind), settings["WEB_CONCURRENCY"], os.getpid())
    command = [sys.executable, "-m", "microblog.serve", "--worker", "--config", args.config,
               *(f"--bind={bind}" for bind in config.bind)]
    try:
        return Supervisor(command, settings["WEB_CONCURRENCY"], config.graceful_timeout).run()
    finally:
        for lock in locks:
            release(lock)


def exit_now(status: int) -> None:
    """Exit without freeing the heap object by object: with langdetect's profiles loaded that takes
    a worker seconds, which every stop and restart would wait for. Nothing is left to clean up."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    exit_now(main())

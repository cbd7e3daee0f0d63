"""Helpers for the mail tests: an SMTP server that keeps what it receives, job states, and
`quart jobs run` processes."""
import asyncio
import os
import subprocess
import sys
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import select

from microblog.db import new_session
from microblog.jobs import Job

ROOT = Path(__file__).resolve().parent.parent.parent
SENDER = "microblog <no-reply@example.org>"
BASE_URL = "https://example.org/microblog"


class Inbox:
    """An aiosmtpd handler that keeps every message it receives (and refuses `refuse`)."""

    def __init__(self, refuse: str | None = None, refusal: str = "550 5.1.1 No such user here"):
        self.messages: list[EmailMessage] = []
        self.refuse, self.refusal = refuse, refusal

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`, which can be stopped and started again on the same port."""

    def __init__(self, port: int, **options):
        self.port, self.options = port, options
        self.inbox = Inbox(options.pop("refuse", None), options.pop("refusal", "550 5.1.1 No such user here"))
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def wait(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"expected {count} message(s), got {len(self.messages)}"
            await asyncio.sleep(0.02)
        return self.messages

    async def none_more(self, count: int, settle: float = 0.3) -> None:
        """After a while, still exactly `count` messages (no duplicate came late)."""
        await asyncio.sleep(settle)
        assert len(self.messages) == count, [m["Subject"] for m in self.messages]


async def all_jobs(app) -> list[Job]:
    async with app.app_context():
        async with new_session() as db:
            return list(await db.scalars(select(Job).order_by(Job.id)))


async def wait_until(condition, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def jobs_settled(app, kind: str | None = None, timeout: float = 10) -> list[Job]:
    """Every job (of `kind`) done or failed."""
    async def settled():
        return all(job.state in ("done", "failed") for job in await all_jobs(app) if kind in (None, job.kind))
    await wait_until(settled, timeout, "the jobs to finish")
    return [job for job in await all_jobs(app) if kind in (None, job.kind)]


def body(message: EmailMessage, kind: str) -> str:
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


def job_runner_process(database_url: str, smtp_port: int, log: Path, **env) -> subprocess.Popen:
    """`quart jobs run` as its own process, as an operator would start it."""
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "x", "BASE_URL": BASE_URL,
                   "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "JOBS_POLL_SECONDS": "0.1",
                   "LOG_TO_STDOUT": "1", "MICROBLOG_DOTENV": str(log.parent / "no.env"), **env}
    return subprocess.Popen([sys.executable, "-m", "quart", "--app", "microblog", "jobs", "run"],
                            cwd=ROOT, env=environment, stdout=open(log, "w"), stderr=subprocess.STDOUT)

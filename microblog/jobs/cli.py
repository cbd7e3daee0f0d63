"""Starting the runner with each web worker, and `quart jobs run | status | retry`."""
import asyncio
import signal

import click
from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import db as database
from ..db import utcnow
from .model import FAILED, QUEUED, Job
from .runner import JobRunner, log


async def counts(db: AsyncSession) -> list[tuple[str, str, int]]:
    return list((await db.execute(select(Job.kind, Job.state, func.count())
                                  .group_by(Job.kind, Job.state).order_by(Job.kind, Job.state))).all())


async def requeue_failed(db: AsyncSession, kind: str | None = None) -> int:
    """Failed jobs back in the queue, with a fresh set of attempts (staged). They come back
    without their deduplication key (another job may hold it by now)."""
    query = update(Job).where(Job.state == FAILED).values(
        state=QUEUED, attempts=0, run_after=utcnow(), updated_at=utcnow())
    if kind:
        query = query.where(Job.kind == kind)
    return (await db.execute(query.execution_options(synchronize_session=False))).rowcount


def init_app(app: Quart) -> None:
    @app.before_serving
    async def _start_runner() -> None:
        if app.config["JOBS_RUN_IN_WEB"]:
            runner = app.extensions["job_runner"] = JobRunner(app)
            runner.start()

    @app.after_serving
    async def _stop_runner() -> None:
        runner = app.extensions.pop("job_runner", None)
        if runner is not None:
            await runner.stop()

    jobs = click.Group("jobs", help="Durable background jobs (mail, indexing).")
    app.cli.add_command(jobs)

    async def with_database(work):
        async with database.command_context(app):
            return await work()

    @jobs.command(help="Run jobs in this process until interrupted (beside or instead of the web workers).")
    def run():
        async def serve():
            runner = JobRunner(app)
            stop = asyncio.Event()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signal_number, stop.set)
            runner.start()
            log.info("job runner started")
            await stop.wait()
            log.info("job runner stopping")
            await runner.stop()
            log.info("job runner stopped")
        asyncio.run(with_database(serve))

    @jobs.command(help="Count jobs by kind and state.")
    def status():
        async def show():
            async with database.new_session() as db:
                rows = await counts(db)
            if not rows:
                click.echo("no jobs")
            for kind, state, count in rows:
                click.echo(f"{kind:24} {state:8} {count}")
        asyncio.run(with_database(show))

    @jobs.command(help="Put failed jobs back in the queue.")
    @click.option("--kind", help="Only jobs of this kind.")
    def retry(kind):
        async def requeue():
            async with database.separate_transaction() as db:
                return await requeue_failed(db, kind)
        click.echo(f"{asyncio.run(with_database(requeue))} job(s) queued again")

"""Publishing through the site and waiting for the index, for the search tests."""
import asyncio
import time

from sqlalchemy import select

from conftest import post
from microblog.db import new_session
from microblog.jobs import Job

from helpers import HTMX, logged_in, page_of, post_ids  # noqa: F401 (re-exported)


async def publish(client, body: str) -> None:
    response = await post(client, "/index", {"post": body})
    assert response.status_code == 303, response.status_code


async def jobs_done(app, timeout: float = 10) -> list[Job]:
    """Every job done or failed (the runner in the test app runs them as they are committed)."""
    deadline = time.monotonic() + timeout
    while True:
        async with app.app_context():
            async with new_session() as db:
                jobs = list(await db.scalars(select(Job).order_by(Job.id)))
        if all(job.state in ("done", "failed") for job in jobs):
            return jobs
        assert time.monotonic() < deadline, f"jobs still pending: {jobs}"
        await asyncio.sleep(0.02)


async def search(client, query: str, htmx: bool = False, status: int = 200) -> str:
    response = await client.get("/search", query_string={"q": query}, headers=HTMX if htmx else {})
    assert response.status_code == status
    return await response.get_data(as_text=True)

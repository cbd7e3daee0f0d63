"""Search latency with one client, in-process: the backend's query alone, and the whole /search page
(query, re-check against the database, highlighting, rendering), for a few kinds of query.

    venv/bin/python bench/search_latency.py DATABASE_URL [--index-dir DIR] [--repeat 50]

Run `quart search reindex` first on SQLite (Whoosh). Figures: p50 and p90 in milliseconds.
"""
import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = [
    ("one common word (25,000 hits)", "book"),
    ("two words (25,000 hits)", "sailors history"),
    ("a stemmed Spanish word", "amigo"),
    ("a prefix", "wonder*"),
    ("a phrase", '"fresh bread"'),
    ("one rare word (1 hit)", "123457"),
    ("no hits", "zebra"),
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(url: str, index_dir: str | None, repeat: int) -> None:
    from microblog import create_app
    from microblog.config import normalise_database_url
    from microblog.db import new_session

    config = {"DATABASE_URL": normalise_database_url(url), "TESTING": True, "JOBS_RUN_IN_WEB": False,
              "SLOW_QUERY_SECONDS": 5}
    if index_dir:
        config["SEARCH_INDEX_DIR"] = index_dir
    app = create_app(config)
    async with app.test_app():
        client = app.test_client()
        backend = app.extensions["search_backend"]
        print(f"backend {backend.name}, {repeat} runs each after 3 warm-up runs\n")
        print("| query | hits | backend p50 ms | backend p90 ms | page p50 ms | page p90 ms |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, query in QUERIES:
            backend_times, page_times = [], []
            for run in range(repeat + 3):
                async with app.app_context():
                    async with new_session() as db:
                        started = time.perf_counter()
                        hits = await backend.search(db, query, 0, app.config["POSTS_PER_PAGE"])
                        elapsed = time.perf_counter() - started
                started = time.perf_counter()
                response = await client.get("/search", query_string={"q": query})
                page_elapsed = time.perf_counter() - started
                assert response.status_code == 200
                if run >= 3:
                    backend_times.append(elapsed * 1000)
                    page_times.append(page_elapsed * 1000)
            print(f"| {name}: `{query}` | {hits.total} | {statistics.median(backend_times):.1f} | "
                  f"{percentile(backend_times, 0.9):.1f} | {statistics.median(page_times):.1f} | "
                  f"{percentile(page_times, 0.9):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--index-dir", help="SEARCH_INDEX_DIR (Whoosh)")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("MICROBLOG_DOTENV", "/nonexistent/.env")
    asyncio.run(measure(args.database_url, args.index_dir, args.repeat))


if __name__ == "__main__":
    main()

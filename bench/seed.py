"""Generate the benchmark data set: the tutorial's shape at scale.

    venv/bin/python bench/seed.py DATABASE_URL [--users 10000] [--posts 200000] [--follows 100] [--remote 0]

10,000 users, 200,000 posts over a year in 8 languages, about 100 follows each (1,000,000 rows),
and one heavy reader (the last user) who follows 5,000. With --remote N, N of the users (those
just before the heavy reader) are people from elsewhere, on 100 servers, and their posts came
from there (an ActivityPub id, sanitized HTML, a link to the original): a home timeline then
shows posts from elsewhere in that share.
Every user's password is "benchmark". The database is created from the models (empty first).
Deterministic (seeded), so runs compare.
"""
import argparse
import asyncio
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from microblog.accounts import LocalUser, User  # noqa: E402
from microblog.cli import alembic_config  # noqa: E402
from microblog.config import normalise_database_url  # noqa: E402
from microblog.db import Base, make_engine, utcnow  # noqa: E402
from microblog.federation.models import RemoteActor  # noqa: E402
from microblog.follows.models import followers  # noqa: E402
from microblog.posts import Post  # noqa: E402

PASSWORD = "benchmark"
SAMPLES = {
    "en": "Just finished reading a wonderful book about the history of the sea and its sailors",
    "es": "Hoy he paseado por el parque con mis amigos y hemos comido helado de chocolate",
    "fr": "Nous sommes allés au marché ce matin pour acheter du pain frais et des fromages",
    "de": "Heute habe ich einen langen Spaziergang im Wald gemacht und viele Vögel gesehen",
    "it": "Stasera cucino la pasta con il pomodoro fresco e il basilico del mio giardino",
    "pt": "Ontem fomos à praia e o mar estava calmo, a água estava quente e muito bonita",
    "ru": "Сегодня я читал интересную книгу о путешествиях и далёких странах мира",
    "ja": "今日は友達と一緒に公園で散歩して、とても楽しい一日を過ごしました",
}
BATCH = 5000


async def seed(url: str, users: int, posts: int, follows: int, remote: int = 0) -> None:
    rnd = random.Random(42)
    engine = make_engine(normalise_database_url(url))
    started = time.monotonic()
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        else:
            await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    password_hash = PasswordHasher().hash(PASSWORD)
    now = utcnow()
    year = 365 * 24 * 3600

    async def insert_rows(table, rows):
        async with engine.begin() as conn:
            for start in range(0, len(rows), BATCH):
                await conn.execute(insert(table), rows[start:start + BATCH])

    elsewhere = range(users - remote, users)  # the heavy reader (the last) is here

    def domain(i: int) -> str:
        return f"server{i % 100}.example" if i in elsewhere else ""

    await insert_rows(User.__table__, [
        {"id": i, "nickname": f"user{i}", "domain": domain(i), "about_me": f"I am user number {i}."}
        for i in range(1, users + 1)])
    await insert_rows(LocalUser.__table__, [
        {"user_id": i, "email": f"user{i}@example.com", "password_hash": password_hash, "last_seen": now}
        for i in range(1, users + 1) if i not in elsewhere])
    await insert_rows(RemoteActor.__table__, [
        {"user_id": i, "actor_id": f"https://{domain(i)}/users/user{i}", "key_id": f"https://{domain(i)}/users/user{i}#main-key",
         "inbox": f"https://{domain(i)}/users/user{i}/inbox", "shared_inbox": f"https://{domain(i)}/inbox",
         "profile_url": f"https://{domain(i)}/@user{i}", "fetched_at": now} for i in elsewhere])
    print(f"{users} users, {remote} of them elsewhere ({time.monotonic() - started:.1f} s)")

    languages = list(SAMPLES)
    rows = []
    for i in range(1, posts + 1):
        language = rnd.choice(languages)
        author = rnd.randint(1, users)
        row = {"id": i, "user_id": author, "language": language, "body": f"{SAMPLES[language][:120]} #{i}",
               "timestamp": now - timedelta(seconds=rnd.randint(0, year)), "ap_id": None, "url": None, "html": None}
        if author in elsewhere:  # as federation/notes.py keeps one: the text, and its HTML made safe
            ap_id = f"https://{domain(author)}/users/user{author}/statuses/{i}"
            row.update(ap_id=ap_id, url=ap_id, html=f'<p>{row["body"]} <a href="https://example.org/{i}" '
                                                    f'rel="nofollow noopener noreferrer ugc">example.org/{i}</a></p>')
        rows.append(row)
    await insert_rows(Post.__table__, rows)
    print(f"{posts} posts ({time.monotonic() - started:.1f} s)")

    rows = []
    for follower in range(1, users + 1):
        # The last user is the heavy reader: they follow half the site (5,000 of 10,000).
        wanted = follows if follower < users else max(follows, users // 2)
        chosen = [f for f in rnd.sample(range(1, users + 1), min(wanted + 1, users)) if f != follower]
        rows.extend({"follower_id": follower, "followed_id": followed,
                     "timestamp": now - timedelta(seconds=rnd.randint(0, year))} for followed in chosen[:wanted])
    await insert_rows(followers, rows)
    print(f"{len(rows)} follows ({time.monotonic() - started:.1f} s)")

    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("user", "post"):
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"))
            await conn.execute(text("ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
    await engine.dispose()
    # The schema is the models' own: mark it as migrated to the latest revision.
    await asyncio.to_thread(command.stamp, alembic_config(normalise_database_url(url)), "head")
    print(f"done in {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--follows", type=int, default=100)
    parser.add_argument("--remote", type=int, default=0, help="how many users are people from elsewhere")
    args = parser.parse_args()
    asyncio.run(seed(args.database_url, args.users, args.posts, args.follows, args.remote))


if __name__ == "__main__":
    main()

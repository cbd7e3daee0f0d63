"""Settings read from the environment (a `.env` file is honoured in development)."""
import os
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"


def normalise_prefix(value: str | None) -> str:
    """"microblog/", "/microblog" → "/microblog"; "" or "/" → "" (served at the root)."""
    value = (value or "").strip().strip("/")
    return f"/{value}" if value else ""


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` URLs and plain `postgresql://` ones for asyncpg, and
    `mysql://`/`mariadb://` for asyncmy (in utf8mb4: every character, emoji too)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    for prefix in ("mysql://", "mariadb://", "mysql+asyncmy://", "mariadb+asyncmy://"):
        if url.startswith(prefix):
            url = "mysql+asyncmy://" + url[len(prefix):]
            return url if "charset=" in url else url + ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def from_environment(instance_path: str) -> dict:
    load_dotenv(os.environ.get("MICROBLOG_DOTENV", ".env"))
    env = os.environ.get
    default_db = "sqlite+aiosqlite:///" + str(Path(instance_path) / "microblog.sqlite")
    secure_cookies = _bool(env("SECURE_COOKIES"), default=True)
    remember_me_days = float(env("REMEMBER_ME_DAYS") or 365)
    return {
        "SECRET_KEY": env("SECRET_KEY") or DEV_SECRET_KEY,
        "DEBUG": _bool(env("QUART_DEBUG")),
        "DATABASE_URL": normalise_database_url(env("DATABASE_URL") or default_db),
        "POSTS_PER_PAGE": int(env("POSTS_PER_PAGE") or 25),
        "POST_MAX_CHARS": int(env("POST_MAX_CHARS") or 500),
        "BASE_URL": (env("BASE_URL") or "").rstrip("/"),
        # Served under a path (https://example.org/microblog/): URL_PREFIX=/microblog, by default
        # the path of BASE_URL. The proxy passes the whole path on (deployment/proxy.py).
        "URL_PREFIX": normalise_prefix(env("URL_PREFIX") if env("URL_PREFIX") is not None
                                       else urlsplit(env("BASE_URL") or "").path),
        "MAIL_SERVER": env("MAIL_SERVER") or "localhost",
        "MAIL_PORT": int(env("MAIL_PORT") or (465 if _bool(env("MAIL_USE_SSL")) else 25)),
        "MAIL_USE_TLS": _bool(env("MAIL_USE_TLS")),  # STARTTLS, required
        "MAIL_USE_SSL": _bool(env("MAIL_USE_SSL")),  # TLS from the first byte (port 465)
        "MAIL_USERNAME": env("MAIL_USERNAME"),
        "MAIL_PASSWORD": env("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER") or "microblog <no-reply@localhost>",
        "MAIL_TIMEOUT": float(env("MAIL_TIMEOUT") or 30),
        # Development: messages go to the log (logger microblog.mail) instead of a mail server.
        "MAIL_SUPPRESS_SEND": _bool(env("MAIL_SUPPRESS_SEND")),
        # At most one error report of each kind to ADMINS per this many seconds.
        "ERROR_MAIL_INTERVAL": float(env("ERROR_MAIL_INTERVAL") or 600),
        "ADMINS": _list(env("ADMINS")),
        "LANGUAGES": _list(env("LANGUAGES")) or ["en", "es"],
        "TRANSLATOR": env("TRANSLATOR") or "",
        "TRANSLATOR_URL": env("TRANSLATOR_URL") or "",
        "TRANSLATOR_KEY": env("TRANSLATOR_KEY") or "",
        "TRANSLATOR_REGION": env("TRANSLATOR_REGION") or "",
        "TRANSLATOR_TIMEOUT": float(env("TRANSLATOR_TIMEOUT") or 10),  # seconds per call
        # Translations a reader may ask of the provider per hour (those already kept are free).
        "TRANSLATIONS_PER_HOUR": int(env("TRANSLATIONS_PER_HOUR") or 30),
        "LOG_TO_STDOUT": _bool(env("LOG_TO_STDOUT"), default=bool(env("DYNO"))),  # Heroku sets DYNO
        # A line per request (Hypercorn's access log): the reverse proxy or platform in front
        # usually keeps one already.
        "ACCESS_LOG": _bool(env("ACCESS_LOG")),
        # Worker processes `python -m microblog.serve` keeps alive (Heroku sets WEB_CONCURRENCY).
        "WEB_CONCURRENCY": int(env("WEB_CONCURRENCY") or 1),
        # Identicons drawn by the site; "gravatar" sends each shown user's e-mail hash to gravatar.com.
        "AVATARS": (env("AVATARS") or "identicon").strip().lower(),
        # Durable jobs (jobs/): every web worker runs them unless JOBS_RUN_IN_WEB=0 (then run
        # `quart jobs run` as a process of its own).
        "JOBS_RUN_IN_WEB": _bool(env("JOBS_RUN_IN_WEB"), default=True),
        "JOBS_POLL_SECONDS": float(env("JOBS_POLL_SECONDS") or 5),
        "JOBS_LEASE_SECONDS": float(env("JOBS_LEASE_SECONDS") or 300),
        "JOBS_RETRY_SECONDS": float(env("JOBS_RETRY_SECONDS") or 30),
        "JOBS_MAX_ATTEMPTS": int(env("JOBS_MAX_ATTEMPTS") or 10),
        # Jobs one runner runs at once (a kind may declare fewer for itself: mail one at a time).
        "JOBS_CONCURRENCY": int(env("JOBS_CONCURRENCY") or 4),
        # Finished jobs are deleted this many days after they finished (failed ones later).
        "JOBS_KEEP_DAYS": float(env("JOBS_KEEP_DAYS") or 7),
        "JOBS_KEEP_FAILED_DAYS": float(env("JOBS_KEEP_FAILED_DAYS") or 30),
        "SLOW_QUERY_SECONDS": float(env("SLOW_QUERY_SECONDS") or 0.5),
        # PROFILE=1: a pyinstrument profile of each request slower than PROFILE_SECONDS, as HTML
        # in PROFILE_DIR (deployment/profiling.py).
        "PROFILE": _bool(env("PROFILE")),
        "PROFILE_SECONDS": float(env("PROFILE_SECONDS") or 0.5),
        "PROFILE_DIR": env("PROFILE_DIR") or str(Path(instance_path) / "profiles"),
        # Passing database trouble is a 503 after a few seconds, never a hung site.
        "DB_BUSY_TIMEOUT_MS": int(env("DB_BUSY_TIMEOUT_MS") or 5000),  # SQLite: wait for a writer
        "DB_STATEMENT_TIMEOUT_MS": int(env("DB_STATEMENT_TIMEOUT_MS") or 5000),  # PostgreSQL
        "DB_LOCK_TIMEOUT_MS": int(env("DB_LOCK_TIMEOUT_MS") or 3000),  # PostgreSQL
        "DB_POOL_TIMEOUT": float(env("DB_POOL_TIMEOUT") or 5),  # seconds to wait for a free connection
        "DB_POOL_SIZE": int(env("DB_POOL_SIZE") or 10),  # kept per worker; in bursts as many again (SQLite: any number)
        # A view still running after this many seconds is cancelled and answered 503.
        "REQUEST_TIMEOUT": float(env("REQUEST_TIMEOUT") or 20),
        # Quart's: a request's body not all received after this many seconds is answered 408 (our
        # forms are small; a client that sends slowly holds a connection of a worker meanwhile).
        "BODY_TIMEOUT": float(env("BODY_TIMEOUT") or 10),
        # Open connections per worker (microblog/deployment/connections.py); 0: as many as its
        # limit of open files leaves (128 fewer).
        "MAX_CONNECTIONS": int(env("MAX_CONNECTIONS") or 0),
        # Federation (federation/fetch.py): how long another server may take to answer; private
        # addresses (loopback, the LAN) are never called on another server's behalf unless
        # FEDERATION_ALLOW_PRIVATE_ADDRESSES=1, for tests whose peers run on this machine.
        # On (1) or off (0); unset: on when BASE_URL is https (other servers need https).
        "FEDERATION": _bool(env("FEDERATION")) if env("FEDERATION") else None,
        "FEDERATION_TIMEOUT": float(env("FEDERATION_TIMEOUT") or 10),
        # Activities from one server waiting to be handled, at most: past it the inbox answers
        # 429 and the sender tries again later (a flood queues within bounds).
        "FEDERATION_INBOX_QUEUE_PER_HOST": int(env("FEDERATION_INBOX_QUEUE_PER_HOST") or 500),
        "FEDERATION_ALLOW_PRIVATE_ADDRESSES": _bool(env("FEDERATION_ALLOW_PRIVATE_ADDRESSES")),
        # Posts from elsewhere nobody here follows any longer, and people from elsewhere nothing
        # here points at, are forgotten after this many days (federation/pruning.py); 0 keeps them.
        "FEDERATION_PRUNE_DAYS": int(env("FEDERATION_PRUNE_DAYS") or 30),
        "PASSWORD_HASH_TIME_COST": int(env("PASSWORD_HASH_TIME_COST") or 2),
        "PASSWORD_HASH_MEMORY_COST": int(env("PASSWORD_HASH_MEMORY_COST") or 19456),
        "RESET_TOKEN_MAX_AGE": int(env("RESET_TOKEN_MAX_AGE") or 3600),
        # The site has no uploads: bigger bodies are refused (413) before they are read.
        "MAX_CONTENT_LENGTH": int(env("MAX_BODY_BYTES") or 64 * 1024),
        # Browsers that saw it keep to https for this long (only sent when cookies are Secure,
        # i.e. the site is served over https).
        "HSTS_SECONDS": int(env("HSTS_SECONDS") or 31536000) if secure_cookies else 0,
        # Log-in sessions (accounts/sessions.py): without "remember me" a session ends with the
        # browser and after this long without a visit; with it, after REMEMBER_ME_DAYS.
        "SESSION_IDLE_HOURS": float(env("SESSION_IDLE_HOURS") or 12),
        "REMEMBER_ME_DAYS": remember_me_days,
        # Behind N reverse proxies, the client is the address the outermost one saw
        # (X-Forwarded-For); with 0 it is the socket's peer, and the header is ignored.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES") or 0),
        # Per client address (accounts/throttle.py): how many before the next ones wait.
        "LOGIN_FAILURES_PER_CLIENT": int(env("LOGIN_FAILURES_PER_CLIENT") or 20),
        "REGISTRATIONS_PER_CLIENT": int(env("REGISTRATIONS_PER_CLIENT") or 10),
        "RESET_REQUESTS_PER_CLIENT": int(env("RESET_REQUESTS_PER_CLIENT") or 10),
        # Per email address, whoever asks (accounts/throttle.py): reset mails a day, at least one.
        "RESET_MAILS_PER_DAY": max(1, int(env("RESET_MAILS_PER_DAY") or 5)),
        # A Pi served over plain http on a home network cannot use Secure cookies.
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "QUART_AUTH_COOKIE_SECURE": secure_cookies,
        "QUART_AUTH_COOKIE_HTTP_ONLY": True,
        "QUART_AUTH_COOKIE_SAMESITE": "Lax",
        # The log-in cookie's signature (and a remembered one's Max-Age); the session it names
        # is checked in the database on every request.
        "QUART_AUTH_DURATION": int(remember_me_days * 24 * 3600),
    }


def check_production_ready(config: dict) -> None:
    """A production run (not debug, not testing) refuses the built-in development key."""
    if config.get("TESTING") or config.get("DEBUG"):
        return
    if config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if not config.get("BASE_URL"):
        # Links in mail must not be built from the Host header a stranger sent.
        raise RuntimeError(
            "BASE_URL is not set. Set it to the address people use for this site, "
            "e.g. BASE_URL=https://example.org or BASE_URL=http://localhost:5000."
        )


SUPPORTED_DATABASES = ("sqlite", "postgresql", "mysql")  # mysql: MariaDB 10.6+ (and MySQL 8) via asyncmy


def check_supported_database(config: dict) -> None:
    """SQLite, PostgreSQL and MariaDB only: anything else is refused at start, in one clear line,
    rather than failing later in a migration or a request."""
    url = config["DATABASE_URL"]
    backend = url.split(":", 1)[0].split("+", 1)[0].lower()
    if backend not in SUPPORTED_DATABASES:
        raise RuntimeError(
            f"DATABASE_URL names a {backend} database, which microblog does not support. It runs on "
            "SQLite (sqlite:///path/to/file.sqlite), PostgreSQL (postgresql://user@host/name) and "
            "MariaDB (mariadb://user@host/name).")

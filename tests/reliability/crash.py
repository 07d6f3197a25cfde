#!/usr/bin/env python3
"""Crash safety: SIGKILL yuanjiang at random points and check that it recovers.

Three scenarios, on SQLite and on PostgreSQL:

  import  `yuanjiang import` of a transactions CSV (exported from a demo
          database) into a database holding the projects but no transactions;
  api     `yuanjiang serve` under concurrent writes from client threads
          (fund transactions, project edits with If-Match, new projects),
          each 2xx recorded;
  demo    `yuanjiang demo` into an empty database.

Each kill lands at a uniformly random moment of the operation (the RNG is
seeded per backend and scenario; the seed is printed). After each kill:

  * SQLite `PRAGMA integrity_check` is `ok` (PostgreSQL: the database answers);
  * import: the transactions are all there or none, and `import_history` has
    the row exactly when they are; demo: all the projects or none, and a new
    `yuanjiang demo` then succeeds;
  * `yuanjiang check` and `yuanjiang audit verify` exit 0;
  * `yuanjiang serve` starts again and answers 200 on /healthz;
  * api: every write answered 2xx before the kill is there after the restart,
    as it was sent, and nothing is there that was never sent.

Prints `crash: N kills, N recovered, N failed` and exits 1 on any failure.
Python 3 standard library only.

    tests/reliability/crash.py                       # 50 kills per scenario per backend
    tests/reliability/crash.py --quick               # CI: 3 kills each, small data
    tests/reliability/crash.py --backend sqlite --scenario import --seed 7 --kills 10
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from common import PROJECT_TEMPLATE, free_port, log, read, tail

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIELD_KEY = "5975616e6a69616e672074657374206b"
AS_OF = "2026-11-29"
DEMO_SEED = "1"
SCENARIOS = ("import", "api", "demo")


class Failure(Exception):
    """A check that did not hold after a kill."""


class Runner:
    """Runs the yuanjiang binary with a fixed environment."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.env = dict(os.environ)
        self.env.update(
            YUANJIANG_LOG="warn,sqlx=error",
            YUANJIANG_FIELD_KEY=FIELD_KEY,
            YUANJIANG_DATA_DIR=workdir,
        )
        self.env.pop("YUANJIANG_DB", None)
        self.workdir = workdir

    def run(self, args, timeout=600, stdin=None):
        return subprocess.run(
            [self.binary] + args,
            env=self.env,
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def must(self, args, timeout=600):
        r = self.run(args, timeout=timeout)
        if r.returncode != 0:
            raise Failure(
                f"`yuanjiang {' '.join(args)}` exited {r.returncode}: {tail(r.stdout + r.stderr)}"
            )
        return r.stdout

    def spawn(self, args, log_path):
        out = open(log_path, "ab")
        try:
            return subprocess.Popen(
                [self.binary] + args,
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        finally:
            out.close()


class Sqlite:
    name = "sqlite"

    def __init__(self, workdir):
        self.workdir = workdir

    def path(self, db):
        return os.path.join(self.workdir, f"{db}.db")

    def url(self, db):
        return f"sqlite://{self.path(db)}"

    def create(self, db):
        self.drop(db)

    def drop(self, db):
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(self.path(db) + suffix)
            except FileNotFoundError:
                pass

    def sql(self, db, query):
        r = subprocess.run(
            ["sqlite3", "-batch", "-noheader", self.path(db), query],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if r.returncode != 0:
            raise Failure(f"sqlite3 {query!r}: {tail(r.stderr)}")
        return r.stdout.strip()

    def integrity(self, db):
        if not os.path.exists(self.path(db)):
            return  # killed before the file existed: nothing to check
        out = self.sql(db, "PRAGMA integrity_check")
        if out != "ok":
            raise Failure(f"PRAGMA integrity_check: {tail(out)}")

    def copy(self, src, dst):
        self.drop(dst)
        self.sql(src, f".backup '{self.path(dst)}'")


class Postgres:
    name = "postgres"

    def __init__(self, base_url, tag):
        parsed = urllib.parse.urlsplit(base_url)
        self.base = parsed
        self.host = parsed.hostname or "127.0.0.1"
        self.port = str(parsed.port or 5432)
        self.user = parsed.username or "postgres"
        self.tag = tag
        self.created = set()

    def dbname(self, db):
        return f"yj_crash_{self.tag}_{db}"

    def url(self, db):
        netloc = self.base.netloc
        return urllib.parse.urlunsplit(("postgres", netloc, "/" + self.dbname(db), "", ""))

    def _cli(self, tool, *args):
        return subprocess.run(
            [tool, "-h", self.host, "-p", self.port, "-U", self.user, *args],
            capture_output=True,
            text=True,
            timeout=600,
        )

    def create(self, db, template=None):
        self.drop(db)
        args = ["-T", self.dbname(template)] if template else []
        r = self._cli("createdb", *args, self.dbname(db))
        if r.returncode != 0:
            raise Failure(f"createdb {self.dbname(db)}: {tail(r.stderr)}")
        self.created.add(db)

    def drop(self, db):
        self._cli("dropdb", "--if-exists", "--force", self.dbname(db))
        self.created.discard(db)

    def sql(self, db, query):
        r = self._cli("psql", "-d", self.dbname(db), "-v", "ON_ERROR_STOP=1", "-Atqc", query)
        if r.returncode != 0:
            raise Failure(f"psql {query!r}: {tail(r.stderr)}")
        return r.stdout.strip()

    def integrity(self, db):
        # A killed client cannot corrupt the server; check that the database
        # answers and its catalogue reads.
        out = self.sql(db, "SELECT count(*) > 0 FROM pg_class")
        if out != "t":
            raise Failure(f"PostgreSQL did not answer: {out!r}")

    def copy(self, src, dst):
        self.create(dst, template=src)


# --- serve and HTTP ---------------------------------------------------------


class Server:
    def __init__(self, runner, url, log_path):
        self.port = free_port()
        self.proc = runner.spawn(
            ["serve", "--db", url, "--listen", f"127.0.0.1:{self.port}"], log_path
        )
        self.log_path = log_path

    def wait_healthy(self, timeout=120):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise Failure(
                    f"serve exited {self.proc.returncode} at start: {tail(read(self.log_path))}"
                )
            try:
                status, _, _ = request(self.port, "GET", "/healthz", timeout=5)
                if status == 200:
                    return time.monotonic() - start
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure(f"serve did not answer 200 on /healthz within {timeout} s")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(port, method, path, body=None, headers=None, timeout=30, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Accept": "application/json"}
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), parsed
    finally:
        if own:
            conn.close()


def create_token(runner, url, user):
    out = runner.must(["token", "create", "--db", url, "--user", user])
    for word in out.replace("\n", " ").split():
        if word.startswith("yj_"):
            return word[: 3 + 64]
    raise Failure(f"no token in the output of `token create`: {out!r}")


# --- the checks after every kill -------------------------------------------


def common_checks(runner, backend, db):
    backend.integrity(db)
    r = runner.run(["check", "--db", backend.url(db)])
    if r.returncode != 0:
        raise Failure(f"`yuanjiang check` exited {r.returncode}: {tail(r.stdout + r.stderr)}")
    r = runner.run(["audit", "verify", "--db", backend.url(db)])
    if r.returncode != 0:
        raise Failure(f"`yuanjiang audit verify` exited {r.returncode}: {tail(r.stdout + r.stderr)}")


def restart_checks(runner, backend, db, logdir, then=None):
    """Starts serve on the database, waits for 200 on /healthz, runs `then(port)`."""
    server = Server(runner, backend.url(db), os.path.join(logdir, "serve-restart.log"))
    try:
        took = server.wait_healthy()
        if then:
            then(server.port)
        return took
    finally:
        server.stop()


def kill_at(proc, delay):
    """SIGKILLs `proc` after `delay` seconds. Returns (killed, seconds run)."""
    start = time.monotonic()
    deadline = start + delay
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False, time.monotonic() - start
        time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
    if proc.poll() is not None:
        return False, time.monotonic() - start
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True, delay


def spread(scenario, ran):
    """Kills are spread over the operation's duration: the median of the
    uninterrupted runs seen so far (the calibration run's is often off, as
    caches warm up)."""
    seen = getattr(scenario, "seen", None)
    if seen is None:
        seen = scenario.seen = [scenario.duration]
    if ran is not None:
        seen.append(ran)
    ordered = sorted(seen[-9:])
    scenario.duration = ordered[len(ordered) // 2]


# --- scenario: import -------------------------------------------------------


class ImportScenario:
    name = "import"

    def __init__(self, ctx, backend):
        self.ctx = ctx
        self.b = backend
        self.db = "imp"

    def reset(self):
        self.b.sql(
            self.db,
            "DELETE FROM fund_transactions; DELETE FROM fund_rollup_year; "
            "DELETE FROM fund_rollup_month; DELETE FROM import_history;",
        )

    def setup(self):
        ctx, b = self.ctx, self.b
        csv, rows = ctx.import_csv()
        self.csv, self.rows = csv, rows
        if b.name == "sqlite":
            b.drop(self.db)
            shutil.copyfile(ctx.source_db(), b.path(self.db))
        else:
            b.create(self.db)
            ctx.runner.must(
                ["demo", "--db", b.url(self.db), "--scale", ctx.scale, "--seed", DEMO_SEED,
                 "--as-of", AS_OF],
                timeout=3600,
            )
        self.reset()
        # One full run: the duration kills are spread over, and the count.
        start = time.monotonic()
        self.ctx.runner.must(["import", "--db", b.url(self.db), csv, "--kind", "transactions"],
                             timeout=3600)
        self.duration = time.monotonic() - start
        got = int(b.sql(self.db, "SELECT count(*) FROM fund_transactions"))
        if got != rows:
            raise Failure(f"a full import stored {got} transactions, expected {rows}")
        self.reset()
        log(f"  import: {rows} rows, an uninterrupted import takes {self.duration:.2f} s")

    def operation(self):
        return self.ctx.runner.spawn(
            ["import", "--db", self.b.url(self.db), self.csv, "--kind", "transactions"],
            os.path.join(self.ctx.logdir, "import.log"),
        )

    def max_delay(self):
        return self.duration * 1.1

    def after_kill(self):
        b = self.b
        b.integrity(self.db)
        count = int(b.sql(self.db, "SELECT count(*) FROM fund_transactions"))
        history = int(b.sql(self.db, "SELECT count(*) FROM import_history"))
        if count not in (0, self.rows):
            raise Failure(f"import half there: {count} of {self.rows} transactions")
        if (history == 1) != (count == self.rows) or history > 1:
            raise Failure(f"import_history has {history} rows but {count} of {self.rows} transactions")
        common_checks(self.ctx.runner, b, self.db)
        took = restart_checks(self.ctx.runner, b, self.db, self.ctx.logdir)
        state = "present" if count else "absent"
        if count:
            self.reset()  # the next kill starts from no transactions again
        return state, took

    def teardown(self):
        self.b.drop(self.db)


# --- scenario: demo ---------------------------------------------------------


class DemoScenario:
    name = "demo"

    def __init__(self, ctx, backend):
        self.ctx = ctx
        self.b = backend
        self.db = "demo"

    def args(self):
        return ["demo", "--db", self.b.url(self.db), "--scale", self.ctx.demo_scale,
                "--seed", DEMO_SEED, "--as-of", AS_OF]

    def setup(self):
        b = self.b
        b.create(self.db)
        start = time.monotonic()
        self.ctx.runner.must(self.args(), timeout=3600)
        self.duration = time.monotonic() - start
        self.projects = int(b.sql(self.db, "SELECT count(*) FROM projects"))
        self.txns = int(b.sql(self.db, "SELECT count(*) FROM fund_transactions"))
        b.create(self.db)
        log(f"  demo: {self.projects} projects, {self.txns} transactions, "
            f"uninterrupted in {self.duration:.2f} s")

    def operation(self):
        return self.ctx.runner.spawn(self.args(), os.path.join(self.ctx.logdir, "demo.log"))

    def max_delay(self):
        return self.duration * 1.1

    def counts(self):
        if self.b.name == "sqlite" and not os.path.exists(self.b.path(self.db)):
            return 0, 0
        try:
            p = int(self.b.sql(self.db, "SELECT count(*) FROM projects"))
            t = int(self.b.sql(self.db, "SELECT count(*) FROM fund_transactions"))
        except Failure:
            # Killed before the migrations created the tables: nothing written.
            tables = self.b.sql(
                self.db,
                "SELECT count(*) FROM sqlite_master WHERE name='projects'"
                if self.b.name == "sqlite"
                else "SELECT count(*) FROM pg_tables WHERE tablename='projects'",
            )
            if tables != "0":
                raise
            return 0, 0
        return p, t

    def after_kill(self):
        b = self.b
        b.integrity(self.db)
        p, t = self.counts()
        if (p, t) not in ((0, 0), (self.projects, self.txns)):
            raise Failure(
                f"demo half there: {p} of {self.projects} projects, {t} of {self.txns} transactions"
            )
        common_checks(self.ctx.runner, b, self.db)
        took = restart_checks(self.ctx.runner, b, self.db, self.ctx.logdir)
        state = "present" if p else "absent"
        if not p:
            # The killed generation must not stand in the way of a new one.
            self.ctx.runner.must(self.args(), timeout=3600)
            p2, t2 = self.counts()
            if (p2, t2) != (self.projects, self.txns):
                raise Failure(f"demo after the kill wrote {p2} projects, {t2} transactions")
            common_checks(self.ctx.runner, b, self.db)
        b.create(self.db)
        return state, took

    def teardown(self):
        self.b.drop(self.db)


# --- scenario: concurrent API writes ---------------------------------------



class Ledger:
    """What the clients sent and what the server acknowledged, across kills."""

    def __init__(self):
        self.lock = threading.Lock()
        self.txn_sent = {}  # document_no -> (code, amount)
        self.txn_acked = set()
        self.edit_sent = {}  # code -> set of names sent
        self.edit_acked = {}  # code -> (version, name) of the highest acked edit
        self.projects_acked = set()
        self.projects_sent = set()
        self.next_code = 90001
        self.statuses = {}
        self.writes_acked = 0

    def count(self, status):
        with self.lock:
            key = str(status) if status else "no answer (killed)"
            self.statuses[key] = self.statuses.get(key, 0) + 1


class ApiScenario:
    name = "api"
    threads = 6

    def __init__(self, ctx, backend):
        self.ctx = ctx
        self.b = backend
        self.db = "api"
        self.ledger = Ledger()
        self.round = 0

    def setup(self):
        b, runner = self.b, self.ctx.runner
        if b.name == "sqlite":
            b.drop(self.db)
            shutil.copyfile(self.ctx.small_db(), b.path(self.db))
        else:
            b.create(self.db)
        # serve --demo: demo data if empty, and the demo accounts.
        server = Server.__new__(Server)
        server.port = free_port()
        server.log_path = os.path.join(self.ctx.logdir, "serve-setup.log")
        server.proc = runner.spawn(
            ["serve", "--demo", "--db", b.url(self.db), "--listen", f"127.0.0.1:{server.port}"],
            server.log_path,
        )
        try:
            server.wait_healthy()
            self.token = create_token(runner, b.url(self.db), "sh-officer")
            auth = {"Authorization": f"Bearer {self.token}"}
            for _ in range(8):
                code = self.new_code()
                status, _, body = request(server.port, "POST", "/api/v1/projects",
                                          self.project_body(code, "崩溃测试项目"), auth)
                if status != 201:
                    raise Failure(f"creating {code}: {status} {body}")
                self.ledger.projects_acked.add(code)
                self.ledger.projects_sent.add(code)
                self.ledger.edit_sent[code] = {"崩溃测试项目"}
                self.ledger.edit_acked[code] = (1, "崩溃测试项目")
        finally:
            server.stop()
        common_checks(runner, b, self.db)
        log(f"  api: {self.threads} client threads on 8+ projects of supporter 31")

    def new_code(self):
        with self.ledger.lock:
            n = self.ledger.next_code
            self.ledger.next_code += 1
        return f"YJ2026-31-{n:05d}"

    def project_body(self, code, name):
        body = dict(PROJECT_TEMPLATE)
        body.update(code=code, name=name, description=f"crash test {name}")
        return body

    def client(self, port, tid, rng, stop):
        ledger = self.ledger
        auth = {"Authorization": f"Bearer {self.token}"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seq = 0
        while not stop.is_set():
            seq += 1
            with ledger.lock:
                codes = sorted(ledger.projects_acked)
            code = rng.choice(codes)
            op = rng.random()
            try:
                if op < 0.65:
                    doc = f"崩测〔{self.round}-{tid}-{seq}〕号"
                    amount = rng.randint(1, 100_000)
                    with ledger.lock:
                        ledger.txn_sent[doc] = (code, amount)
                    body = {"fund_type": "commitment", "amount": amount, "date": "2026-03-01",
                            "document_no": doc, "note": "crash"}
                    status, _, _ = request(port, "POST", f"/api/v1/projects/{code}/transactions",
                                           body, auth, conn=conn)
                    ledger.count(status)
                    if status == 201:
                        with ledger.lock:
                            ledger.txn_acked.add(doc)
                            ledger.writes_acked += 1
                elif op < 0.95:
                    status, headers, _ = request(port, "GET", f"/api/v1/projects/{code}", None,
                                                 auth, conn=conn)
                    ledger.count(status)
                    if status != 200:
                        continue
                    etag = headers.get("etag", "")
                    name = f"崩溃测试项目 {self.round}-{tid}-{seq}"
                    with ledger.lock:
                        ledger.edit_sent.setdefault(code, set()).add(name)
                    status, headers, body = request(
                        port, "PUT", f"/api/v1/projects/{code}", self.project_body(code, name),
                        dict(auth, **{"If-Match": etag}), conn=conn)
                    ledger.count(status)
                    if status == 200:
                        version = body["row_version"]
                        with ledger.lock:
                            ledger.writes_acked += 1
                            if version > ledger.edit_acked.get(code, (0, ""))[0]:
                                ledger.edit_acked[code] = (version, name)
                else:
                    new = self.new_code()
                    name = "崩溃测试项目"
                    with ledger.lock:
                        ledger.projects_sent.add(new)
                        ledger.edit_sent.setdefault(new, set()).add(name)
                    status, _, _ = request(port, "POST", "/api/v1/projects",
                                           self.project_body(new, name), auth, conn=conn)
                    ledger.count(status)
                    if status == 201:
                        with ledger.lock:
                            ledger.writes_acked += 1
                            ledger.projects_acked.add(new)
                            ledger.edit_acked[new] = (1, name)
            except (OSError, http.client.HTTPException):
                # The server was killed under this request: its outcome is
                # unknown, which the check allows either way.
                ledger.count(0)
                if stop.is_set():
                    break
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.01)
        conn.close()

    def operation(self):
        """Starts serve and the clients; the returned handle's kill stops both."""
        self.round += 1
        server = Server(self.ctx.runner, self.b.url(self.db),
                        os.path.join(self.ctx.logdir, "serve-load.log"))
        server.wait_healthy()
        stop = threading.Event()
        rng = random.Random(self.ctx.rng.random())
        workers = [
            threading.Thread(target=self.client,
                             args=(server.port, i, random.Random(rng.random()), stop))
            for i in range(self.threads)
        ]
        for w in workers:
            w.start()
        return ApiLoad(server, workers, stop)

    def max_delay(self):
        return 3.0

    def verify(self, port):
        ledger = self.ledger
        auth = {"Authorization": f"Bearer {self.token}"}
        problems = []
        stored_docs = {}
        for code in sorted(ledger.projects_sent):
            status, headers, body = request(port, "GET", f"/api/v1/projects/{code}", None, auth)
            if status == 404 and code not in ledger.projects_acked:
                continue  # a creation in flight at the kill that did not land
            if status != 200:
                problems.append(f"{code}: GET answered {status}")
                continue
            ledger.projects_acked.add(code)  # landed though unacknowledged
            version, name = body["project"]["row_version"], body["project"]["name"]
            acked_version, acked_name = ledger.edit_acked.get(code, (1, "崩溃测试项目"))
            if version < acked_version:
                problems.append(f"{code}: version {version} < acknowledged {acked_version} (lost edit)")
            elif version == acked_version and name != acked_name:
                problems.append(f"{code}: v{version} holds {name!r}, acknowledged {acked_name!r}")
            elif name not in ledger.edit_sent.get(code, set()):
                problems.append(f"{code}: name {name!r} was never sent (half-written edit)")
            if version > acked_version:
                ledger.edit_acked[code] = (version, name)  # an unacked edit landed
            for t in body["transactions"]:
                stored_docs[t["document_no"]] = (code, t["amount"], t["fund_type"])
        for doc in ledger.txn_acked:
            if doc not in stored_docs:
                code, amount = ledger.txn_sent[doc]
                problems.append(f"acknowledged transaction {doc} on {code} lost")
        for doc, (code, amount, fund_type) in stored_docs.items():
            sent = ledger.txn_sent.get(doc)
            if sent is None:
                problems.append(f"{code}: transaction {doc} was never sent")
            elif sent != (code, amount) or fund_type != "commitment":
                problems.append(f"{code}: transaction {doc} stored as {amount} {fund_type}, sent {sent}")
            else:
                ledger.txn_acked.add(doc)  # landed though unacknowledged: keep it checked
        if problems:
            raise Failure(f"{len(problems)} durability problems: " + "; ".join(problems[:5]))

    def after_kill(self):
        common_checks(self.ctx.runner, self.b, self.db)
        took = restart_checks(self.ctx.runner, self.b, self.db, self.ctx.logdir, then=self.verify)
        return f"{self.ledger.writes_acked} writes acked so far", took

    def teardown(self):
        self.b.drop(self.db)


class ApiLoad:
    """Lets the kill loop treat the server under load like a process."""

    def __init__(self, server, workers, stop):
        self.server, self.workers, self.stop = server, workers, stop

    def poll(self):
        return self.server.proc.poll()

    def send_signal(self, sig):
        self.server.proc.send_signal(sig)

    def wait(self):
        self.server.proc.wait()
        self.stop.set()
        for w in self.workers:
            w.join(timeout=60)


# --- the driver -------------------------------------------------------------


class Context:
    def __init__(self, args, runner, workdir):
        self.args = args
        self.runner = runner
        self.workdir = workdir
        self.logdir = os.path.join(workdir, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.scale = args.import_scale
        self.demo_scale = args.demo_scale
        self._source = None
        self._small = None
        self._csv = None
        self.rng = random.Random()

    def small_db(self):
        """A SQLite file with the small demo data (projects and transactions)."""
        if self._small is None:
            path = os.path.join(self.workdir, "small-source.db")
            self.runner.must(["demo", "--db", f"sqlite://{path}", "--scale", "small",
                              "--seed", DEMO_SEED, "--as-of", AS_OF])
            self._small = path
        return self._small

    def source_db(self):
        """A SQLite file with the import scale's demo data."""
        if self._source is None:
            if self.scale == "small":
                self._source = self.small_db()
            else:
                path = os.path.join(self.workdir, f"{self.scale}-source.db")
                log(f"  generating the {self.scale} demo data for the import CSV …")
                self.runner.must(["demo", "--db", f"sqlite://{path}", "--scale", self.scale,
                                  "--seed", DEMO_SEED, "--as-of", AS_OF], timeout=3600)
                self._source = path
        return self._source

    def import_csv(self):
        """The transactions CSV (whole projects, about --import-rows rows)."""
        if self._csv is None:
            full = os.path.join(self.workdir, "transactions-full.csv")
            self.runner.must(["export", "--db", f"sqlite://{self.source_db()}",
                              "--what", "transactions", "-o", full], timeout=3600)
            path = os.path.join(self.workdir, "transactions.csv")
            rows, last = 0, None
            with open(full, encoding="utf-8-sig", newline="") as src, \
                    open(path, "w", encoding="utf-8-sig", newline="") as dst:
                dst.write(src.readline())
                for line in src:
                    code = line.split(",", 1)[0]
                    if rows >= self.args.import_rows and code != last:
                        break  # stop at a project boundary so each chain is whole
                    dst.write(line)
                    rows += 1
                    last = code
            os.remove(full)
            self._csv = (path, rows)
        return self._csv


def run_scenario(ctx, backend, cls, kills, seed, results):
    rng = random.Random(f"{seed}-{backend.name}-{cls.name}")
    ctx.rng = rng
    scenario = cls(ctx, backend)
    label = f"{backend.name}/{cls.name}"
    log(f"== {label}: {kills} kills, seed {seed}")
    started = time.monotonic()
    res = results.setdefault(label, dict(kills=0, recovered=0, failed=0, completed=0,
                                         restart=[], states={}, failures=[]))
    try:
        scenario.setup()
    except Failure as e:
        res["failed"] += 1
        res["failures"].append(f"set-up: {e}")
        log(f"  FAILED set-up: {e}")
        return
    attempt = 0
    while res["kills"] < kills and attempt < kills * 3:
        attempt += 1
        delay = rng.uniform(0.0, scenario.max_delay())
        try:
            proc = scenario.operation()
        except Failure as e:
            res["failed"] += 1
            res["failures"].append(f"attempt {attempt}: {e}")
            log(f"  kill {res['kills']:3d}: FAILED before the kill: {e}")
            continue
        killed, ran = kill_at(proc, delay)
        proc.wait()
        if not killed and hasattr(scenario, "duration"):
            spread(scenario, ran)
        if killed:
            res["kills"] += 1
        else:
            res["completed"] += 1
        what = f"kill {res['kills']:3d} at {delay:.3f} s" if killed else f"finished before {delay:.3f} s"
        try:
            state, took = scenario.after_kill()
            res["restart"].append(took)
            if cls.name != "api":
                key = state if killed else f"{state} (not killed)"
                res["states"][key] = res["states"].get(key, 0) + 1
            if killed:
                res["recovered"] += 1
            if ctx.args.verbose or not killed:
                log(f"  {what}: ok ({state}; serve up in {took:.2f} s)")
        except (Failure, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
            res["failed"] += 1  # a failure without a kill is a failure too
            res["failures"].append(f"attempt {attempt} ({what}): {e}")
            log(f"  {what}: FAILED: {e}")
            log(f"    reproduce: tests/reliability/crash.py --backend {backend.name} "
                f"--scenario {cls.name} --seed {seed} --kills {res['kills']}")
    elapsed = time.monotonic() - started
    res["seconds"] = elapsed
    if cls.name == "api":
        res["statuses"] = dict(scenario.ledger.statuses)
        res["acked"] = scenario.ledger.writes_acked
    restart = sorted(res["restart"]) or [0.0]
    log(f"  {label}: {res['kills']} kills, {res['recovered']} recovered, {res['failed']} failed, "
        f"{res['completed']} finished before their kill; "
        f"{res['states'] if cls.name != 'api' else 'answers ' + str(res.get('statuses')) + ', ' + str(res.get('acked')) + ' writes acknowledged'}; "
        f"serve restart median {restart[len(restart) // 2]:.2f} s, max {restart[-1]:.2f} s; "
        f"{elapsed:.0f} s")
    if not ctx.args.keep:
        scenario.teardown()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.environ.get(
        "YUANJIANG_BIN", os.path.join(ROOT, "target", "debug", "yuanjiang")))
    p.add_argument("--kills", type=int, default=None,
                   help="kills per scenario per backend (default 50; 3 with --quick)")
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--scenario", action="append", choices=SCENARIOS,
                   help="run only this scenario (repeatable)")
    p.add_argument("--quick", action="store_true",
                   help="CI: 3 kills per scenario per backend on the small demo data")
    p.add_argument("--seed", type=int, default=None, help="default: random, printed")
    p.add_argument("--postgres", default=os.environ.get(
        "YUANJIANG_TEST_POSTGRES", "postgres://postgres@127.0.0.1/test"))
    p.add_argument("--import-scale", choices=("small", "xinjiang"), default=None,
                   help="demo data the import CSV comes from (default xinjiang; small with --quick)")
    p.add_argument("--import-rows", type=int, default=100_000,
                   help="rows of the import CSV, cut at a project boundary (default 100000)")
    p.add_argument("--demo-scale", choices=("small", "xinjiang"), default="small")
    p.add_argument("--keep", action="store_true", help="keep the work directory and databases")
    p.add_argument("--verbose", action="store_true", help="a line per kill")
    args = p.parse_args()
    if args.kills is None:
        args.kills = 3 if args.quick else 50
    if args.import_scale is None:
        args.import_scale = "small" if args.quick else "xinjiang"
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1_000_000)
    scenarios = [s for s in SCENARIOS if not args.scenario or s in args.scenario]

    if not os.access(args.bin, os.X_OK):
        log(f"crash: the binary {args.bin} is missing: run `cargo build -p yuanjiang` first")
        return 2
    if shutil.which("sqlite3") is None:
        log("crash: the sqlite3 command-line shell is needed (apt-get install sqlite3)")
        return 2
    log(f"crash: seed {args.seed}, {args.kills} kills per scenario per backend, "
        f"binary {args.bin}")

    workdir = tempfile.mkdtemp(prefix="yj-crash-")
    runner = Runner(args.bin, workdir)
    ctx = Context(args, runner, workdir)
    backends = []
    if args.backend in ("sqlite", "both"):
        backends.append(Sqlite(workdir))
    if args.backend in ("postgres", "both"):
        pg = Postgres(args.postgres, f"{os.getpid()}")
        if pg._cli("psql", "-d", urllib.parse.urlsplit(args.postgres).path.lstrip("/") or "postgres",
                   "-Atqc", "SELECT 1").returncode != 0:
            if args.backend == "postgres":
                log(f"crash: PostgreSQL is not reachable at {args.postgres}")
                return 2
            log(f"SKIPPED crash on PostgreSQL: not reachable at {args.postgres}")
        else:
            backends.append(pg)

    classes = {"import": ImportScenario, "api": ApiScenario, "demo": DemoScenario}
    results = {}
    started = time.monotonic()
    try:
        for backend in backends:
            for name in scenarios:
                run_scenario(ctx, backend, classes[name], args.kills, args.seed, results)
    finally:
        for backend in backends:
            if isinstance(backend, Postgres) and not args.keep:
                for db in list(backend.created):
                    backend.drop(db)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"work directory kept: {workdir}")

    kills = sum(r["kills"] for r in results.values())
    recovered = sum(r["recovered"] for r in results.values())
    failed = sum(r["failed"] for r in results.values())
    for label, r in results.items():
        for f in r["failures"]:
            log(f"FAILED {label}: {f}")
    log(f"crash: {kills} kills, {recovered} recovered, {failed} failed "
        f"(seed {args.seed}, {time.monotonic() - started:.0f} s)")
    return 1 if failed or kills == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A mixed read and write load: 200 connections under wrk, then the checks.

On a fresh database (SQLite, or a new PostgreSQL database `yj_load_<pid>`)
with demo data (`yuanjiang demo --scale small|xinjiang`), starts
`yuanjiang serve` on loopback with JSON logs, drafts --write-projects
projects of Shanghai (supporter 31) through the API with room on every step
of their fund chains, and runs

    wrk -c 200 -t 2 -d <seconds>s --latency -s tests/reliability/load.lua

(load.lua: 80 % reads — a project by code, the project list with filters
and paging, fund statistics, the public dashboard — and 20 % writes — small
fund transactions, and project edits with If-Match, where a stale ETag
answers 412). While wrk runs, the server's RSS is sampled every second from
/proc/<pid>/status. Afterwards it checks that:

  * no answer was a 5xx, and none had a status other than 200, 201, 409 or
    412 (another 4xx would mean the load itself is wrong);
  * wrk saw no socket error: no timeout, and no connect, read or write error;
  * the server logged no ERROR line (and no panic); WARN lines are counted;
  * the peak RSS stayed within --max-rss-mb (the RSS after the first 10 % of
    the run and at its end are reported, to show growth);
  * at least one write was accepted, and every accepted write is stored:
    the transactions on the write projects are at least those answered 2xx,
    the versions at least one past the accepted edits (per /metrics);
  * the server stops on SIGTERM with exit 0, and afterwards
    `yuanjiang check` (chains and roll-ups reconcile) and
    `yuanjiang audit verify` exit 0.

Prints `load: N requests (R reads, W writes), X req/s, p99 Y ms, …` and
`passed` or `FAILED`, and exits 1 on failure with the reasons. Without wrk
it prints `SKIPPED load: wrk not installed` and exits 0. Python 3 standard
library only.

    tests/reliability/load.py --scale xinjiang --seconds 300                       # full, SQLite
    tests/reliability/load.py --scale xinjiang --seconds 300 --backend postgres    # full, PostgreSQL
    tests/reliability/load.py --seconds 20                                         # CI
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from common import PROJECT_TEMPLATE, free_port, log, read, tail

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LUA = os.path.join(HERE, "load.lua")
FIELD_KEY = "5975616e6a69616e672074657374206b"
PASSWORD = "Yuanjiang@2010"
AS_OF = "2026-11-29"
FIRST_CODE = 90001
# Put on every write project before the load (fen): the load then posts at
# most 1,000 fen per transaction on 2026-06-01, so no step runs out of room.
SETUP_CHAIN = [
    ("commitment", 5_000_000_000, "2026-01-01"),
    ("transfer", 4_000_000_000, "2026-01-15"),
    ("allocation", 1_000_000_000, "2026-02-01"),
]
EXPECTED = {200, 201, 409, 412}
TXN_ROUTE = ("POST", "/api/v1/projects/{code}/transactions")
EDIT_ROUTE = ("PUT", "/api/v1/projects/{code}")


def default_bin():
    env = os.environ.get("YUANJIANG_BIN")
    if env:
        return env
    release = os.path.join(ROOT, "target", "release", "yuanjiang")
    return release if os.path.exists(release) else os.path.join(ROOT, "target", "debug", "yuanjiang")


class Failure(Exception):
    """The run cannot go on."""


def request(port, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        parsed = raw.decode("utf-8", "replace")
        if "json" in (resp.getheader("content-type") or "") and raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                pass
        return resp.status, parsed
    finally:
        conn.close()


class Backend:
    """The database: a SQLite file in the work directory, or a fresh
    PostgreSQL database created with createdb and dropped at the end."""

    def __init__(self, kind, work, pg_url):
        self.kind = kind
        self.created = False
        if kind == "sqlite":
            self.path = os.path.join(work, "load.db")
            self.url = f"sqlite://{self.path}"
            self.label = "SQLite"
            return
        parsed = urllib.parse.urlsplit(pg_url)
        self.pg = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432),
                   "-U", parsed.username or "postgres"]
        self.admin_db = parsed.path.lstrip("/") or "postgres"
        self.name = f"yj_load_{os.getpid()}"
        self.url = urllib.parse.urlunsplit(("postgres", parsed.netloc, "/" + self.name, "", ""))
        self.label = f"PostgreSQL ({self.name})"

    def reachable(self):
        if self.kind == "sqlite":
            return True
        r = subprocess.run(["psql", *self.pg, "-d", self.admin_db, "-Atqc", "SELECT 1"],
                           capture_output=True, text=True)
        return r.returncode == 0

    def create(self):
        if self.kind == "sqlite":
            return
        subprocess.run(["dropdb", *self.pg, "--if-exists", "--force", self.name], capture_output=True)
        r = subprocess.run(["createdb", *self.pg, self.name], capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure(f"createdb {self.name}: {r.stderr.strip()}")
        self.created = True

    def drop(self):
        if self.kind == "postgres" and self.created:
            subprocess.run(["dropdb", *self.pg, "--if-exists", "--force", self.name],
                           capture_output=True)


class Server:
    def __init__(self, binary, env, url, log_path):
        self.port = free_port()
        self.log_path = log_path
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [binary, "serve", "--db", url, "--listen", f"127.0.0.1:{self.port}"],
                env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout=300):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise Failure(f"serve exited {self.proc.returncode} at start: {tail(read(self.log_path))}")
            try:
                if request(self.port, "GET", "/healthz", timeout=5)[0] == 200:
                    return time.monotonic() - start
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure(f"serve did not answer 200 on /healthz within {timeout} s")

    def rss_kb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def cpu_seconds(self):
        """User and system CPU time used so far, from /proc/<pid>/stat."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


class RssSampler(threading.Thread):
    """Samples VmRSS once a second until stopped."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.samples = []  # (seconds since start, kB)
        self.halt = threading.Event()

    def run(self):
        start = time.monotonic()
        while not self.halt.is_set():
            kb = self.server.rss_kb()
            if kb is not None:
                self.samples.append((time.monotonic() - start, kb))
            self.halt.wait(1.0)

    def at(self, seconds):
        """The first sample at or after `seconds`, else the last."""
        for t, kb in self.samples:
            if t >= seconds:
                return kb
        return self.samples[-1][1] if self.samples else None


METRIC = re.compile(r'^yuanjiang_http_(requests_total|request_duration_seconds_sum)'
                    r'\{method="([^"]*)",route="([^"]*)",status="([^"]*)"\}\s+(\S+)\s*$')


def scrape(port, token):
    """(method, route, status class) -> [requests, seconds spent], from /metrics."""
    status, body = request(port, "GET", "/metrics", headers={"Authorization": f"Bearer {token}",
                                                            "Accept": "text/plain"})
    if status != 200:
        raise Failure(f"/metrics answered {status}: {str(body)[:200]}")
    out = {}
    for line in str(body).splitlines():
        m = METRIC.match(line)
        if m:
            entry = out.setdefault((m.group(2), m.group(3), m.group(4)), [0, 0.0])
            if m.group(1) == "requests_total":
                entry[0] = int(m.group(5))
            else:
                entry[1] = float(m.group(5))
    return out


def metrics_delta(before, after):
    """Requests and seconds counted between two scrapes, without /metrics itself."""
    out = {}
    for k, (n, secs) in after.items():
        n0, secs0 = before.get(k, (0, 0.0))
        if k[1] != "/metrics" and n > n0:
            out[k] = (n - n0, secs - secs0)
    return out


def scan_log(text):
    """(ERROR lines, WARN lines, panics) of the server's log."""
    errors, warns = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        level = None
        if line.startswith("{"):
            try:
                level = str(json.loads(line).get("level", "")).upper()
            except ValueError:
                level = None
        if level is None:
            # Plain text lines (start-up messages on stderr) or a panic.
            if "panicked at" in line:
                errors.append(line)
            elif re.search(r"\bERROR\b", line):
                errors.append(line)
            elif re.search(r"\bWARN\b", line):
                warns.append(line)
            continue
        if level == "ERROR":
            errors.append(line)
        elif level == "WARN":
            warns.append(line)
    return errors, warns


def run_cli(binary, env, args, timeout=3600):
    return subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=timeout)


def must(binary, env, args, timeout=3600):
    r = run_cli(binary, env, args, timeout)
    if r.returncode != 0:
        raise Failure(f"`yuanjiang {' '.join(args)}` exited {r.returncode}: {tail(r.stdout + r.stderr)}")
    return r.stdout + r.stderr


def make_token(binary, env, url, user):
    out = must(binary, env, ["token", "create", "--db", url, "--user", user, "--label", "load"])
    m = re.search(r"yj_[0-9a-f]{64}", out)
    if not m:
        raise Failure(f"no token in the output of `token create --user {user}`: {out!r}")
    return m.group(0)


def project_body(code, name):
    body = dict(PROJECT_TEMPLATE)
    body.update(code=code, name=name, description=f"load test: {name}")
    return body


def draft_write_projects(port, token, count, tag):
    auth = {"Authorization": f"Bearer {token}"}
    codes = []
    for i in range(count):
        code = f"YJ2026-31-{FIRST_CODE + i:05d}"
        status, body = request(port, "POST", "/api/v1/projects", project_body(code, "负载测试项目"), auth)
        if status != 201:
            raise Failure(f"drafting {code}: {status} {str(body)[:300]}")
        for fund_type, amount, date in SETUP_CHAIN:
            txn = {"fund_type": fund_type, "amount": amount, "date": date,
                   "document_no": f"负载准备〔{tag}-{i}-{fund_type}〕号", "note": "load set-up"}
            status, body = request(port, "POST", f"/api/v1/projects/{code}/transactions", txn, auth)
            if status != 201:
                raise Failure(f"set-up {fund_type} on {code}: {status} {str(body)[:300]}")
        codes.append(code)
    return codes


def read_codes(port, token, limit):
    status, body = request(port, "GET", f"/api/v1/projects?limit={min(limit, 1000)}",
                           headers={"Authorization": f"Bearer {token}"})
    if status != 200 or not isinstance(body, dict):
        raise Failure(f"the project list answered {status}: {str(body)[:200]}")
    codes = [p["code"] for p in body.get("items", []) if not p["code"].startswith("YJ2026-31-9")]
    if not codes:
        raise Failure("the demo data holds no project the token may read")
    return codes


def stored_writes(port, token, codes):
    """(transactions stored by the load, edits landed) on the write projects."""
    auth = {"Authorization": f"Bearer {token}"}
    txns = edits = 0
    for code in codes:
        status, body = request(port, "GET", f"/api/v1/projects/{code}", headers=auth)
        if status != 200:
            raise Failure(f"reading {code} after the load: {status} {str(body)[:200]}")
        txns += len(body["transactions"]) - len(SETUP_CHAIN)
        edits += body["project"]["row_version"] - 1
    return txns, edits


def run_wrk(wrk, port, args, env, out_path):
    cmd = [wrk, "-c", str(args.connections), "-t", str(args.threads), "-d", f"{args.seconds}s",
           "--timeout", f"{args.timeout}s", "--latency", "-s", LUA, f"http://127.0.0.1:{port}"]
    log(f"  {' '.join(cmd[:-1])} http://127.0.0.1:PORT")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.seconds + 300)
    with open(out_path, "w") as f:
        f.write(r.stdout + r.stderr)
    result = None
    for line in r.stdout.splitlines():
        if line.startswith("YJ_LOAD_RESULT "):
            try:
                result = json.loads(re.sub(r"-?\b(nan|inf)\b", "0", line[len("YJ_LOAD_RESULT "):]))
            except ValueError as e:
                raise Failure(f"wrk's result line is not JSON ({e}): {line[:300]}")
    if r.returncode != 0 or result is None:
        raise Failure(f"wrk exited {r.returncode}: {tail(r.stdout + r.stderr, 10)}")
    return result, r.stdout


def mb(kb):
    return kb / 1024 if kb is not None else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=default_bin(),
                   help="yuanjiang binary (default $YUANJIANG_BIN, else target/release, else target/debug)")
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--postgres", default=os.environ.get(
        "YUANJIANG_TEST_POSTGRES", "postgres://postgres@127.0.0.1/test"),
        help="a PostgreSQL URL to create the database from (default $YUANJIANG_TEST_POSTGRES)")
    p.add_argument("--scale", choices=("small", "xinjiang"), default="small", help="demo data (default small)")
    p.add_argument("--seconds", type=int, default=300, help="load duration (default 300)")
    p.add_argument("--connections", type=int, default=200, help="wrk connections (default 200)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--timeout", type=int, default=10,
                   help="wrk's request timeout in seconds; a timeout fails the run (default 10)")
    p.add_argument("--max-rss-mb", type=float, default=300, help="peak RSS allowed (default 300)")
    p.add_argument("--write-projects", type=int, default=100,
                   help="projects drafted for the writes (default 100)")
    p.add_argument("--read-projects", type=int, default=500,
                   help="demo projects read by code (default 500, at most 1000)")
    p.add_argument("--seed", type=int, default=None, help="seeds load.lua's RNG (printed)")
    p.add_argument("--keep", action="store_true", help="keep the work directory and the database")
    args = p.parse_args()
    if not 1 <= args.write_projects <= 9999:
        p.error("--write-projects must be 1 to 9999")
    if args.seconds < 1 or args.connections < args.threads:
        p.error("--seconds must be at least 1, and --connections at least --threads")

    wrk = shutil.which("wrk")
    if wrk is None:
        log("SKIPPED load: wrk not installed (apt-get install wrk)")
        return 0
    if not os.access(args.bin, os.X_OK):
        log(f"load: FAILED (the binary {args.bin} is missing: cargo build --release -p yuanjiang)")
        return 1
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    tag = str(os.getpid())
    work = tempfile.mkdtemp(prefix="yj-load-")
    backend = Backend(args.backend, work, args.postgres)
    if not backend.reachable():
        shutil.rmtree(work, ignore_errors=True)
        log(f"load: FAILED (PostgreSQL not reachable at {args.postgres})")
        return 1
    env = dict(os.environ, YUANJIANG_FIELD_KEY=FIELD_KEY, YUANJIANG_DATA_DIR=work,
               YUANJIANG_LOG="info,sqlx=warn", YUANJIANG_LOG_FORMAT="json")
    env.pop("YUANJIANG_DB", None)
    # The commands other than serve log plain warnings only, so their output reads.
    cli_env = dict(env, YUANJIANG_LOG="warn,sqlx=error")
    cli_env.pop("YUANJIANG_LOG_FORMAT")
    log(f"load: {backend.label}, {args.scale} demo data, {args.connections} connections for "
        f"{args.seconds} s, seed {seed}, {args.bin}")

    failed, summary, server = [], "", None
    try:
        backend.create()
        t0 = time.monotonic()
        must(args.bin, cli_env, ["demo", "--db", backend.url, "--scale", args.scale, "--seed", "1",
                             "--as-of", AS_OF], timeout=7200)
        log(f"  demo data ({args.scale}) written in {time.monotonic() - t0:.1f} s")
        for user, role, scope in (("sh-officer", "supporter", "31"), ("load-auditor", "auditor", None)):
            cmd = ["user", "add", user, "--role", role, *(["--scope", scope] if scope else []),
                   "--password-stdin", "--db", backend.url]
            r = subprocess.run([args.bin, *cmd], env=cli_env, input=PASSWORD + "\n",
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise Failure(f"`yuanjiang {' '.join(cmd)}` exited {r.returncode}: {tail(r.stdout + r.stderr)}")
        token = make_token(args.bin, cli_env, backend.url, "sh-officer")
        auditor = make_token(args.bin, cli_env, backend.url, "load-auditor")

        server = Server(args.bin, env, backend.url, os.path.join(work, "serve.log"))
        took = server.wait_healthy()
        log(f"  serve (pid {server.proc.pid}) answered /healthz after {took:.1f} s")
        writes = draft_write_projects(server.port, token, args.write_projects, tag)
        reads = read_codes(server.port, token, args.read_projects)
        log(f"  {len(writes)} write projects drafted (YJ2026-31-{FIRST_CODE:05d}…), "
            f"{len(reads)} demo projects to read")

        before = scrape(server.port, auditor)
        rss_before = server.rss_kb()
        lua_env = dict(os.environ, YJ_LOAD_TOKEN=token, YJ_LOAD_READ_CODES=",".join(reads),
                       YJ_LOAD_WRITE_CODES=",".join(writes), YJ_LOAD_TAG=tag, YJ_LOAD_SEED=str(seed),
                       YJ_LOAD_EDIT_BODY=json.dumps(project_body("__CODE__", "__NAME__"),
                                                    ensure_ascii=False))
        sampler = RssSampler(server)
        cpu_before = server.cpu_seconds()
        sampler.start()
        try:
            result, _ = run_wrk(wrk, server.port, args, lua_env, os.path.join(work, "wrk.out"))
        finally:
            sampler.halt.set()
            sampler.join()
        cpu_after = server.cpu_seconds()
        time.sleep(1.0)  # let requests cut by wrk's end finish on the server
        after = scrape(server.port, auditor)
        delta = metrics_delta(before, after)
        stored_txns, stored_edits = stored_writes(server.port, token, writes)
        if server.proc.poll() is not None:
            failed.append(f"serve died during the load (exit {server.proc.returncode}): "
                          f"{tail(read(server.log_path))}")
        exit_code = server.stop()
        if exit_code != 0:
            failed.append(f"serve did not stop cleanly on SIGTERM (exit {exit_code})")

        # --- what wrk saw -------------------------------------------------
        lat = result["latency_us"]
        classes, statuses, errs, sent = (result["classes"], result["statuses"], result["errors"],
                                         result["sent"])
        seconds = result["duration_us"] / 1e6
        total = result["requests"]
        rate = total / seconds if seconds else 0.0
        log(f"  wrk: {total} requests in {seconds:.1f} s ({rate:.0f}/s), "
            f"{result['bytes'] / 1e6:.0f} MB read; statuses {dict(sorted(statuses.items()))}; "
            f"socket errors connect {errs['connect']}, read {errs['read']}, write {errs['write']}, "
            f"timeout {errs['timeout']}")
        log(f"  latency: p50 {lat['p50'] / 1000:.1f} ms, p90 {lat['p90'] / 1000:.1f} ms, "
            f"p99 {lat['p99'] / 1000:.1f} ms, p99.9 {lat['p999'] / 1000:.1f} ms, "
            f"max {lat['max'] / 1000:.1f} ms")
        if cpu_before is not None and cpu_after is not None and seconds:
            cpu = cpu_after - cpu_before
            log(f"  server CPU: {cpu:.1f} s in {seconds:.1f} s ({cpu / seconds:.2f} cores of "
                f"{os.cpu_count()}; wrk runs on the same machine)")
        log(f"  sent: {sent['read']} project reads, {sent['list']} lists, {sent['stats']} statistics, "
            f"{sent['dashboard']} dashboards, {sent['txn']} transactions, {sent['edit_get']} edit "
            f"reads, {sent['edit_put']} edits")
        fives = classes.get("5xx", 0)
        if fives:
            failed.append(f"{fives} answers were 5xx: "
                          f"{ {s: n for s, n in statuses.items() if int(s) >= 500} }")
        unexpected = {s: n for s, n in statuses.items() if int(s) not in EXPECTED and int(s) < 500}
        if unexpected:
            failed.append(f"unexpected statuses (the load's requests are wrong?): {unexpected}")
        if errs["timeout"]:
            failed.append(f"{errs['timeout']} requests timed out (> {args.timeout} s)")
        sock = errs["connect"] + errs["read"] + errs["write"]
        if sock:
            failed.append(f"{sock} socket errors (connect {errs['connect']}, read {errs['read']}, "
                          f"write {errs['write']})")

        # --- what the server counted --------------------------------------
        served = sum(n for n, _ in delta.values())
        m_reads = sum(n for (m, _, _), (n, _) in delta.items() if m == "GET")
        m_writes = sum(n for (m, _, _), (n, _) in delta.items()
                       if m in ("POST", "PUT", "PATCH", "DELETE"))
        m_fives = sum(n for (_, _, s), (n, _) in delta.items() if s == "5xx")
        acked_txns = delta.get((*TXN_ROUTE, "2xx"), (0, 0))[0]
        acked_edits = delta.get((*EDIT_ROUTE, "2xx"), (0, 0))[0]
        refused_edits = delta.get((*EDIT_ROUTE, "4xx"), (0, 0))[0]
        log(f"  /metrics: {served} requests counted ({m_reads} GET, {m_writes} writes); by route "
            f"(requests, mean time in the server):")
        routes = {}
        for (m, route, s), (n, secs) in delta.items():
            routes.setdefault((m, route), {})[s] = (n, secs)
        for (m, route), by in sorted(routes.items()):
            log(f"    {m:4} {route:42} " + ", ".join(
                f"{s} {n} ({secs / n * 1000:.1f} ms)" for s, (n, secs) in sorted(by.items())))
        if m_fives and not fives:
            failed.append(f"/metrics counted {m_fives} × 5xx that wrk did not see")
        log(f"  writes: {acked_txns} transactions and {acked_edits} edits accepted, {refused_edits} "
            f"edits refused (412/409); stored on the write projects: {stored_txns} transactions, "
            f"{stored_edits} edits")
        if acked_txns + acked_edits == 0:
            failed.append("no write was accepted")
        if stored_txns < acked_txns:
            failed.append(f"lost transactions: {acked_txns} answered 2xx, {stored_txns} stored")
        if stored_edits < acked_edits:
            failed.append(f"lost edits: {acked_edits} answered 2xx, versions moved {stored_edits} times")
        # A request cut by wrk's end may land without its answer being counted.
        if stored_txns > acked_txns + args.connections or stored_edits > acked_edits + args.connections:
            failed.append(f"more writes stored than sent: {stored_txns} transactions and "
                          f"{stored_edits} edits stored, {acked_txns} and {acked_edits} accepted")

        # --- memory -------------------------------------------------------
        samples = sampler.samples
        peak = max((kb for _, kb in samples), default=None)
        at10 = sampler.at(args.seconds * 0.10)
        at50 = sampler.at(args.seconds * 0.50)
        end = samples[-1][1] if samples else None
        growth = (end - at10) if end is not None and at10 is not None else None
        log(f"  RSS: {mb(rss_before):.0f} MB before the load, {mb(at10):.0f} MB after 10 %, "
            f"{mb(at50):.0f} MB at half time, {mb(end):.0f} MB at the end, peak {mb(peak):.0f} MB "
            f"({len(samples)} samples); growth from 10 % to the end "
            f"{mb(growth):+.0f} MB" + (f" ({growth / at10 * 100:+.0f} %)" if growth is not None and at10 else ""))
        with open(os.path.join(work, "rss.csv"), "w") as f:
            f.write("seconds,rss_kb\n" + "".join(f"{t:.1f},{kb}\n" for t, kb in samples))
        if peak is None:
            failed.append("no RSS sample was taken")
        elif mb(peak) > args.max_rss_mb:
            failed.append(f"peak RSS {mb(peak):.0f} MB > {args.max_rss_mb:g} MB")

        # --- the log --------------------------------------------------------
        errors, warns = scan_log(read(server.log_path))
        log(f"  log: {len(errors)} ERROR lines, {len(warns)} WARN lines")
        for line in warns[:3]:
            log(f"    WARN {line[:400]}")
        if errors:
            failed.append(f"the server logged {len(errors)} errors, e.g. " +
                          " | ".join(l[:400] for l in errors[:3]))

        # --- after the load -------------------------------------------------
        for what in (["check", "--db", backend.url], ["audit", "verify", "--db", backend.url]):
            r = run_cli(args.bin, cli_env, what)
            out = tail(r.stdout + r.stderr, 8)
            log(f"  yuanjiang {what[0]}{' verify' if what[0] == 'audit' else ''}: exit {r.returncode}: {out}")
            if r.returncode != 0:
                failed.append(f"`yuanjiang {' '.join(what)}` exited {r.returncode}: {out}")

        # wrk keeps no latency above its timeout: the percentiles are of the
        # answers that came within it.
        cut = f" of the answers within {args.timeout} s, {errs['timeout']} timed out" if errs["timeout"] else ""
        summary = (f"{total} requests ({m_reads} reads, {m_writes} writes), {rate:.0f} req/s, "
                   f"p99 {lat['p99'] / 1000:.1f} ms{cut}, {fives} × 5xx, {len(errors)} log errors, "
                   f"peak RSS {mb(peak):.0f} MB")
    except Failure as e:
        failed.append(str(e))
    except Exception as e:  # noqa: BLE001 - any set-up failure is the run's failure
        failed.append(f"{type(e).__name__}: {e}")
    finally:
        if server is not None and server.proc.poll() is None:
            server.stop()
        if args.keep:
            log(f"  kept: {work}" + (f", database {backend.name}" if backend.kind == "postgres" else ""))
        else:
            backend.drop()
            shutil.rmtree(work, ignore_errors=True)
    for f in failed:
        log(f"  FAILED: {f}")
    log(f"load: {summary} {'FAILED' if failed else 'passed'}".replace("  ", " "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Two `yuanjiang serve` nodes on one PostgreSQL database behind nginx.

Starts node A and node B on a fresh PostgreSQL database, and nginx (run in
the foreground from a generated configuration in a temporary directory)
balancing round-robin over them. Then:

  1. sessions: signs in through nginx (GET /login for the double-submit
     cookie, POST /login), then uses the session cookie on node A and on
     node B directly: both must accept it, both must accept a cookie write
     with its CSRF token, and after POST /logout both must refuse it (401);
  2. load: --clients threads for --seconds through nginx, a mix of reads
     (project list, project, fund statistics) and writes (fund transactions,
     project edits with If-Match), counting 2xx / 409 / 412 / 5xx;
  3. the final state, read from node A and from node B directly, must equal
     the replay of the accepted writes: per project, the stored commitments
     (list and fund chain) sum to the accepted ones, the version is one past
     the number of accepted edits, no two accepted edits claim one version
     (a lost update), and the name is the last accepted edit's; the fund
     statistics of both nodes agree with it.

Zero 5xx and no ERROR line in either node's log are required. Prints
`two-nodes: … passed` or `two-nodes: … FAILED` and exits 1 on failure.
Without nginx it prints `SKIPPED two-nodes: nginx not installed` and exits 0.
Python 3 standard library only.

    tests/reliability/two_nodes.py                 # 60 s, 50 clients
    tests/reliability/two_nodes.py --seconds 15    # CI
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIELD_KEY = "5975616e6a69616e672074657374206b"
PASSWORD = "Yuanjiang@2010"
PROJECTS = 10
FIRST_CODE = 91001


def request(port, method, path, body=None, headers=None, conn=None, form=None):
    """One HTTP request; returns (status, headers as a list, parsed body)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        h = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("content-type", "")
        parsed = raw.decode("utf-8", "replace")
        if "json" in ctype and raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                pass
        return resp.status, resp.getheaders(), parsed
    finally:
        if own:
            conn.close()


def header(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def set_cookies(headers):
    """name -> value of every Set-Cookie in a response."""
    out = {}
    for k, v in headers:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            out[name.strip()] = rest.split(";", 1)[0]
    return out


class Node:
    def __init__(self, binary, env, url, port, log_path, demo):
        self.port = port
        self.log_path = log_path
        args = [binary, "serve", "--db", url, "--listen", f"127.0.0.1:{port}", "--trust-proxy"]
        if demo:
            args.append("--demo")
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout=180):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve on :{self.port} exited: {tail(read(self.log_path), 8)}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"serve on :{self.port} did not answer /healthz in {timeout} s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


NGINX_CONF = """\
{user}
worker_processes 2;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream yuanjiang {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://yuanjiang;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Never replay a write on the other node.
            proxy_next_upstream off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""




def project_body(code, name):
    body = dict(PROJECT_TEMPLATE)
    body.update(code=code, name=name, description=f"two-nodes test: {name}")
    return body


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.txns = {}  # code -> list of accepted amounts
        self.edits = {}  # code -> list of (version, name) accepted
        self.statuses = {}
        self.upstreams = {}
        self.latencies = []
        self.reads = 0
        self.writes = 0
        self.errors = []

    def record(self, status, headers, elapsed, write):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            up = header(headers, "x-upstream") or "?"
            self.upstreams[up] = self.upstreams.get(up, 0) + 1
            self.latencies.append(elapsed)
            if write:
                self.writes += 1
            else:
                self.reads += 1


def client(port, token, codes, ledger, deadline, rng, tid):
    auth = {"Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    seq = 0

    def call(method, path, body=None, extra=None, write=False):
        nonlocal conn
        t0 = time.monotonic()
        try:
            status, headers, parsed = request(port, method, path, body,
                                              dict(auth, **(extra or {})), conn=conn)
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with ledger.lock:
                ledger.errors.append(f"{method} {path}: {e}")
            return None, [], None
        ledger.record(status, headers, time.monotonic() - t0, write)
        if status >= 500:
            with ledger.lock:
                ledger.errors.append(f"{method} {path}: {status} {str(parsed)[:300]}")
        return status, headers, parsed

    while time.monotonic() < deadline:
        seq += 1
        code = rng.choice(codes)
        op = rng.random()
        if op < 0.40:
            which = rng.random()
            if which < 0.4:
                call("GET", f"/api/v1/projects/{code}")
            elif which < 0.7:
                call("GET", "/api/v1/projects?supporter=31&year=2026&limit=20")
            else:
                call("GET", "/api/v1/stats/funds?supporter=31&year=2026&by=category")
        elif op < 0.75:
            amount = rng.randint(1, 100_000)
            body = {"fund_type": "commitment", "amount": amount, "date": "2026-04-01",
                    "document_no": f"两节点〔{tid}-{seq}〕号", "note": "two-nodes"}
            status, _, _ = call("POST", f"/api/v1/projects/{code}/transactions", body, write=True)
            if status == 201:
                with ledger.lock:
                    ledger.txns.setdefault(code, []).append(amount)
        else:
            status, headers, _ = call("GET", f"/api/v1/projects/{code}")
            if status != 200:
                continue
            name = f"两节点测试项目 {tid}-{seq}"
            status, headers, parsed = call(
                "PUT", f"/api/v1/projects/{code}", project_body(code, name),
                {"If-Match": header(headers, "etag") or ""}, write=True)
            if status == 200:
                with ledger.lock:
                    ledger.edits.setdefault(code, []).append((parsed["row_version"], name))
    conn.close()


def session_check(nginx, a, b, ledger, code):
    """Signs in through nginx; the session must work on A and B directly."""
    problems = []
    status, headers, page = request(nginx, "GET", "/login", headers={"Accept": "text/html"})
    login_csrf = set_cookies(headers).get("yj_login_csrf")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page if isinstance(page, str) else "")
    if status != 200 or not login_csrf or not m:
        return [f"GET /login through nginx: {status}, no login CSRF cookie or field"]
    status, headers, _ = request(
        nginx, "POST", "/login",
        form={"username": "sh-officer", "password": PASSWORD, "csrf_token": m.group(1)},
        headers={"Cookie": f"yj_login_csrf={login_csrf}", "Accept": "text/html"})
    session = set_cookies(headers).get("yj_session")
    if status != 303 or not session:
        return [f"POST /login through nginx answered {status} without a session cookie"]
    cookie = {"Cookie": f"yj_session={session}"}
    for label, port in (("A", a), ("B", b)):
        status, _, me = request(port, "GET", "/api/v1/me", headers=cookie)
        if status != 200 or not isinstance(me, dict):
            problems.append(f"node {label} refused the session from nginx: {status}")
            continue
        csrf = me.get("csrf_token")
        if not csrf:
            problems.append(f"node {label}: /api/v1/me has no csrf_token: {me}")
            continue
        amount = 777 if label == "A" else 888
        body = {"fund_type": "commitment", "amount": amount, "date": "2026-04-02",
                "document_no": f"两节点会话〔{label}〕号", "note": "session write"}
        status, _, resp = request(port, "POST", f"/api/v1/projects/{code}/transactions", body,
                                  dict(cookie, **{"X-CSRF-Token": csrf}))
        if status != 201:
            problems.append(f"node {label}: a cookie write with the CSRF token answered {status} {resp}")
        else:
            ledger.txns.setdefault(code, []).append(amount)
        status, _, _ = request(port, "POST", f"/api/v1/projects/{code}/transactions",
                               dict(body, document_no=f"两节点无令牌〔{label}〕号"), cookie)
        if status != 403:
            problems.append(f"node {label}: a cookie write without the CSRF token answered {status}")
    # Sign out through nginx (CSRF token as a form field); both nodes must
    # then refuse the session.
    _, _, me = request(nginx, "GET", "/api/v1/me", headers=cookie)
    csrf = me.get("csrf_token", "") if isinstance(me, dict) else ""
    status, _, _ = request(nginx, "POST", "/logout", form={"csrf_token": csrf},
                           headers=dict(cookie, Accept="text/html"))
    if status >= 400:
        problems.append(f"POST /logout through nginx answered {status}")
    for label, port in (("A", a), ("B", b)):
        status, _, _ = request(port, "GET", "/api/v1/me", headers=cookie)
        if status != 401:
            problems.append(f"node {label} still accepts the session after sign-out: {status}")
    return problems


def verify(codes, ledger, token, baseline, a, b):
    """The final state on each node equals the replay of the accepted writes."""
    problems = []
    auth = {"Authorization": f"Bearer {token}"}
    expected_total = baseline
    for code in codes:
        accepted = ledger.txns.get(code, [])
        edits = sorted(ledger.edits.get(code, []))
        versions = [v for v, _ in edits]
        if len(set(versions)) != len(versions):
            problems.append(f"{code}: two accepted edits claim one version: {versions} (lost update)")
        expected_total += sum(accepted)
        for label, port in (("A", a), ("B", b)):
            status, _, body = request(port, "GET", f"/api/v1/projects/{code}", headers=auth)
            if status != 200:
                problems.append(f"{code} on node {label}: {status}")
                continue
            stored = [t["amount"] for t in body["transactions"]]
            if sorted(stored) != sorted(accepted):
                problems.append(f"{code} on node {label}: {len(stored)} transactions summing "
                                f"{sum(stored)} fen, accepted {len(accepted)} summing {sum(accepted)}")
            planned = body["fund_chain"]["planned"]
            if planned != sum(accepted):
                problems.append(f"{code} on node {label}: fund chain says {planned} fen committed, "
                                f"accepted {sum(accepted)}")
            version = body["project"]["row_version"]
            if version != 1 + len(edits):
                problems.append(f"{code} on node {label}: version {version}, but {len(edits)} "
                                f"accepted edits after version 1")
            want_name = edits[-1][1] if edits else "两节点测试项目"
            if body["project"]["name"] != want_name:
                problems.append(f"{code} on node {label}: name {body['project']['name']!r}, "
                                f"last accepted edit {want_name!r}")
    for label, port in (("A", a), ("B", b)):
        total = stats_total(port, token)
        if total != expected_total:
            problems.append(f"node {label}: /api/v1/stats/funds says {total} fen committed, "
                            f"the replay {expected_total}")
    return problems, expected_total


def stats_total(port, token):
    status, _, body = request(port, "GET", "/api/v1/stats/funds?supporter=31&year=2026",
                              headers={"Authorization": f"Bearer {token}"})
    if status != 200:
        raise RuntimeError(f"/api/v1/stats/funds answered {status}: {body}")
    return body["total"]["planned"]


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.environ.get(
        "YUANJIANG_BIN", os.path.join(ROOT, "target", "debug", "yuanjiang")))
    p.add_argument("--seconds", type=float, default=60.0, help="load duration (default 60)")
    p.add_argument("--clients", type=int, default=50, help="client threads (default 50)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--postgres", default=os.environ.get(
        "YUANJIANG_TEST_POSTGRES", "postgres://postgres@127.0.0.1/test"))
    p.add_argument("--keep", action="store_true", help="keep the logs and the database")
    args = p.parse_args()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        log("SKIPPED two-nodes: nginx not installed")
        return 0
    if not os.access(args.bin, os.X_OK):
        log(f"two-nodes: FAILED (the binary {args.bin} is missing: cargo build -p yuanjiang)")
        return 1
    parsed = urllib.parse.urlsplit(args.postgres)
    pg = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432),
          "-U", parsed.username or "postgres"]
    probe = subprocess.run(["psql", *pg, "-d", parsed.path.lstrip("/") or "postgres", "-Atqc",
                            "SELECT 1"], capture_output=True, text=True)
    if probe.returncode != 0:
        log(f"SKIPPED two-nodes: PostgreSQL not reachable at {args.postgres}")
        return 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    dbname = f"yj_two_nodes_{os.getpid()}"
    url = urllib.parse.urlunsplit(("postgres", parsed.netloc, "/" + dbname, "", ""))
    work = tempfile.mkdtemp(prefix="yj-two-nodes-")
    os.chmod(work, 0o755)
    env = dict(os.environ, YUANJIANG_FIELD_KEY=FIELD_KEY, YUANJIANG_DATA_DIR=work,
               YUANJIANG_LOG="info,sqlx=warn", YUANJIANG_LOG_FORMAT="json")
    env.pop("YUANJIANG_DB", None)
    subprocess.run(["dropdb", *pg, "--if-exists", "--force", dbname], capture_output=True)
    r = subprocess.run(["createdb", *pg, dbname], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"two-nodes: FAILED (createdb {dbname}: {r.stderr.strip()})")
        return 1
    log(f"two-nodes: seed {seed}, {args.clients} clients for {args.seconds:g} s, database {dbname}")
    nodes, nginx_proc, failed, summary = [], None, [], ""
    try:
        a_port, b_port, lb_port = free_port(), free_port(), free_port()
        node_a = Node(args.bin, env, url, a_port, os.path.join(work, "node-a.log"), demo=True)
        nodes.append(node_a)
        node_a.wait_healthy()  # A loads the demo data and accounts first
        node_b = Node(args.bin, env, url, b_port, os.path.join(work, "node-b.log"), demo=False)
        nodes.append(node_b)
        node_b.wait_healthy()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=work, a=a_port, b=b_port, port=lb_port,
                                      user="user root;" if os.geteuid() == 0 else ""))
        nginx_proc = subprocess.Popen([nginx, "-c", conf, "-p", work, "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                if request(lb_port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if nginx_proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {nginx_proc.stderr.read().decode()[-500:]}"
                                   if nginx_proc.poll() is not None else "nginx did not answer")
            time.sleep(0.1)

        token_out = subprocess.run([args.bin, "token", "create", "--db", url, "--user", "sh-officer"],
                                   env=env, capture_output=True, text=True)
        m = re.search(r"yj_[0-9a-f]{64}", token_out.stdout)
        if not m:
            raise RuntimeError(f"token create: {token_out.stdout} {token_out.stderr}")
        token = m.group(0)
        auth = {"Authorization": f"Bearer {token}"}
        # Warm both nodes' answer caches first, so a cache that missed the
        # other node's writes would show at the end.
        baseline = stats_total(a_port, token)
        if stats_total(b_port, token) != baseline:
            failed.append("nodes A and B disagree on the fund statistics before the load")
        codes = []
        for i in range(PROJECTS):
            code = f"YJ2026-31-{FIRST_CODE + i:05d}"
            status, _, body = request(lb_port, "POST", "/api/v1/projects",
                                      project_body(code, "两节点测试项目"), auth)
            if status != 201:
                raise RuntimeError(f"creating {code} through nginx: {status} {body}")
            codes.append(code)

        ledger = Ledger()
        session_problems = session_check(lb_port, a_port, b_port, ledger, codes[0])
        failed += session_problems
        rng = random.Random(seed)
        deadline = time.monotonic() + args.seconds
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(lb_port, token, codes, ledger, deadline,
                                                          random.Random(rng.random()), t))
                   for t in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        problems, total = verify(codes, ledger, token, baseline, a_port, b_port)
        failed += problems
        fives = sum(n for s, n in ledger.statuses.items() if s >= 500)
        if fives:
            failed.append(f"{fives} answers were 5xx: {ledger.errors[:3]}")
        elif ledger.errors:
            failed.append(f"{len(ledger.errors)} requests failed: {ledger.errors[:3]}")
        for node, label in ((node_a, "A"), (node_b, "B")):
            errors = [l for l in read(node.log_path).splitlines()
                      if '"level":"ERROR"' in l.replace(" ", "")]
            if errors:
                failed.append(f"node {label} logged {len(errors)} errors: {errors[:2]}")
        served = {up: n for up, n in ledger.upstreams.items()}
        for port, label in ((a_port, "A"), (b_port, "B")):
            if not served.get(f"127.0.0.1:{port}"):
                failed.append(f"nginx sent node {label} no requests")
        two = sum(n for s, n in ledger.statuses.items() if 200 <= s < 300)
        accepted_txns = sum(len(v) for v in ledger.txns.values())
        accepted_edits = sum(len(v) for v in ledger.edits.values())
        lat = ledger.latencies
        summary = (
            f"{len(lat)} requests in {elapsed:.0f} s ({len(lat) / max(elapsed, 0.001):.0f}/s; "
            f"{ledger.reads} reads, {ledger.writes} writes): 2xx {two}, "
            f"409 {ledger.statuses.get(409, 0)}, 412 {ledger.statuses.get(412, 0)}, 5xx {fives}; "
            f"node A {served.get(f'127.0.0.1:{a_port}', 0)}, node B {served.get(f'127.0.0.1:{b_port}', 0)}; "
            f"accepted {accepted_txns} transactions ({total - baseline} fen) and {accepted_edits} edits; "
            f"p50 {percentile(lat, 50) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms; "
            f"sessions on both nodes {'FAILED' if session_problems else 'ok'}")
        other = {s: n for s, n in ledger.statuses.items() if s >= 300 and s not in (409, 412)}
        if other:
            summary += f"; other statuses {other}"
    except Exception as e:  # noqa: BLE001 - any set-up failure is the test's failure
        failed.append(f"{type(e).__name__}: {e}")
    finally:
        if nginx_proc and nginx_proc.poll() is None:
            nginx_proc.send_signal(signal.SIGQUIT)
            try:
                nginx_proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                nginx_proc.kill()
                nginx_proc.wait()
        for node in nodes:
            node.stop()
        if not args.keep:
            subprocess.run(["dropdb", *pg, "--if-exists", "--force", dbname], capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept: {work}, database {dbname}")
    for f in failed:
        log(f"  FAILED: {f}")
    log(f"two-nodes: {summary} {'FAILED' if failed else 'passed'}".replace("  ", " "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

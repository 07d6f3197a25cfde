#!/usr/bin/env python3
"""A full disk and a read-only database (issue 8, operations).

Mounts a small tmpfs (needs root; otherwise prints SKIPPED), puts a SQLite
database with the small demo data on it, fills the disk, and checks that:

* writes through the API are refused with 507 `storage_full` (bilingual
  JSON), reads and /healthz keep working, and the server does not crash;
* once space is freed, writes are accepted again without a restart;
* the remount read-only refuses writes with a clear error (503
  `storage_read_only`, or a clear start-up error);
* afterwards `PRAGMA integrity_check` is ok, `yuanjiang check` and
  `yuanjiang audit verify` pass, and no refused write left anything behind.

    tests/reliability/full_disk.py [--bin target/debug/yuanjiang]

Prints `full-disk: … passed` or `full-disk: … FAILED`.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time, urllib.error, urllib.request

from common import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def request(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("YUANJIANG_BIN", os.path.join(ROOT, "target", "debug", "yuanjiang")))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIPPED full-disk: mounting a tmpfs needs root")
        return 0
    work = tempfile.mkdtemp(prefix="yj-full-disk-")
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt]).returncode != 0:
        print("SKIPPED full-disk: cannot mount a tmpfs here")
        return 0
    env = dict(os.environ, YUANJIANG_DATA_DIR=work, YUANJIANG_LOG="warn")
    db = f"sqlite://{mnt}/yj.db"
    problems = []
    server = None
    try:
        subprocess.run([args.bin, "demo", "--db", db, "--scale", "small", "--seed", "3", "--as-of", "2026-11-29"],
                       env=env, check=True, capture_output=True)
        subprocess.run([args.bin, "user", "add", "sh-officer", "--role", "supporter", "--scope", "31",
                        "--password-stdin", "--db", db], input="Xinjiang-2026!\n", env=env, check=True,
                       capture_output=True, text=True)
        token = subprocess.run([args.bin, "token", "create", "--db", db, "--user", "sh-officer", "--label", "disk"],
                               env=env, check=True, capture_output=True, text=True).stdout
        token = next(w for w in token.split() if w.startswith("yj_"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen([args.bin, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
                                  env=env, stdout=log, stderr=log)
        for _ in range(100):
            try:
                if request(base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        status, page = request(base, "GET", "/api/v1/projects?supporter=31&limit=1", token)
        code = page["items"][0]["code"]
        status, before = request(base, "GET", f"/api/v1/projects/{code}", token)

        # Fill the disk to the last byte.
        with open(os.path.join(mnt, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # Drafts of new projects, copied from a stored one: each write adds a
        # row, its history and its audit entry.
        src = before["project"]
        keys = ["category", "delivery_mode", "kind", "year", "in_plan", "continued", "grassroots",
                "livelihood", "supporter_code", "recipient_code", "location_code", "planned_investment",
                "aid_funds", "matching_funds", "start_date", "end_date"]
        s, listed = request(base, "GET", "/api/v1/projects?supporter=31&limit=1000", token)
        count_before = len(listed["items"])
        statuses, bodies = [], []
        for i in range(40):
            draft = {k: src[k] for k in keys}
            draft.update(code=f"YJ2026-31-9{i:04d}", name=f"满盘测试项目{i}", description="满" * 3000)
            s, b = request(base, "POST", "/api/v1/projects", token, draft)
            statuses.append(s)
            bodies.append(b)
        refused = [b for s, b in zip(statuses, bodies) if s == 507]
        accepted_while_full = statuses.count(201)
        if not refused:
            problems.append(f"no write was refused with 507 on a full disk: {sorted(set(statuses))}")
        elif refused[0]["error"]["code"] != "storage_full" or "en" not in refused[0]["error"]["message"]:
            problems.append(f"unclear refusal: {refused[0]}")
        if any(s >= 500 and s != 507 for s in statuses):
            problems.append(f"other 5xx on a full disk: {sorted(set(statuses))}")
        if request(base, "GET", "/healthz")[0] != 200:
            problems.append("/healthz failed on a full disk")
        s, during = request(base, "GET", f"/api/v1/projects/{code}", token)
        if s != 200:
            problems.append(f"reads failed on a full disk: {s}")

        # Free the space: writes go through again, without a restart.
        os.remove(os.path.join(mnt, "filler"))
        draft = {k: src[k] for k in keys}
        draft.update(code="YJ2026-31-99999", name="满盘恢复", description="")
        s, b = request(base, "POST", "/api/v1/projects", token, draft)
        if s != 201:
            problems.append(f"a write after freeing space answered {s}: {b}")
        time.sleep(0.1)
        s, after = request(base, "GET", "/api/v1/projects?supporter=31&limit=1000", token)
        expected = count_before + accepted_while_full + 1
        if len(after["items"]) != expected:
            problems.append(f"{len(after['items'])} projects after, expected {expected}: a refused write left something")
        server.terminate()
        server.wait(timeout=30)
        server = None

        # Read-only: the same database on a read-only mount.
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([args.bin, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        up = False
        for _ in range(100):
            if server.poll() is not None:
                break
            try:
                if request(base, "GET", "/healthz")[0] == 200:
                    up = True
                    break
            except OSError:
                pass
            time.sleep(0.1)
        read_only_outcome = ""
        if up:
            draft = {k: src[k] for k in keys}
            draft.update(code="YJ2026-31-99998", name="只读测试", description="")
            s, b = request(base, "POST", "/api/v1/projects", token, draft)
            read_only_outcome = f"serves reads; a write answered {s} {b.get('error', {}).get('code') if isinstance(b, dict) else b}"
            if s != 503 or b["error"]["code"] != "storage_read_only":
                problems.append(f"a write on a read-only database answered {s}: {b}")
            server.terminate()
            server.wait(timeout=30)
        else:
            out = server.stdout.read() if server.stdout else ""
            said = next((l.strip() for l in out.splitlines() if l.strip().startswith("Error")), out.strip()[:200])
            read_only_outcome = f"refused to start, exit {server.returncode}: {said}"
            if server.returncode == 0 or not out.strip():
                problems.append(f"serve on a read-only database gave no clear error: {out!r}")
        server = None
        subprocess.run(["mount", "-o", "remount,rw", mnt], check=True)

        integrity = subprocess.run(["sqlite3", f"{mnt}/yj.db", "PRAGMA integrity_check"], capture_output=True, text=True).stdout.strip()
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        for cmd in (["check"], ["audit", "verify"]):
            r = subprocess.run([args.bin, *cmd, "--db", db], env=env, capture_output=True, text=True)
            if r.returncode != 0:
                problems.append(f"yuanjiang {' '.join(cmd)} failed: {r.stdout[-300:]} {r.stderr[-300:]}")
        summary = (f"{len(refused)} of 40 writes refused with 507 storage_full on the full disk, "
                   f"{accepted_while_full} fitted; reads and /healthz kept working; after freeing space "
                   f"writes resumed; read-only mount: {read_only_outcome}; integrity {integrity}")
    finally:
        if server is not None:
            server.kill()
        if problems and os.path.exists(os.path.join(work, "server.log")):
            with open(os.path.join(work, "server.log")) as f:
                for line in f.read().splitlines()[-8:]:
                    print(f"   server: {line[:400]}")
        subprocess.run(["umount", "-l", mnt])
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        for p in problems:
            print(f"!! {p}")
        print(f"full-disk: FAILED ({len(problems)} problems)")
        return 1
    print(f"full-disk: {summary}; passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the reliability scripts share: a free loopback port, reading a log
and its last lines, printing as it happens, and the project every write scenario drafts."""
import socket


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(text, n=6):
    """The last n non-empty lines of a log, on one line."""
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# A Shanghai project in Zepu (653124), valid under the lifecycle and fund rules.
PROJECT_TEMPLATE = {
    "category": "industry",
    "delivery_mode": "joint",
    "kind": "construction",
    "year": 2026,
    "in_plan": True,
    "continued": False,
    "grassroots": False,
    "livelihood": False,
    "supporter_code": "31",
    "recipient_code": "653124",
    "location_code": "653124",
    "planned_investment": 10_000_000_000,
    "aid_funds": 9_000_000_000,
    "matching_funds": 1_000_000_000,
    "start_date": "2026-01-01",
    "end_date": "2027-12-31",
}

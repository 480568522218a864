"""A small HTTP client for loopback load: signed-in sessions, timed requests, thread pools."""

import http.client
import json
import re
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Client:
    """One connection per thread; a session cookie shared by the threads of one signed-in person."""

    def __init__(self, host: str, port: int, timeout: float = 60):
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return conn

    def send(self, request: Request) -> Response:
        headers = dict(request.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(request.method, request.path, body=request.body, headers=headers)
                raw = conn.getresponse()
                body = raw.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A sync worker closes idle keep-alive connections; reconnect once (not a failure).
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
                started = time.perf_counter()
            except Exception:
                conn.close()
                self._local.conn = None
                raise
        seconds = time.perf_counter() - started
        if raw.will_close:
            conn.close()
            self._local.conn = None
        for value in raw.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Response(raw.status, body, {k.lower(): v for k, v in raw.headers.items()}, seconds)

    def get(self, path: str, **headers) -> Response:
        return self.send(Request("GET", path, headers=headers))

    def post_form(self, path: str, data: dict | list) -> Response:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        return self.send(
            Request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        )

    def csrf_token(self, path: str) -> str:
        response = self.get(path)
        match = CSRF.search(response.text)
        if not match:
            raise RuntimeError(f"no CSRF token on {path} (status {response.status})")
        return match.group(1)

    def sign_in(self, email: str, password: str) -> "Client":
        for _ in range(5):
            token = self.csrf_token("/login")
            response = self.post_form(
                "/login", {"csrf_token": token, "email": email, "password": password}
            )
            if response.status != 429:
                break
            # Many sign-ins from one address hit the sign-in rate limit: wait as it asks.
            time.sleep(min(float(response.headers.get("retry-after") or 5), 65))
        if response.status != 302:
            raise RuntimeError(
                f"sign-in as {email} failed: {response.status} {response.text[:300]}"
            )
        return self


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Measured:
    latencies: list[float]
    statuses: dict[int, int]
    statements: list[int]
    errors: list[str]
    seconds: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "requests": len(self.latencies),
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(self.latencies, 95) * 1000, 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1)
            if self.latencies
            else None,
            "rps": round(self.rps, 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "sql_statements": max(self.statements) if self.statements else None,
            "errors": self.errors[:5],
            "error_count": len(self.errors),
        }


def run_load(
    make_request: Callable[[int], tuple[Client, Request]],
    requests: int,
    threads: int,
    ok: set[int],
    seconds: float | None = None,
) -> Measured:
    """Send `requests` requests from `threads` threads (or fewer, when `seconds` run out first);
    any status outside `ok` is an error."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    statements: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds if seconds else None

    def worker() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None or (deadline and time.perf_counter() > deadline):
                return
            client, request = make_request(n)
            try:
                response = client.send(request)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{request.method} {request.path}: {exc!r}")
                continue
            with lock:
                latencies.append(response.seconds)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if "x-sql-statements" in response.headers:
                    statements.append(int(response.headers["x-sql-statements"]))
                if response.status not in ok:
                    errors.append(f"{request.method} {request.path}: {response.status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(threads):
            pool.submit(worker)
    return Measured(latencies, statuses, statements, errors, time.perf_counter() - started)

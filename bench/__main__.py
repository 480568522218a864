"""`make bench`: seed a production-sized data set, serve it with gunicorn, measure the real pages.

Environment:
  BENCH_SCALE        share of the issue's volume (1 = 10,000 users, 200,000 reports, 1,000,000
                     survey answers, 300,000 attempts; 0.1 for a quick run). Default 1.
  PORTAL_DATABASE_URL  an EMPTY PostgreSQL database to use; default a fresh SQLite file in
                     bench/results/. A database that already has tables is refused unless
                     BENCH_RESET=1 (which drops every table in it).
  BENCH_REQUESTS     timed requests per page, one client at a time (p50/p95). Default 40.
  BENCH_LOAD_SECONDS how long each page's throughput run lasts (requests/second from
                     BENCH_THREADS clients at once). Default 5.
  BENCH_THREADS      client threads in the throughput run. Default 8.
  BENCH_PAGE_SECONDS each page's timed run stops after this many seconds (fewer requests for
                     a slow page). Default 30.
  BENCH_RATIO_ROUNDS rounds of /healthz then the triage queue, back to back (BENCH_RATIO_SECONDS
                     each, default 1.5), for the triage throughput ratio: the median of the rounds'
                     ratios, so a slow spell of the machine in one round does not decide it. Default 10.
  PORTAL_WORKERS     gunicorn workers (gunicorn.conf.py; default 4).
  BENCH_CONCURRENCY  0 skips the concurrency run after the pages (bench/concurrency.py, which
                     also reads BENCH_CLIENTS, default 50, and BENCH_CONCURRENCY_SECONDS, default 30).
"""

import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench import concurrency
from bench.client import Client, Measured, Request, percentile, run_load
from bench.seed import Seeded, Sizes, Writer, add_answers, analyze, seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SECRET = "bench-secret-key-" + "0" * 32
# Each phase of a page stops after this long, so a slow page bounds the run (fewer requests).
PAGE_SECONDS = float(os.environ.get("BENCH_PAGE_SECONDS", "30"))
# Each page's throughput run lasts this long: every page's rate is taken over the same time.
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "5"))
TARGETS_MS = {
    "report_post": 50,
    "api_report_post": 50,
    "triage_queue": 100,
    "report_detail": 100,
    "my_reports": 100,
    "my_training": 100,
    "dashboard_overview": 200,
    "dashboard_agent": 200,
}


def say(message: str) -> None:
    sys.stdout.write(message)
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        mem_kb = int(handle.readline().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


# --- the database -------------------------------------------------------------------------------


def prepare_database(url: str) -> str:
    """Migrate an empty database to head (refuse a used one unless BENCH_RESET=1)."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.core.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        tables = sa.inspect(db.engine).get_table_names()
        if tables:
            if os.environ.get("BENCH_RESET") != "1":
                sys.exit(
                    f"{db.engine.url.render_as_string()} already has tables; the benchmark wants "
                    "an empty database (or set BENCH_RESET=1 to drop every table in it)."
                )
            say("dropping every table (BENCH_RESET=1)\n")
            # Reflected into a MetaData of its own: the app's (db.metadata) must stay whole.
            existing = sa.MetaData()
            existing.reflect(bind=db.engine)
            existing.drop_all(bind=db.engine)
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))

        upgrade()
        db.engine.dispose()
    return url


def database_url(sqlite_file: str = "bench.db") -> str:
    """PORTAL_DATABASE_URL (spelt for psycopg), else a fresh SQLite file in bench/results/."""
    url = os.environ.get("PORTAL_DATABASE_URL")
    if not url:
        path = RESULTS / sqlite_file
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def bench_engine(url: str) -> sa.Engine:
    """The empty database at `url` migrated to head, and an engine for seeding and checking it."""
    prepare_database(url)
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        from portal.core.db import configure_sqlite

        configure_sqlite(engine)
    return engine


def set_passwords(engine: sa.Engine, password: str) -> None:
    """The accounts' hash is only checked at sign-in; one real hash for everybody."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET password_hash = :h"), {"h": password_hash(password)})


def password_hash(password: str) -> str:
    from portal import create_app
    from portal.core.security import hash_password

    with create_app({"SECRET_KEY": SECRET}).app_context():
        return hash_password(password)


# --- the server ---------------------------------------------------------------------------------


class Server:
    def __init__(self, url: str, log: Path):
        self.url, self.log = url, log
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.peak_kb = 0

    def start(self) -> "Server":
        env = {
            **os.environ,
            "PORTAL_DATABASE_URL": self.url,
            "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_BENCH_SQL_COUNT": "1",
            # One API token files thousands of reports a second here; production's limit per
            # token would answer most of them 429 and the page's figures would measure that.
            "PORTAL_API_RATE_LIMIT": "1000000 per minute",
            "PORTAL_BIND": f"127.0.0.1:{self.port}",
        }
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "bench.serve:app",
        ]
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            command, cwd=ROOT, env=env, stdout=handle, stderr=handle
        )
        deadline = time.monotonic() + 60
        client = Client("127.0.0.1", self.port)
        while True:
            try:
                if client.get("/healthz").status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {self.log}")
            time.sleep(0.2)
        time.sleep(1)  # let every worker finish importing
        threading.Thread(target=self._watch_memory, daemon=True).start()
        return self

    def _watch_memory(self) -> None:
        while self.process.poll() is None:
            self.note_memory()
            time.sleep(0.5)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def note_memory(self) -> None:
        """Keep the largest VmHWM of the workers running now (sampled every half second: gunicorn
        replaces a worker after max_requests, and its peak would be lost if read only at the end)."""
        try:
            workers = self.workers()
        except FileNotFoundError:  # the server has stopped
            return
        for pid in workers:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:  # replaced just now
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def peak_worker_memory_mb(self) -> float:
        self.note_memory()
        return round(self.peak_kb / 1024, 1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --- the pages ----------------------------------------------------------------------------------


def pages(seeded: Seeded, server: Server) -> dict:
    """name -> (make_request(n) -> (client, request), acceptable statuses)."""
    host, port = "127.0.0.1", server.port
    people = {
        role: Client(host, port).sign_in(email, seeded.password)
        for role, email in seeded.emails.items()
        if role in ("reporter", "triage", "manager", "trainee")
    }
    anonymous = Client(host, port)
    reporter, triage, manager, trainee = (
        people["reporter"],
        people["triage"],
        people["manager"],
        people["trainee"],
    )
    report_csrf = reporter.csrf_token("/report")
    check_csrf = trainee.csrf_token(f"/training/modules/{seeded.module_id}/check")
    api = Client(host, port)
    bearer = {"Authorization": f"Bearer {seeded.api_token}"}
    slugs = seeded.agent_slugs

    def get(client, path):
        return lambda n: (client, Request("GET", path))

    def report_post(n):
        words = " ".join(f"Zq{uuid.uuid4().hex[:10]}" for _ in range(3))
        data = {
            "csrf_token": report_csrf,
            "agent": slugs[n % len(slugs)],
            "category": "wrong_output",
            "summary": words,  # words no other report shares: no "similar reports" step
            "severity": "",
            "details": "Filed by the benchmark.",
            "submission_key": uuid.uuid4().hex,
        }
        body = "&".join(f"{k}={v}" for k, v in data.items()).replace(" ", "+").encode()
        return reporter, Request(
            "POST", "/report", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def check_post(n):
        fields = [("csrf_token", check_csrf), ("version_id", str(seeded.version_id))]
        fields.append(("submission_key", uuid.uuid4().hex[:32]))
        for question, choices in seeded.question_choices.items():
            # A wrong answer: a passed module cannot be retaken, a failed one can.
            fields.append((f"q{question}", str(choices[1])))
        body = "&".join(f"{k}={v}" for k, v in fields).encode()
        return trainee, Request(
            "POST",
            f"/training/modules/{seeded.module_id}/check",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def api_report_post(n):
        payload = {
            "agent": slugs[n % len(slugs)],
            "category": "unavailable",
            "summary": f"Timed out on run {uuid.uuid4().hex[:12]}",
        }
        headers = {**bearer, "Content-Type": "application/json"}
        headers["Idempotency-Key"] = uuid.uuid4().hex
        return api, Request("POST", "/api/v1/reports", json.dumps(payload).encode(), headers)

    def report_detail(n):
        ids = seeded.report_ids
        return reporter, Request("GET", f"/reports/{ids[n % len(ids)]}")

    triage_filters = "/triage?agent=3&severity=high&sort=due"
    return {
        "healthz": (get(anonymous, "/healthz"), {200}),
        "sign_in_page": (get(anonymous, "/login"), {200}),
        "report_form": (get(reporter, "/report"), {200}),
        "report_post": (report_post, {302}),
        "my_reports": (get(reporter, "/reports/mine"), {200}),
        "triage_queue": (get(triage, triage_filters), {200}),
        "report_detail": (report_detail, {200}),
        "my_training": (get(trainee, "/training/"), {200}),
        "knowledge_check_post": (check_post, {302}),
        "dashboard_overview": (get(manager, "/dashboards/"), {200}),
        "dashboard_agent": (get(manager, f"/dashboards/agents/{slugs[2]}"), {200}),
        "api_report_post": (api_report_post, {201}),
        "api_metrics": (lambda n: (api, Request("GET", "/api/v1/metrics", headers=bearer)), {200}),
    }


def throughput(make, ok, threads: int, seconds: float = LOAD_SECONDS) -> Measured:
    """As many requests as `threads` clients get answered in `seconds`."""
    return run_load(make, 10**9, threads, ok, seconds)


def measure(name, make, ok, sequential: int, threads: int | None) -> dict:
    """p50/p95 one request at a time, then (unless `threads` is None) requests/second."""
    # Warm up every worker (templates compiled, connections open, its first queries planned): a
    # request from one client at a time may always land on the same worker, so send them side by
    # side, a few per worker.
    workers = int(os.environ.get("PORTAL_WORKERS", "4"))
    run_load(make, 3 * workers, workers, ok)
    timed = run_load(make, sequential, 1, ok, PAGE_SECONDS)
    result = timed.summary()
    statements = timed.statements
    if threads is not None:
        loaded = throughput(make, ok, threads)
        result["rps"] = round(loaded.rps, 1)
        result["p95_loaded_ms"] = round(percentile(loaded.latencies, 95) * 1000, 1)
        result["error_count"] += loaded.summary()["error_count"]
        result["errors"] += loaded.errors[:5]
        statements += loaded.statements
    result["sql_statements"] = max(statements) if statements else None
    say(
        f"  {name:<22} p50 {result['p50_ms']:>8.1f} ms  p95 {result['p95_ms']:>8.1f} ms  "
        f"{result['rps']:>7.1f} req/s  sql {result['sql_statements']}  "
        f"errors {result['error_count']}\n"
    )
    return result


GROWTH_PAGES = ("dashboard_overview", "dashboard_agent")
# Measured next to the dashboards in both phases: a page the survey answers do not touch, so its
# change between the phases is the machine's drift (printed beside the raw ratio).
GROWTH_REFERENCE = "report_form"
RATIO_ROUNDS = int(os.environ.get("BENCH_RATIO_ROUNDS", "10"))
RATIO_SECONDS = float(os.environ.get("BENCH_RATIO_SECONDS", "1.5"))


def growth_phase(requests: dict, sequential: int) -> dict:
    """p50 of the dashboards and of the reference page, one request at a time."""
    return {
        name: measure(name, *requests[name], sequential, None)["p50_ms"]
        for name in (*GROWTH_PAGES, GROWTH_REFERENCE)
    }


def triage_ratio(requests: dict, threads: int) -> dict:
    """The triage queue's requests/second as a share of /healthz's: short rounds measuring both
    back to back, and the median of the rounds' ratios, so the machine's slow spells (seconds
    long on a shared host) fall on both sides of a round or on a round the median sets aside."""
    rounds = []
    for _ in range(RATIO_ROUNDS):
        ceiling = throughput(*requests["healthz"], threads, RATIO_SECONDS).rps
        triage = throughput(*requests["triage_queue"], threads, RATIO_SECONDS).rps
        rounds.append(
            {
                "healthz_rps": round(ceiling, 1),
                "triage_rps": round(triage, 1),
                "percent": round(100 * triage / ceiling, 1),
            }
        )
        say(
            f"  /healthz {ceiling:>8.1f} req/s  triage {triage:>7.1f} req/s  {rounds[-1]['percent']}%\n"
        )
    return {"rounds": rounds, "percent": round(statistics.median(r["percent"] for r in rounds), 1)}


# --- the report ---------------------------------------------------------------------------------


def table(results: dict) -> str:
    ceiling = results["pages"]["healthz"]["rps"] or 1
    lines = [
        "| page | p50 ms | p95 ms | target p95 | req/s | % of /healthz | SQL/request | errors |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, page in results["pages"].items():
        target = TARGETS_MS.get(name)
        verdict = ""
        if target:
            verdict = f"<= {target} {'met' if page['p95_ms'] <= target else '**missed**'}"
        lines.append(
            f"| {name} | {page['p50_ms']} | {page['p95_ms']} | {verdict} | {page['rps']} | "
            f"{100 * page['rps'] / ceiling:.0f}% | {page['sql_statements']} | "
            f"{page['error_count']} |"
        )
    lines.append("")
    growth = results["dashboard_growth"]
    reference = growth["reference_page"]
    lines.append(
        "| dashboard | p50 ms at "
        f"{growth['small_answers']:,} answers | p50 ms at {growth['large_answers']:,} answers "
        f"| ratio (target <= 1.5) | {reference} p50 ms, small / large | ratio net of drift |"
    )
    lines.append("| --- | ---: | ---: | ---: | --- | ---: |")
    for name in GROWTH_PAGES:
        small, large = growth[name]["small_p50_ms"], growth[name]["large_p50_ms"]
        ratio = growth[name]["ratio"]
        lines.append(
            f"| {name} | {small} | {large} | {ratio} {'met' if ratio <= 1.5 else '**missed**'} "
            f"| {growth['small'][reference]} / {growth['large'][reference]} "
            f"| {growth[name]['ratio_drift_corrected']} |"
        )
    memory = results["peak_worker_memory_mb"]
    share = results["triage_ratio"]["percent"]
    rounds = ", ".join(f"{r['percent']}%" for r in results["triage_ratio"]["rounds"])
    lines.append("")
    lines.append(
        f"Peak worker memory (VmHWM, largest worker): {memory} MB "
        f"(target <= 250: {'met' if memory <= 250 else '**missed**'}). "
        f"Triage queue throughput: {share}% of /healthz (target >= 25%: "
        f"{'met' if share >= 25 else '**missed**'}; median of {len(results['triage_ratio']['rounds'])} "
        f"back-to-back rounds: {rounds})."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    # Stopped from outside: still stop gunicorn (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    sequential = int(os.environ.get("BENCH_REQUESTS", "40"))
    threads = int(os.environ.get("BENCH_THREADS", "8"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    url = database_url()
    say(f"== benchmark at BENCH_SCALE={scale} on {sa.make_url(url).get_backend_name()}\n")
    engine = bench_engine(url)

    sizes = Sizes.at(scale)
    small_answers = max(sizes.answers // 100, 10)
    say("== seeding\n")
    started = time.perf_counter()
    seeded = seed(engine, scale, say, answers=small_answers, password_hash=password_hash("x"))
    seed_seconds = time.perf_counter() - started
    set_passwords(engine, seeded.password)

    server = Server(url, RESULTS / f"gunicorn-{stamp}.log").start()
    results: dict = {
        "when": stamp,
        "database": engine.dialect.name,
        "scale": scale,
        "machine": machine(),
        "workers": len(server.workers()),
        "client_threads": threads,
        "sequential_requests": sequential,
        "load_seconds": LOAD_SECONDS,
    }
    try:
        say(f"== dashboards at {small_answers:,} survey answers\n")
        requests = pages(seeded, server)
        growth = {"small_answers": small_answers, "reference_page": GROWTH_REFERENCE}
        growth["small"] = growth_phase(requests, sequential)
        say(f"== adding survey answers up to {sizes.answers:,}\n")
        started = time.perf_counter()
        add_answers(Writer(engine, say), seeded, sizes.answers - small_answers)
        analyze(engine)
        seed_seconds += time.perf_counter() - started
        growth["large_answers"] = seeded.answers_now
        say(f"   seeding took {seed_seconds:.0f} s in all\n")
        say(f"== dashboards at {seeded.answers_now:,} survey answers\n")
        growth["large"] = growth_phase(requests, sequential)
        for name in GROWTH_PAGES:
            small, large = growth["small"][name], growth["large"][name]
            drift = growth["large"][GROWTH_REFERENCE] / growth["small"][GROWTH_REFERENCE]
            growth[name] = {
                "small_p50_ms": small,
                "large_p50_ms": large,
                "ratio": round(large / small, 2),
                "ratio_drift_corrected": round(large / small / drift, 2),
            }
        say("== measuring every page\n")
        results["seed_seconds"] = round(seed_seconds, 1)
        results["rows"] = {**seeded.sizes.counts, "survey_responses": seeded.answers_now}
        measured = {}
        for name, (make, ok) in requests.items():
            measured[name] = measure(name, make, ok, sequential, threads)
        results["pages"] = measured
        say(f"== the triage queue against /healthz, {RATIO_ROUNDS} rounds back to back\n")
        results["triage_ratio"] = triage_ratio(requests, threads)
        results["dashboard_growth"] = growth
        results["peak_worker_memory_mb"] = server.peak_worker_memory_mb()
        if os.environ.get("BENCH_CONCURRENCY", "1") != "0":
            results["concurrency"] = concurrency.run(engine, url, seeded, server.port)
    finally:
        server.stop()

    markdown = table(results)
    if "concurrency" in results:
        markdown += "\n" + concurrency.table(results["concurrency"])
    name = f"{stamp}-{engine.dialect.name}-scale{scale:g}"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / f"{name}.md").write_text(markdown)
    say(f"\n{markdown}\nresults: {RESULTS / name}.json and .md\n")
    errors = sum(page["error_count"] for page in results["pages"].values())
    if errors:
        say(f"{errors} requests failed (see the JSON for the first of each page)\n")
    concurrent_failed = not results.get("concurrency", {"passed": True})["passed"]
    if concurrent_failed:
        say("the concurrency run failed (see its table above)\n")
    if errors or concurrent_failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The concurrency run: many people and integrations file reports at once into gunicorn.

Issue 6: "50 concurrent clients filing reports for 30 seconds against SQLite and against PostgreSQL:
zero errors, every accepted report stored exactly once." `make bench` runs it after the pages
(BENCH_CONCURRENCY=0 skips it); `python -m bench.concurrency` runs it alone against a fresh
database (the same conventions as bench/__main__.py: SQLite in bench/results/ by default, or the
EMPTY database in PORTAL_DATABASE_URL).

Half the clients are signed-in reporters using the report form (CSRF token, submission_key, and the
redirect to the new report followed as a browser does); half are API integrations, each with its own
bearer token, sending an Idempotency-Key. Every fourth client also sends each report a second time
with the same key: in turn after the answer (a network retry) and at the same moment on a second
connection (a double click). Both must name the report already filed, never a second one.

Environment (besides bench/__main__.py's BENCH_SCALE and PORTAL_DATABASE_URL):
  BENCH_CLIENTS              client threads, half form and half API. Default 50.
  BENCH_CONCURRENCY_SECONDS  how long they file reports. Default 30.
"""

import http.client
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.client import Client, Request, Response, percentile

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
SECONDS = float(os.environ.get("BENCH_CONCURRENCY_SECONDS", "30"))
PROGRESS_SECONDS = 5
RETRYING_EVERY = 4  # every fourth client sends each report twice
TOKEN_NAME = "bench concurrency"  # noqa: S105 - a label, not a secret
REPORT_PATH = re.compile(r"/reports/(\d+)$")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def say(message: str) -> None:
    sys.stdout.write(message)
    sys.stdout.flush()


@dataclass
class Submission:
    """One report as a client meant it: the answers it got must all name one stored report."""

    kind: str  # "form" or "api"
    summary: str
    ids: list[int] = field(default_factory=list)


@dataclass
class Tally:
    """What every client thread saw, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    retries: int = 0
    retry_mismatches: list[str] = field(default_factory=list)

    def requests(self) -> int:
        with self.lock:
            return sum(len(values) for values in self.latencies.values()) + len(self.errors)

    def answered(self, what: str, response: Response) -> None:
        with self.lock:
            self.latencies.setdefault(what, []).append(response.seconds)
            counts = self.statuses.setdefault(what, {})
            counts[response.status] = counts.get(response.status, 0) + 1

    def failed(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


# --- the people and integrations --------------------------------------------------------------


def plain_people(engine: sa.Engine, count: int) -> list[tuple[int, str]]:
    """(id, email) of `count` people without a named bench role, reused in turn if there are fewer."""
    with engine.connect() as conn:
        people = conn.execute(
            sa.text("SELECT id, email FROM users WHERE email LIKE 'person%' ORDER BY id")
        ).all()
    if not people:
        raise RuntimeError("the seeded database has no plain people to file reports")
    return [tuple(people[n % len(people)]) for n in range(count)]


def issue_tokens(url: str, user_ids: list[int]) -> list[str]:
    """One API token per integration, issued by the portal's own service."""
    from bench.__main__ import SECRET
    from portal import create_app
    from portal.accounts import tokens
    from portal.accounts.models import User
    from portal.core.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    logging.getLogger(tokens.__name__).setLevel(logging.WARNING)  # not a line per token
    issued = []
    with app.app_context():
        for n, user_id in enumerate(user_ids):
            user = db.session.get(User, user_id)
            issued.append(tokens.issue_token(user, f"{TOKEN_NAME} {n}").token)
        db.session.commit()
        db.engine.dispose()
    return issued


def unique_words() -> str:
    # Words no other report shares: the form's "similar reports" step never stops a filing.
    return " ".join(f"Zq{uuid.uuid4().hex[:10]}" for _ in range(3))


class FormReporter:
    """A signed-in person filing through /report as a browser does."""

    kind = "form"

    def __init__(self, client: Client, slug: str):
        self.client, self.slug = client, slug
        self.csrf = client.csrf_token("/report")

    def new_request(self) -> tuple[Request, str]:
        summary = unique_words()
        body = urllib.parse.urlencode(
            {
                "csrf_token": self.csrf,
                "agent": self.slug,
                "category": "wrong_output",
                "summary": summary,
                "severity": "",
                "details": "Filed by the benchmark's concurrency run.",
                "submission_key": uuid.uuid4().hex,
            }
        ).encode()
        return Request("POST", "/report", body, FORM), summary

    @staticmethod
    def report_id(response: Response, role: str) -> tuple[int | None, str]:
        """The filed report's id from the answer (a redirect to it), or None and why not."""
        match = REPORT_PATH.search(urllib.parse.urlsplit(response.headers.get("location", "")).path)
        if response.status == 302 and match:
            return int(match.group(1)), ""
        return None, f"POST /report: {response.status} {response.text[:200]!r}"

    def after_filing(self, report_id: int, tally: Tally) -> None:
        """Follow the redirect to the new report, as the browser does (it shows the thank-you)."""
        path = f"/reports/{report_id}"
        try:
            response = self.client.get(path)
        except (OSError, http.client.HTTPException) as exc:
            tally.failed(f"GET {path}: {exc!r}")
            return
        tally.answered("form_report_page", response)
        if response.status != 200:
            tally.failed(f"GET {path}: {response.status}")


class ApiIntegration:
    """An integration filing through the API with its own token and an Idempotency-Key."""

    kind = "api"

    def __init__(self, client: Client, token: str, slug: str):
        self.client, self.slug = client, slug
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def new_request(self) -> tuple[Request, str]:
        summary = f"Timed out on run {unique_words()}"
        body = json.dumps({"agent": self.slug, "category": "unavailable", "summary": summary})
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        return Request("POST", "/api/v1/reports", body.encode(), headers), summary

    @staticmethod
    def report_id(response: Response, role: str) -> tuple[int | None, str]:
        """The filed report's id from the answer, or None and why not."""
        # A retry answers 200 (the report already there); of a double click sent at the same
        # moment either may answer 201, or both (the second lost the race inside the insert).
        ok = {"first": {201}, "retry": {200}, "double": {200, 201}}[role]
        if response.status in ok:
            try:
                return int(response.json()["id"]), ""
            except (ValueError, KeyError, TypeError):
                pass
        return None, f"POST /api/v1/reports: {response.status} {response.text[:200]!r}"

    def after_filing(self, report_id: int, tally: Tally) -> None:
        pass


# --- the run ----------------------------------------------------------------------------------


def file_reports(filer, retrying: bool, stop_at: float, tally: Tally) -> None:
    """One client's loop: file reports until `stop_at`, each (if `retrying`) sent twice."""
    turn = 0
    while time.monotonic() < stop_at:
        request, summary = filer.new_request()
        submission = Submission(filer.kind, summary)
        answers: list[Response | Exception] = []
        if retrying and turn % 2:
            # A double click: the same request at the same moment on a second connection; either
            # may be the one that files.
            roles = ["double", "double"]
            double: list[Response | Exception] = []
            second = threading.Thread(target=send_into, args=(filer.client, request, double))
            second.start()
            send_into(filer.client, request, answers)
            second.join()
            answers += double
        elif retrying:  # a network retry: the same request again once the answer came
            roles = ["first", "retry"]
            send_into(filer.client, request, answers)
            send_into(filer.client, request, answers)
        else:
            roles = ["first"]
            send_into(filer.client, request, answers)
        turn += 1
        for role, answer in zip(roles, answers, strict=True):
            if isinstance(answer, Exception):
                tally.failed(f"{request.method} {request.path}: {answer!r}")
                continue
            tally.answered(f"{filer.kind}_post", answer)
            report_id, problem = filer.report_id(answer, role)
            if report_id is None:
                tally.failed(f"{problem} ({role})")
            else:
                submission.ids.append(report_id)
        with tally.lock:
            tally.submissions.append(submission)
            tally.retries += len(answers) - 1
            if len(set(submission.ids)) > 1:
                tally.retry_mismatches.append(
                    f"{filer.kind} retry answered reports {sorted(set(submission.ids))}"
                )
        if submission.ids:
            filer.after_filing(submission.ids[0], tally)


def send_into(client: Client, request: Request, answers: list) -> None:
    try:
        answers.append(client.send(request))
    except (OSError, http.client.HTTPException) as exc:
        answers.append(exc)


def latency_summary(values: list[float], seconds: float) -> dict:
    return {
        "requests": len(values),
        "rps": round(len(values) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
    }


def stored_reports(engine: sa.Engine, after_id: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [
            (row.id, row.summary)
            for row in conn.execute(
                sa.text("SELECT id, summary FROM reports WHERE id > :after ORDER BY id"),
                {"after": after_id},
            )
        ]


def check_stored(tally: Tally, before: int, after: int, new_rows: list[tuple[int, str]]) -> dict:
    """Every acknowledged report stored exactly once, and nothing stored that was not acknowledged."""
    problems: list[str] = []
    acknowledged: dict[int, str] = {}
    for submission in tally.submissions:
        if not submission.ids:
            continue
        report_id = submission.ids[0]
        if report_id in acknowledged:
            problems.append(f"report {report_id} acknowledged for two different submissions")
        acknowledged[report_id] = submission.summary
    stored = dict(new_rows)
    missing = sorted(set(acknowledged) - set(stored))
    unacknowledged = sorted(set(stored) - set(acknowledged))
    wrong = sorted(i for i in acknowledged if i in stored and stored[i] != acknowledged[i])
    summaries = [summary for _, summary in new_rows]
    twice = len(summaries) - len(set(summaries))
    if missing:
        problems.append(f"{len(missing)} acknowledged reports not stored, e.g. {missing[:5]}")
    if unacknowledged:
        problems.append(f"{len(unacknowledged)} stored reports never acknowledged")
    if wrong:
        problems.append(f"{len(wrong)} acknowledged ids hold another report, e.g. {wrong[:5]}")
    if twice:
        problems.append(f"{twice} reports stored twice (same summary)")
    if after - before != len(acknowledged):
        problems.append(
            f"the reports table grew by {after - before}, acknowledged {len(acknowledged)}"
        )
    problems += tally.retry_mismatches[:5]
    if len(tally.retry_mismatches) > 5:
        problems.append(f"... {len(tally.retry_mismatches)} retry mismatches in all")
    return {
        "acknowledged": len(acknowledged),
        "table_growth": after - before,
        "stored_once": len(acknowledged) - len(missing) - len(wrong),
        "retry_mismatches": len(tally.retry_mismatches),
        "problems": problems,
    }


def run(engine: sa.Engine, url: str, seeded, port: int) -> dict:
    """Run the concurrency phase against the gunicorn on `port`; the figures as a dict (its
    "passed" is False on any error or any report not stored exactly once)."""
    form_count = CLIENTS // 2
    api_count = CLIENTS - form_count
    say(
        f"== concurrency: {CLIENTS} clients ({form_count} form, {api_count} API) for {SECONDS:g} s\n"
    )
    people = plain_people(engine, CLIENTS)
    form_people, api_people = people[:form_count], people[form_count:]
    tokens = issue_tokens(url, [user_id for user_id, _ in api_people])
    slugs = seeded.agent_slugs
    say(f"   signing in {form_count} reporters\n")
    filers = [
        FormReporter(
            Client("127.0.0.1", port).sign_in(email, seeded.password), slugs[n % len(slugs)]
        )
        for n, (_, email) in enumerate(form_people)
    ]
    filers += [
        ApiIntegration(Client("127.0.0.1", port), token, slugs[(n + 7) % len(slugs)])
        for n, token in enumerate(tokens)
    ]
    with engine.connect() as conn:
        before = conn.scalar(sa.text("SELECT count(*) FROM reports"))
        max_id = conn.scalar(sa.text("SELECT coalesce(max(id), 0) FROM reports"))

    tally = Tally()
    started = time.monotonic()
    stop_at = started + SECONDS
    threads = [
        threading.Thread(
            target=file_reports, args=(filer, n % RETRYING_EVERY == 0, stop_at, tally), daemon=True
        )
        for n, filer in enumerate(filers)
    ]
    for thread in threads:
        thread.start()
    next_progress = started + PROGRESS_SECONDS
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.2)
        if time.monotonic() >= next_progress:
            next_progress += PROGRESS_SECONDS
            elapsed = time.monotonic() - started
            say(
                f"   {elapsed:5.1f} s  {tally.requests():>7,} requests  {len(tally.errors)} errors\n"
            )
    seconds = time.monotonic() - started

    with engine.connect() as conn:
        after = conn.scalar(sa.text("SELECT count(*) FROM reports"))
    stored = check_stored(tally, before, after, stored_reports(engine, max_id))
    every = [value for values in tally.latencies.values() for value in values]
    posts = tally.latencies.get("form_post", []) + tally.latencies.get("api_post", [])
    result = {
        "clients": CLIENTS,
        "form_clients": form_count,
        "api_clients": api_count,
        "retrying_clients": sum(1 for n in range(CLIENTS) if n % RETRYING_EVERY == 0),
        "seconds": round(seconds, 1),
        "all": latency_summary(every, seconds),
        "filing": latency_summary(posts, seconds),
        "by_kind": {
            kind: {
                **latency_summary(values, seconds),
                "statuses": {str(k): v for k, v in sorted(tally.statuses[kind].items())},
            }
            for kind, values in sorted(tally.latencies.items())
        },
        "submissions": len(tally.submissions),
        "retries": tally.retries,
        "error_count": len(tally.errors),
        "errors": tally.errors[:10],
        **stored,
    }
    result["passed"] = not tally.errors and not stored["problems"]
    say(
        f"   {result['all']['requests']:,} requests ({result['all']['rps']} req/s), "
        f"{result['acknowledged']:,} reports acknowledged, table grew by "
        f"{result['table_growth']:,}, {result['retries']:,} retries, "
        f"errors {result['error_count']}; filing p50 {result['filing']['p50_ms']} ms "
        f"p95 {result['filing']['p95_ms']} ms p99 {result['filing']['p99_ms']} ms\n"
    )
    for problem in result["errors"] + stored["problems"]:
        say(f"   !! {problem}\n")
    return result


def table(result: dict) -> str:
    """The concurrency figures as Markdown."""
    lines = [
        f"Concurrency: {result['clients']} clients ({result['form_clients']} report form, "
        f"{result['api_clients']} API; {result['retrying_clients']} send each report twice) "
        f"for {result['seconds']} s.",
        "",
        "| requests | req/s | p50 ms | p95 ms | p99 ms | errors | reports acknowledged | "
        "table grew by | retries | retries that made a second report |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    every = result["all"]
    lines.append(
        f"| {every['requests']} | {every['rps']} | {every['p50_ms']} | {every['p95_ms']} | "
        f"{every['p99_ms']} | {result['error_count']} | {result['acknowledged']} | "
        f"{result['table_growth']} | {result['retries']} | {result['retry_mismatches']} |"
    )
    lines += ["", "| request | count | p50 ms | p95 ms | p99 ms | statuses |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | --- |")
    for kind, figures in result["by_kind"].items():
        statuses = ", ".join(f"{k}: {v}" for k, v in figures["statuses"].items())
        lines.append(
            f"| {kind} | {figures['requests']} | {figures['p50_ms']} | {figures['p95_ms']} | "
            f"{figures['p99_ms']} | {statuses} |"
        )
    problems = result["problems"]
    if result["error_count"]:
        problems = [f"{result['error_count']} requests failed", *problems]
    verdict = "passed" if result["passed"] else "**FAILED**: " + "; ".join(problems)
    lines += ["", f"Every acknowledged report stored exactly once, zero errors: {verdict}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench.__main__ import (
        RESULTS,
        Server,
        bench_engine,
        database_url,
        password_hash,
        set_passwords,
    )
    from bench.seed import seed

    # Stopped from outside: still stop gunicorn (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    url = database_url("concurrency.db")
    engine = bench_engine(url)
    say(f"== concurrency benchmark at BENCH_SCALE={scale} on {engine.dialect.name}\n== seeding\n")
    seeded = seed(engine, scale, say, password_hash=password_hash("x"))
    set_passwords(engine, seeded.password)
    server = Server(url, RESULTS / f"gunicorn-{stamp}-concurrency.log").start()
    try:
        result = run(engine, url, seeded, server.port)
        result["workers"] = len(server.workers())
    finally:
        server.stop()
    result = {"when": stamp, "database": engine.dialect.name, "scale": scale, **result}
    markdown = table(result)
    name = f"{stamp}-{engine.dialect.name}-scale{scale:g}-concurrency"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    (RESULTS / f"{name}.md").write_text(markdown)
    say(f"\n{markdown}\nresults: {RESULTS / name}.json and .md\n")
    engine.dispose()
    if not result["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

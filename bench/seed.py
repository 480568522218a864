"""A production-sized data set, written fast: plain rows in batches, COPY on PostgreSQL.

The rows go straight into the tables (no services, no ORM objects): 200,000 reports through
`file_report` would take an hour, and the pages under test only read what is stored. Every id is
chosen here, so foreign keys need no round trip; PostgreSQL's sequences are moved past them at the end.

Sizes at BENCH_SCALE=1 (the issue's numbers): 20 agents, 10,000 users in 100 teams, 200,000 reports
with their events, 1,000,000 survey answers (one SurveyResponse row = one person's answer about one
agent in one round), 300,000 training attempts.
"""

import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice

import sqlalchemy as sa

from portal.core.db import db
from portal.core.security import token_digest
from portal.feedback.services import reports_written_in_bulk
from portal.surveys.services import rebuild_survey_rollups

BATCH = 20_000
PASSWORD = "bench-password-1"  # noqa: S105 - the benchmark's throw-away accounts
AGENTS = 20
BASE = {
    "teams": 100,
    "users": 10_000,
    "reports": 200_000,
    "answers": 1_000_000,
    "attempts": 300_000,
}
ROUNDS = 12  # monthly survey rounds, the last twelve months
QUESTIONS = 5  # per knowledge check

# The bench's named accounts (ids 1..6); everybody else is a plain reporter/trainee.
ADMIN, TRIAGE, MANAGER, OWNER, REPORTER, TRAINEE = 1, 2, 3, 4, 5, 6
NAMED = {
    ADMIN: ("admin", ["admin"]),
    TRIAGE: ("triage", ["triage"]),
    MANAGER: ("manager", ["manager"]),
    OWNER: ("owner", ["owner"]),
    REPORTER: ("reporter", []),
    TRAINEE: ("trainee", []),
}
OPEN = ["new", "triaged", "routed", "in_progress", "reopened"]
# status -> share of reports (by weight); most of a year's reports are long finished
STATUS_WEIGHTS = {
    "closed": 45,
    "acted_on": 20,
    "declined": 8,
    "duplicate": 7,
    "new": 6,
    "triaged": 4,
    "routed": 4,
    "in_progress": 5,
    "reopened": 1,
}
CATEGORIES = ["wrong_output", "unsafe", "unavailable", "integration", "usability", "concern"]
SEVERITIES = ["low", "medium", "high", "critical"]
SLA_HOURS = {"low": 240, "medium": 72, "high": 24, "critical": 4}
WORDS = [
    "refund",
    "invoice",
    "claim",
    "total",
    "address",
    "policy",
    "customer",
    "order",
    "summary",
    "date",
    "amount",
    "currency",
    "tone",
    "escalation",
    "answer",
    "missing",
    "wrong",
    "late",
    "duplicate",
    "timeout",
    "format",
    "language",
    "number",
]


@dataclass
class Sizes:
    scale: float
    teams: int = 0
    users: int = 0
    reports: int = 0
    answers: int = 0
    attempts: int = 0
    counts: dict = field(default_factory=dict)

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        sizes = cls(scale)
        for name, full in BASE.items():
            setattr(sizes, name, max(int(full * scale), 10))
        sizes.users = max(sizes.users, len(NAMED) + 20)
        return sizes


@dataclass
class Seeded:
    """What the benchmark needs to know about the data it seeded."""

    sizes: Sizes
    password: str
    emails: dict[str, str]  # role name -> email
    api_token: str  # the manager's token (files reports, reads metrics)
    agent_slugs: list[str]
    module_id: int  # the trainee's knowledge check
    version_id: int
    question_choices: dict[int, list[int]]  # question id -> choice ids
    report_ids: list[int]  # some reports the reporter filed (detail page)
    answers_now: int = 0
    rounds: list[dict] = field(default_factory=list)


class Writer:
    """Batched inserts with progress: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, engine: sa.Engine, say: Callable[[str], None]):
        self.engine = engine
        self.say = say
        self.is_pg = engine.dialect.name == "postgresql"
        self.written: dict[str, int] = {}

    def _defaults(self, table: sa.Table) -> dict:
        values = {}
        for column in table.columns:
            default = column.default
            if default is None or getattr(default, "is_sequence", False):
                continue
            if default.is_scalar:
                value = default.arg
            elif default.is_callable:
                value = default.arg(None)
            else:
                continue
            values[column.name] = getattr(value, "value", value)  # enums as their stored id
        return values

    def insert(self, table_name: str, rows: Iterable[dict], total: int | None = None) -> int:
        table = db.metadata.tables[table_name]
        defaults = self._defaults(table)
        started = time.perf_counter()
        count = 0
        rows = iter(rows)
        while batch := list(islice(rows, BATCH)):
            batch = [{**defaults, **row} for row in batch]
            with self.engine.begin() as conn:
                if self.is_pg:
                    self._copy(conn, table, batch)
                else:
                    conn.execute(table.insert(), batch)
            count += len(batch)
            rate = count / max(time.perf_counter() - started, 1e-6)
            of = f"/{total:,}" if total else ""
            self.say(f"\r  {table_name:<24} {count:>10,}{of} rows  {rate:>9,.0f} rows/s")
        self.say(
            f"\r  {table_name:<24} {count:>10,} rows  {time.perf_counter() - started:6.1f} s\n"
        )
        self.written[table_name] = self.written.get(table_name, 0) + count
        return count

    def _copy(self, conn: sa.Connection, table: sa.Table, batch: list[dict]) -> None:
        from psycopg.types.json import Jsonb

        columns = list(batch[0])
        is_json = [isinstance(table.c[name].type, sa.JSON) for name in columns]
        names = ", ".join(f'"{name}"' for name in columns)
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in batch:
                values = [row[name] for name in columns]
                copy.write_row(
                    [
                        Jsonb(v) if j and v is not None else v
                        for v, j in zip(values, is_json, strict=True)
                    ]
                )

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids written here; refresh planner statistics."""
        with self.engine.begin() as conn:
            if self.is_pg:
                for table in db.metadata.sorted_tables:
                    if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                        name = table.name  # from our own metadata, never from input
                        after_max = f'COALESCE((SELECT max(id) FROM "{name}"), 0) + 1'  # noqa: S608
                        conn.execute(
                            sa.text(
                                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                f"{after_max}, false)"
                            )
                        )
        analyze(self.engine)


def analyze(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # VACUUM as autovacuum would have by now: it marks the bulk-loaded pages all-visible,
            # which index-only scans need (without it every index entry is checked in the table).
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
        else:
            # Bulk loading leaves the whole data set in the write-ahead log, which every read then
            # has to consult: fold it into the database file first, as a running portal would have.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute(sa.text("ANALYZE"))
            conn.commit()


def _summary(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()


def seed(
    engine: sa.Engine,
    scale: float,
    say: Callable[[str], None],
    *,
    answers: int | None = None,
    password_hash: str,
) -> Seeded:
    """Fill an empty, migrated database. `answers` (survey responses) defaults to the scaled size;
    the rest can be added later with `add_answers` (the dashboards are measured at both sizes)."""
    rng = random.Random(6)  # the same data set on every run
    sizes = Sizes.at(scale)
    writer = Writer(engine, say)
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=365)

    writer.insert(
        "teams",
        (
            {"id": n, "name": f"Team {n:03d}", "created_at": year_ago}
            for n in range(1, sizes.teams + 1)
        ),
    )
    emails = {NAMED[n][0]: f"bench-{NAMED[n][0]}@example.com" for n in NAMED}

    def users() -> Iterator[dict]:
        for n in range(1, sizes.users + 1):
            email = emails[NAMED[n][0]] if n in NAMED else f"person{n}@example.com"
            yield {
                "id": n,
                "email": email,
                "name": f"Person {n}" if n not in NAMED else f"Bench {NAMED[n][0].title()}",
                "password_hash": password_hash,
                "team_id": 1 + n % sizes.teams,
                "is_active": True,
                "created_at": year_ago,
            }

    writer.insert("users", users(), sizes.users)
    roles = [{"user_id": n, "role": r} for n, (_, rs) in NAMED.items() for r in rs]
    # A realistic sprinkling of staff roles among everybody else.
    roles += [{"user_id": n, "role": "owner"} for n in range(20, sizes.users, 500)]
    roles += [{"user_id": n, "role": "triage"} for n in range(21, sizes.users, 1000)]
    roles += [{"user_id": n, "role": "manager"} for n in range(22, sizes.users, 200)]
    writer.insert("user_roles", roles)

    token = "aap_bench" + uuid.uuid4().hex
    writer.insert(
        "api_tokens",
        [
            {
                "id": 1,
                "user_id": MANAGER,
                "name": "bench",
                "token_digest": token_digest(token),
                "prefix": token[:10],
                "created_at": now,
            }
        ],
    )

    slugs = [f"bench-agent-{n:02d}" for n in range(1, AGENTS + 1)]
    writer.insert(
        "agents",
        (
            {
                "id": n,
                "slug": slugs[n - 1],
                "name": f"Bench Agent {n:02d}",
                "description": "An agent in the benchmark's data set.",
                "version": "2.1.0",
                "lifecycle": "production" if n % 5 else "pilot",
                "technical_owner_id": OWNER,
                "business_owner_id": 20 if sizes.users > 20 else None,
                "governance_owner_id": MANAGER,
                "quality_min_pct": Decimal("90"),
                "safety_max_per_1000": Decimal("0.5"),
                "cost_max_per_unit": Decimal("0.40"),
                "satisfaction_min": Decimal("3.8"),
                "created_at": year_ago,
                "updated_at": year_ago,
            }
            for n in range(1, AGENTS + 1)
        ),
    )
    writer.insert(
        "routing_rules",
        (
            {
                "id": n,
                "agent_id": 1 + (n - 1) // 6,
                "category": CATEGORIES[(n - 1) % 6],
                "owner_id": OWNER,
            }
            for n in range(1, AGENTS * 6 + 1)
        ),
    )

    # Reports and their timelines.
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    mine: list[int] = []
    events: list[dict] = []
    event_id = 0

    def reports() -> Iterator[dict]:
        nonlocal event_id
        for n in range(1, sizes.reports + 1):
            filed = year_ago + timedelta(seconds=int(365 * 86400 * n / sizes.reports))
            status = rng.choices(statuses, weights)[0]
            if filed > now - timedelta(days=14) and rng.random() < 0.6:
                status = rng.choice(OPEN)  # recent reports are mostly still open
            severity = rng.choice(SEVERITIES)
            reporter = REPORTER if n % 50 == 0 else rng.randint(7, sizes.users)
            agent = 1 + n % AGENTS
            if n <= len(statuses):
                # One report in every status, the reporter's, high, about agent 3: however small
                # the data set, every page has each kind of row to show.
                status, severity, reporter, agent = statuses[n - 1], "high", REPORTER, 3
            if reporter == REPORTER:
                mine.append(n)
            due = filed + timedelta(hours=SLA_HOURS[severity])
            routed = status not in ("new", "triaged", "duplicate")
            acted = status in ("acted_on", "closed", "declined")
            acted_at = filed + timedelta(hours=rng.randint(1, 120)) if acted else None
            yield {
                "id": n,
                "agent_id": agent,
                "agent_version": "2.1.0",
                "reporter_id": reporter,
                "is_confidential": n % 20 == 0,
                "category": CATEGORIES[n % len(CATEGORIES)],
                "severity": severity,
                "summary": _summary(rng),
                "details": "What happened, in the reporter's words.",
                "expected": "What they expected instead.",
                "status": status,
                "assignee_id": OWNER if routed else None,
                "sla_started_at": filed,
                "sla_due_at": due,
                "sla_escalation_due_at": due + timedelta(hours=24),
                "duplicate_of_id": max(1, n - 7) if status == "duplicate" and n > 1 else None,
                "action_kind": "config_change" if acted else None,
                "action_note": "We changed the prompt." if acted else "",
                "acted_on_at": acted_at,
                "acted_on_by_id": OWNER if acted else None,
                "reporter_notified_at": acted_at,
                "is_fixed": True if status == "closed" else None,
                "confirmed_at": acted_at + timedelta(hours=5) if status == "closed" else None,
                "closed_at": acted_at + timedelta(hours=5) if status == "closed" else None,
                "created_at": filed,
                "updated_at": acted_at or filed,
                "version": 1,
            }
            steps = [("filed", None, "new", reporter)]
            if status != "new":
                steps.append(("triaged", "new", "triaged", TRIAGE))
            if status == "duplicate":
                steps.append(("marked_duplicate", "triaged", "duplicate", TRIAGE))
            if routed:
                steps.append(("routed", "triaged", "routed", TRIAGE))
            if status in ("in_progress", "acted_on", "closed", "reopened"):
                steps.append(("started", "routed", "in_progress", OWNER))
            if status in ("acted_on", "closed", "reopened"):
                steps.append(("acted_on", "in_progress", "acted_on", OWNER))
            if status == "declined":
                steps.append(("declined", "routed", "declined", OWNER))
            if status == "closed":
                steps.append(("confirmed_fixed", "acted_on", "closed", reporter))
            if status == "reopened":
                steps.append(("not_fixed", "acted_on", "reopened", reporter))
            for i, (kind, before, after, actor) in enumerate(steps):
                event_id += 1
                events.append(
                    {
                        "id": event_id,
                        "report_id": n,
                        "actor_id": actor,
                        "kind": kind,
                        "from_status": before,
                        "to_status": after,
                        "action_kind": "config_change" if kind == "acted_on" else None,
                        "note": "",
                        "is_internal": False,
                        "created_at": filed + timedelta(hours=i),
                    }
                )

    writer.insert("reports", reports(), sizes.reports)
    roll_up_reports(writer)
    writer.insert("report_events", events, len(events))
    events.clear()  # a million dicts: free them before the next tables
    writer.insert(
        "report_subscriptions",
        (
            {"report_id": n, "user_id": TRIAGE, "created_at": now}
            for n in range(1, sizes.reports + 1, 97)
        ),
    )
    writer.insert(
        "notifications",
        (
            {
                "id": n,
                "user_id": REPORTER if n % 10 == 0 else rng.randint(7, sizes.users),
                "kind": "report_acted_on",
                "title": "Your report was acted on",
                "body": "See what was done.",
                "link": "/reports/mine",
                "created_at": year_ago + timedelta(minutes=n),
                "read_at": None if n % 3 else now,
            }
            for n in range(1, sizes.reports // 4 + 1)
        ),
    )

    # Training: one published module per agent, a knowledge check of QUESTIONS questions.
    writer.insert(
        "training_modules",
        (
            {
                "id": n,
                "agent_id": n,
                "is_published": True,
                "live_version_number": 1,
                "certification_version_number": 1,
                "created_at": year_ago,
                "created_by_id": OWNER,
            }
            for n in range(1, AGENTS + 1)
        ),
    )
    writer.insert(
        "module_versions",
        (
            {
                "id": n,
                "module_id": n,
                "number": 1,
                "title": f"Working with Bench Agent {n:02d}",
                "summary": "How to work beside this agent.",
                "estimated_minutes": 15,
                "pass_mark_pct": 80,
                "attempt_limit": None,
                "agent_version": "2.1.0",
                "created_at": year_ago,
                "published_at": year_ago,
                "published_by_id": OWNER,
            }
            for n in range(1, AGENTS + 1)
        ),
    )
    section_kinds = ["does_well", "does_poorly", "using_outputs", "escalation", "known_limitations"]
    writer.insert(
        "module_sections",
        (
            {
                "id": (v - 1) * 5 + p,
                "version_id": v,
                "position": p,
                "kind": section_kinds[p - 1],
                "title": f"Section {p}",
                "body_markdown": "Some **guidance** for people who work beside the agent.\n\n- one\n- two",
            }
            for v in range(1, AGENTS + 1)
            for p in range(1, 6)
        ),
    )
    writer.insert(
        "module_questions",
        (
            {
                "id": (v - 1) * QUESTIONS + p,
                "version_id": v,
                "position": p,
                "kind": "single",
                "prompt": f"Question {p}?",
                "explanation": "Because.",
            }
            for v in range(1, AGENTS + 1)
            for p in range(1, QUESTIONS + 1)
        ),
    )
    choices: dict[int, list[int]] = {}

    def question_choices() -> Iterator[dict]:
        for q in range(1, AGENTS * QUESTIONS + 1):
            for p in range(1, 5):
                choice_id = (q - 1) * 4 + p
                choices.setdefault(q, []).append(choice_id)
                yield {
                    "id": choice_id,
                    "question_id": q,
                    "position": p,
                    "text": f"Answer {p}",
                    "is_correct": p == 1,
                }

    writer.insert("question_choices", question_choices())

    # Assignments: everybody has five modules; attempts spread over (user, module) pairs.
    per_user = 5
    assignments = []
    for user in range(1, sizes.users + 1):
        modules = (
            range(1, AGENTS + 1) if user == TRAINEE else rng.sample(range(1, AGENTS + 1), per_user)
        )
        for module in modules:
            assignments.append((user, module))
    writer.insert(
        "training_assignments",
        (
            {
                "id": i,
                "user_id": user,
                "module_id": module,
                "reason": "assigned",
                "required_version_number": 1,
                "due_on": (year_ago + timedelta(days=30 + i % 330)).date(),
                "created_at": year_ago,
                "assigned_by_id": ADMIN,
                "completed_at": year_ago + timedelta(days=20) if i % 3 else None,
            }
            for i, (user, module) in enumerate(assignments, start=1)
        ),
        len(assignments),
    )

    def attempts() -> Iterator[dict]:
        for n in range(1, sizes.attempts + 1):
            user, module = assignments[n % len(assignments)]
            # The trainee has not passed module 1 yet: the benchmark takes its knowledge check.
            passed = n % 3 != 0 and (user, module) != (TRAINEE, 1)
            yield {
                "id": n,
                "user_id": user,
                "module_id": module,
                "version_id": module,
                "attempt_number": 1 + n // len(assignments),
                "score_pct": Decimal(90 if passed else 40),
                "passed": passed,
                "submitted_at": year_ago + timedelta(seconds=int(365 * 86400 * n / sizes.attempts)),
            }

    writer.insert("training_attempts", attempts(), sizes.attempts)

    # Surveys: one campaign for everybody about every agent, a round a month.
    writer.insert(
        "survey_campaigns",
        [
            {
                "id": 1,
                "name": "Monthly pulse",
                "description": "How are the agents working for you?",
                "cadence": "monthly",
                "opens_on": (now - timedelta(days=30 * ROUNDS)).date().replace(day=1),
                "anonymity_threshold": 5,
                "is_for_everyone": True,
                "created_by_id": ADMIN,
                "created_at": year_ago,
                "launched_at": year_ago,
                "opened_at": year_ago,
            }
        ],
    )
    writer.insert(
        "survey_campaign_agents", [{"campaign_id": 1, "agent_id": n} for n in range(1, AGENTS + 1)]
    )
    rounds = []
    first = (now.date().replace(day=1) - timedelta(days=30 * (ROUNDS - 1))).replace(day=1)
    for number in range(1, ROUNDS + 1):
        start = date(
            first.year + (first.month - 1 + number - 1) // 12,
            (first.month - 1 + number - 1) % 12 + 1,
            1,
        )
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        closes = datetime.combine(following, datetime.min.time(), tzinfo=UTC)
        rounds.append(
            {
                "id": number,
                "campaign_id": 1,
                "number": number,
                "period_start": start,
                "period_end": following - timedelta(days=1),
                "opens_at": datetime.combine(start, datetime.min.time(), tzinfo=UTC),
                "closes_at": closes,
                "opened_at": datetime.combine(start, datetime.min.time(), tzinfo=UTC),
                "closed_at": closes if closes <= now else None,
                "audience_size": sizes.users,
            }
        )
    writer.insert("survey_rounds", rounds)
    writer.insert(
        "survey_round_audience",
        (
            {
                "id": (r["id"] - 1) * sizes.teams + t,
                "round_id": r["id"],
                "team_id": t,
                "size": sizes.users // sizes.teams,
            }
            for r in rounds
            for t in range(1, sizes.teams + 1)
        ),
    )
    # Who answered each round (identity kept apart from the answers): enough people for the answers.
    respondents = max(1, min(sizes.users - 10, sizes.answers // (ROUNDS * AGENTS) + 1))
    writer.insert(
        "survey_participations",
        (
            {"round_id": r["id"], "user_id": 7 + u, "team_id": 1 + (7 + u) % sizes.teams}
            for r in rounds
            for u in range(respondents)
        ),
    )
    writer.insert(
        "agent_period_figures",
        (
            {
                "id": (r["id"] - 1) * AGENTS + a,
                "agent_id": a,
                "period_start": r["period_start"],
                "period_end": r["period_end"],
                "runs": 10_000 + 137 * a,
                "quality_pct": Decimal("91.50"),
                "cost_per_unit": Decimal("0.3100"),
                "source": "api",
                "created_at": now,
                "updated_at": now,
            }
            for r in rounds
            for a in range(1, AGENTS + 1)
        ),
    )
    seeded = Seeded(
        sizes=sizes,
        password=PASSWORD,
        emails=emails,
        api_token=token,
        agent_slugs=slugs,
        module_id=1,
        version_id=1,
        question_choices={q: choices[q] for q in range(1, QUESTIONS + 1)},
        report_ids=mine[-50:],
        rounds=rounds,
    )
    add_answers(writer, seeded, sizes.answers if answers is None else answers, rng)
    writer.finish()
    sizes.counts = dict(writer.written)
    return seeded


def add_answers(writer: Writer, seeded: Seeded, count: int, rng=None) -> None:
    """Add `count` survey answers spread over rounds, agents and teams (1 to 5, 0 to 10)."""
    rng = rng or random.Random(seeded.answers_now)
    teams = seeded.sizes.teams
    rounds = seeded.rounds
    start = seeded.answers_now

    def rows() -> Iterator[dict]:
        for n in range(start, start + count):
            r = rounds[n % len(rounds)]
            yield {
                "id": uuid.UUID(int=rng.getrandbits(128)),
                "round_id": r["id"],
                "agent_id": 1 + (n // len(rounds)) % AGENTS,
                "team_id": 1 + (n * 7) % teams,
                "period_start": r["period_start"],
                "satisfaction": 1 + rng.randrange(5),
                "trust": 1 + rng.randrange(5),
                "nps": rng.randrange(11),
                "change_text": "",
            }

    writer.insert("survey_responses", rows(), count)
    seeded.answers_now += count
    roll_up_surveys(writer)


def roll_up_reports(writer: Writer) -> None:
    """Rewrite the monthly report tallies, as filing each report would have (bulk inserts bypass
    the session event that keeps them current), and give the reports' data a generation token
    (what the triage queue's cache is validated against)."""
    started = time.perf_counter()
    with writer.engine.begin() as conn:
        count = reports_written_in_bulk(conn)
    writer.say(f"  {'report_tallies':<24} {count:>10,} rows  (rolled up)\n")
    writer.say(f"  {'report tallies':<24} {time.perf_counter() - started:>17.1f} s\n")


def roll_up_surveys(writer: Writer) -> None:
    """Rewrite the closed rounds' survey rollups, as closing them would have (the rows above went
    straight into closed rounds). `seed` ends with `add_answers`, so it rolls up there too."""
    started = time.perf_counter()
    with writer.engine.begin() as conn:
        counts = rebuild_survey_rollups(conn)
    rows = ", ".join(f"{table_name} {count:,} rows" for table_name, count in counts.items())
    writer.say(f"  {'survey rollups':<24} {rows}  {time.perf_counter() - started:.1f} s\n")


def dump(seeded: Seeded) -> str:
    skip = {"sizes", "rounds"}
    return json.dumps({k: v for k, v in vars(seeded).items() if k not in skip}, default=str)

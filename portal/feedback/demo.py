"""Demo reports: about six months of them across the three demo agents, with timelines.

Every category, severity and status appears: reports triaged, routed, worked, acted on, confirmed
fixed, answered "not fixed" and reopened, declined, closed as duplicates, some confidential, some
followed with "me too", some overdue. Rosa Reporter (reporter@example.com) sees every state on
"My reports"; Tomas Triage has a live queue; Theo Tech, Olivia Owner and Priya have work assigned.
In the month of Claims Triage's bad release (portal.agents.demo.bad_release_month) claims officers
file a cluster of wrong-output and integration reports about scanned policy numbers; most are acted
on within the SLA with a note for the reporter, and most are confirmed fixed.

The history is written directly with past timestamps (the services stamp the present moment);
its rules are the services' rules: the same statuses, events and SLA arithmetic.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.demo import bad_release_month, claims_triage_version_at
from portal.agents.models import Agent, ReportCategory
from portal.agents.services import suggest_owner
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback import services
from portal.feedback.models import (
    ActionKind,
    EventKind,
    Report,
    ReportEvent,
    ReportStatus,
    ReportSubscription,
    Severity,
)
from portal.notifications.services import notify

C = ReportCategory
SEED = 20_240_601
DAYS = 182

# (category, summary, what happened, what was expected)
PROBLEMS: dict[str, list[tuple[ReportCategory, str, str, str]]] = {
    "support-assistant": [
        (
            C.WRONG_OUTPUT,
            "Draft quotes last year's price for the Basic plan",
            "The draft told a customer the Basic plan costs 9.99 a month.",
            "The current price, 12.50 a month, from the 2024 price list.",
        ),
        (
            C.WRONG_OUTPUT,
            "Refund window stated as 60 days instead of 30",
            "Customer asked about returns; the draft promised 60 days.",
            "Our policy is 30 days from delivery.",
        ),
        (
            C.WRONG_OUTPUT,
            "Draft answers in English to a Spanish email",
            "The customer wrote in Spanish and got an English draft.",
            "A reply in the customer's language.",
        ),
        (
            C.UNSAFE,
            "Draft includes another customer's order number",
            "The suggested reply mentioned order 88121, which belongs to someone else.",
            "Only the customer's own orders.",
        ),
        (
            C.UNSAFE,
            "Draft promises compensation we do not offer",
            "It offered a 20% voucher for a late delivery.",
            "No compensation unless a team lead approves it.",
        ),
        (
            C.UNAVAILABLE,
            "Drafts take over a minute to appear after 9am",
            "Between 9:00 and 9:30 every draft took 60-90 seconds.",
            "A draft within a few seconds.",
        ),
        (
            C.UNAVAILABLE,
            "No draft at all for emails with attachments",
            "Emails with a PDF attached show 'draft unavailable'.",
            "A draft that ignores or mentions the attachment.",
        ),
        (
            C.INTEGRATION,
            "Order status in drafts is a day behind",
            "The draft said 'not shipped' for an order shipped yesterday.",
            "The live status from the order system.",
        ),
        (
            C.USABILITY,
            "Cannot see which article a draft used",
            "I have to search the knowledge base to check the source.",
            "A link to the article next to the draft.",
        ),
        (
            C.USABILITY,
            "Draft replaces my edits when the customer writes again",
            "I edited a draft, the customer replied, and my edits were lost.",
            "My edits kept, with a new suggestion beside them.",
        ),
        (
            C.CONCERN,
            "Tone is too casual for complaints",
            "Drafts to angry customers start with 'Hey there!'.",
            "A calm, formal tone for complaints.",
        ),
        (
            C.CONCERN,
            "Customers may think they are talking to a person",
            "Nothing tells the customer a draft was machine-written.",
            "Guidance on when to say an assistant helped.",
        ),
    ],
    "claims-triage": [
        (
            C.WRONG_OUTPUT,
            "Policy number read with a missing digit",
            "The extracted policy number had 9 digits instead of 10.",
            "All 10 digits, as on the claim form.",
        ),
        (
            C.WRONG_OUTPUT,
            "Water damage claims marked low priority",
            "Three burst-pipe claims this week came out as low priority.",
            "High priority: the damage grows every day.",
        ),
        (
            C.WRONG_OUTPUT,
            "Suggested handler is on leave",
            "It suggested Martin for five claims; Martin is away until Monday.",
            "Only handlers who are available.",
        ),
        (
            C.UNSAFE,
            "Medical details copied into the summary field",
            "The claim summary included the claimant's diagnosis.",
            "Medical details only in the restricted section.",
        ),
        (
            C.UNAVAILABLE,
            "Claims stuck in 'analysing' overnight",
            "About 40 claims filed after 22:00 were still analysing at 8:00.",
            "Suggestions ready by the morning.",
        ),
        (
            C.INTEGRATION,
            "Scanned handwritten forms not read at all",
            "Handwritten claim forms come through with every field empty.",
            "The fields filled in, or a clear 'could not read'.",
        ),
        (
            C.INTEGRATION,
            "Duplicate claims created after a timeout",
            "When the policy system timed out, the claim appeared twice.",
            "One claim, retried safely.",
        ),
        (
            C.USABILITY,
            "No reason shown for the suggested priority",
            "I cannot tell why a claim was marked urgent.",
            "A short reason next to the priority.",
        ),
        (
            C.CONCERN,
            "Claims from older customers seem deprioritised",
            "In my queue, claims from customers over 70 were often low priority.",
            "Priority based on the claim, never on age.",
        ),
    ],
    "invoice-matcher": [
        (
            C.WRONG_OUTPUT,
            "Currency rounding creates false mismatches",
            "Invoices in CHF are flagged as 0.01 off the purchase order.",
            "A match when the difference is rounding only.",
        ),
        (
            C.WRONG_OUTPUT,
            "Credit notes matched as invoices",
            "A credit note was matched to an open PO as if it were an invoice.",
            "Credit notes recognised and matched to the original invoice.",
        ),
        (
            C.WRONG_OUTPUT,
            "Partial deliveries flagged as overbilled",
            "Two invoices for one PO in two deliveries were flagged.",
            "Partial invoices allowed up to the PO total.",
        ),
        (
            C.UNAVAILABLE,
            "Month-end batch did not finish",
            "The matching batch stopped at about 60% on the last working day.",
            "The whole batch matched before the close.",
        ),
        (
            C.INTEGRATION,
            "Supplier VAT numbers not found in the ERP",
            "New suppliers' VAT numbers are reported as unknown.",
            "Suppliers found as soon as they are set up.",
        ),
        (
            C.USABILITY,
            "Mismatch list cannot be sorted by amount",
            "I have to export to a spreadsheet to see the largest ones first.",
            "Sorting by amount in the list.",
        ),
        (
            C.CONCERN,
            "Nobody reviews auto-approved matches",
            "Matches under 500 are approved without a person looking.",
            "A sample reviewed every week.",
        ),
    ],
}

# Claims Triage 0.9.0 (the story's bad release): what claims officers reported in the weeks after it.
RELEASE_PROBLEMS: list[tuple[ReportCategory, str, str, str]] = [
    (
        C.WRONG_OUTPUT,
        "Misreads policy numbers on scanned claims",
        "Since this week's update the policy number on scanned claim forms comes out wrong: "
        "an 8 read as a 3, or the last digit dropped.",
        "The policy number exactly as printed on the form.",
    ),
    (
        C.WRONG_OUTPUT,
        "Policy number swapped with the claim reference on scans",
        "On scanned forms it put the claim reference into the policy number field.",
        "Each number in its own field.",
    ),
    (
        C.WRONG_OUTPUT,
        "Wrong policyholder matched after a misread policy number",
        "The misread number belonged to another customer, so the claim was linked to them.",
        "No match at all rather than the wrong customer.",
    ),
    (
        C.INTEGRATION,
        "Policy lookup fails for claims that came in by post",
        "Scanned claims stop at 'policy not found' in the policy system.",
        "The policy found, as it was before the update.",
    ),
    (
        C.INTEGRATION,
        "Scanned claims reach the queue without policy details",
        "Claims from the mail-room scanner arrive with the policy section empty.",
        "The policy details filled in from the scan.",
    ),
]
RELEASE_VERSION = "0.9.0"
# Worded to hold whenever in the weeks after the release the owner acted (0.9.1 came later).
RELEASE_FIX_NOTES: dict[ActionKind, list[str]] = {
    ActionKind.AGENT_FIXED: [
        "0.9.0 changed how scanned pages are read, and policy numbers suffered. We switched scanned "
        "claims back to the previous reading step (0.9.1 makes that permanent), and the claims "
        "scanned since the update are being re-read. Thank you: your examples are now part of "
        "the release checks.",
        "Scanned policy numbers are read with the previous method again, and the agent now leaves "
        "the field empty when it is unsure instead of guessing.",
    ],
    ActionKind.DATA_FIX: [
        "The misread numbers made the policy lookup fail. Scanned claims are read with the "
        "previous method again, and we re-ran the lookup for every claim scanned since the update.",
        "We corrected the policy links on the claims affected (143 in all) and the claims "
        "officers concerned have been told.",
    ],
    ActionKind.TRAINING_UPDATED: [
        "Until every scanner template is covered, the training module shows how to check a "
        "scanned policy number in ten seconds.",
    ],
}
# How the release's reports ended: most acted on and confirmed fixed, a few reopened first.
RELEASE_TARGETS = ["closed"] * 14 + ["acted_on"] * 4 + ["reopened_closed"] * 3 + ["duplicate"] * 5

ACTION_NOTES: dict[ActionKind, list[str]] = {
    ActionKind.AGENT_FIXED: [
        "We fixed the step that caused this; the new version no longer does it. Thank you for "
        "the example, it made the problem easy to reproduce.",
        "The agent now checks this before answering. Your example is part of our test set.",
    ],
    ActionKind.CONFIG_CHANGE: [
        "We changed the agent's instructions so it uses the current source for this. "
        "It should be right from today.",
        "The prompt now tells the agent what to do in this case; we tested it on 50 past cases.",
    ],
    ActionKind.DATA_FIX: [
        "The data feed behind this was out of date. It now refreshes every night, and we "
        "corrected the stale entries.",
        "A mapping between two systems was wrong; we corrected it and re-ran the affected cases.",
    ],
    ActionKind.TRAINING_UPDATED: [
        "This is a limit of the agent for now, so the training module explains how to spot it "
        "and what to do instead.",
        "We added this case to the guidance for everyone who works with the agent.",
    ],
    ActionKind.KNOWN_LIMITATION: [
        "The agent cannot do this reliably yet. It is now a documented known limitation, and "
        "the screen shows a warning in this situation.",
    ],
    ActionKind.NO_CHANGE: [
        "We looked closely: the agent followed the current policy here. We have explained the "
        "policy in the knowledge base so it is clearer.",
    ],
}
K = ActionKind
# What owners usually do about each kind of problem.
LIKELY_ACTIONS: dict[ReportCategory, list[ActionKind]] = {
    C.WRONG_OUTPUT: [K.CONFIG_CHANGE, K.AGENT_FIXED, K.DATA_FIX, K.KNOWN_LIMITATION],
    C.UNSAFE: [K.CONFIG_CHANGE, K.AGENT_FIXED, K.TRAINING_UPDATED],
    C.UNAVAILABLE: [K.AGENT_FIXED, K.AGENT_FIXED, K.KNOWN_LIMITATION],
    C.INTEGRATION: [K.DATA_FIX, K.DATA_FIX, K.AGENT_FIXED],
    C.USABILITY: [K.AGENT_FIXED, K.TRAINING_UPDATED, K.NO_CHANGE],
    C.CONCERN: [K.TRAINING_UPDATED, K.NO_CHANGE, K.KNOWN_LIMITATION, K.CONFIG_CHANGE],
}
DECLINE_REASONS = [
    "This is how the policy works: the agent applied it correctly. The team lead can explain "
    "the exception process.",
    "We could not reproduce this with the run reference given, and it has not happened since. "
    "Please report it again with a new run reference if you see it.",
    "This belongs to the order system, not the agent; we passed it to that team.",
]
FIXED_COMMENTS = ["", "", "Checked this morning: correct now.", "Works, thank you!"]
NOT_FIXED_COMMENTS = [
    "Still happens for some customers.",
    "Better, but it did it again yesterday.",
    "Same problem on a different case this morning.",
]
INTERNAL_NOTES = [
    "Same root cause as the March feed incident, probably.",
    "Asked the vendor for logs.",
    "Can reproduce on staging.",
]


@dataclass
class Cast:
    people: dict[str, User]
    reporters: list[User]
    triage: User
    admin: User


class Story:
    """Writes one report's history with past timestamps, following the services' state machine."""

    def __init__(
        self,
        report: Report,
        rng: random.Random,
        now: datetime,
        notes: dict[ActionKind, list[str]] | None = None,
    ) -> None:
        self.report, self.rng, self.now = report, rng, now
        self.notes = notes or ACTION_NOTES  # what owners tell the reporter, by kind of action
        self.at = report.created_at

    def later(self, low_hours: float, high_hours: float) -> datetime | None:
        at = self.at + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        if at >= self.now:
            return None
        self.at = at
        return at

    def event(self, kind, actor, to=None, note="", detail="", action_kind=None, internal=False):
        report = self.report
        report.events.append(
            ReportEvent(
                kind=kind,
                actor=actor,
                from_status=report.status if to else None,
                to_status=to,
                note=note,
                detail=detail,
                action_kind=action_kind,
                is_internal=internal,
                created_at=self.at,
            )
        )
        if to is not None:
            report.status = to
        report.updated_at = self.at

    def sla(self, started: datetime) -> None:
        hours = timedelta(hours=services.sla_hours(self.report.severity))
        self.report.sla_started_at = started
        self.report.sla_due_at = started + hours
        self.report.sla_escalation_due_at = started + 2 * hours

    def act(self, actor: User, kind: ActionKind | None = None, decline: str = "") -> None:
        report = self.report
        if decline:
            report.action_kind, report.action_note = None, decline
            report.closed_at = self.at
            self.event(EventKind.DECLINED, actor, ReportStatus.DECLINED, note=decline)
        else:
            if kind is None:
                likely = [k for k in LIKELY_ACTIONS[report.category] if k in self.notes]
                kind = self.rng.choice(likely or list(self.notes))
            report.action_kind = kind
            report.action_note = self.rng.choice(self.notes.get(kind) or ACTION_NOTES[kind])
            report.is_fixed = None
            self.event(
                EventKind.ACTED_ON,
                actor,
                ReportStatus.ACTED_ON,
                note=report.action_note,
                action_kind=kind,
            )
        report.acted_on_at = report.reporter_notified_at = self.at
        report.acted_on_by = actor


def _pick_status(rng: random.Random, age_days: float) -> str:
    # Open reports are mostly young ones: a demo queue full of months-old overdue work would tell
    # the wrong story about the triage team.
    if age_days > 45:
        table = [
            ("closed", 52),
            ("acted_on", 14),
            ("declined", 9),
            ("duplicate", 7),
            ("reopened_closed", 10),
        ]
    elif age_days > 21:
        table = [
            ("closed", 50),
            ("acted_on", 14),
            ("declined", 9),
            ("duplicate", 7),
            ("reopened_closed", 10),
            ("reopened", 2),
            ("in_progress", 1),
            ("routed", 1),
        ]
    elif age_days > 5:
        table = [
            ("closed", 34),
            ("acted_on", 34),
            ("declined", 8),
            ("duplicate", 6),
            ("in_progress", 3),
            ("routed", 2),
            ("reopened", 3),
        ]
    else:
        table = [
            ("new", 30),
            ("triaged", 15),
            ("routed", 20),
            ("in_progress", 15),
            ("acted_on", 12),
            ("duplicate", 8),
        ]
    names, weights = zip(*table, strict=True)
    return rng.choices(names, weights)[0]


def _severity_for(rng: random.Random, category: ReportCategory) -> Severity:
    if category is C.UNSAFE:
        return rng.choice([Severity.HIGH, Severity.CRITICAL, Severity.CRITICAL])
    return rng.choices(list(Severity), [25, 45, 22, 8])[0]


def _tell(story: Story, target: str, cast: Cast, owner: User, primaries: dict) -> None:
    """Move a freshly filed report along until `target` (or until the present stops it)."""
    rng, report = story.rng, story.report
    if target == "new":
        return
    if target == "duplicate":
        earlier = [p for p in primaries.get(report.agent.id, []) if p is not report]
        if earlier and story.later(0.5, 8):
            primary = rng.choice(earlier[-15:])
            report.duplicate_of = primary
            report.closed_at = story.at
            story.event(
                EventKind.MARKED_DUPLICATE,
                cast.triage,
                ReportStatus.DUPLICATE,
                detail=str(primary.id) if primary.id else "",
            )
            follows = any(s.user is report.reporter for s in primary.subscriptions)
            if report.reporter not in (None, primary.reporter) and not follows:
                primary.subscriptions.append(ReportSubscription(user=report.reporter))
            if primary.acted_on_at:
                report.reporter_notified_at = primary.acted_on_at
            return
        target = "routed"
    hours = services.sla_hours(report.severity)
    if not story.later(hours * 0.02, hours * 0.12):
        return
    if report.reported_severity is None or rng.random() < 0.2:
        report.severity = _severity_for(rng, report.category)
        story.sla(report.sla_started_at)
        hours = services.sla_hours(report.severity)
    story.event(EventKind.TRIAGED, cast.triage, ReportStatus.TRIAGED, detail=report.severity.label)
    if target == "triaged":
        return
    if target == "declined":
        if story.later(1, 30):
            story.act(cast.triage, decline=rng.choice(DECLINE_REASONS))
        return
    if not story.later(hours * 0.01, hours * 0.08):
        return
    report.assignee = owner
    story.event(EventKind.ROUTED, cast.triage, ReportStatus.ROUTED, detail=owner.name)
    if rng.random() < 0.15:
        story.event(EventKind.INTERNAL_NOTE, owner, note=rng.choice(INTERNAL_NOTES), internal=True)
    if target == "routed":
        return
    if not story.later(hours * 0.02, hours * 0.2):
        return
    story.event(EventKind.STARTED, owner, ReportStatus.IN_PROGRESS)
    if target == "in_progress":
        return
    # Acted on: mostly inside the SLA, sometimes late.
    late = rng.random() < 0.18
    if not story.later(hours * (0.6 if late else 0.05), hours * (1.8 if late else 0.55)):
        return
    story.act(owner)
    if target == "acted_on":
        return
    if not story.later(2, 72):
        return
    reporter = report.reporter
    if target in ("reopened", "reopened_closed"):
        report.is_fixed, report.confirmation_comment = False, rng.choice(NOT_FIXED_COMMENTS)
        report.confirmed_at = story.at
        report.acted_on_at = report.reporter_notified_at = None
        report.acted_on_by = None
        report.action_kind, report.action_note = None, ""
        story.sla(story.at)
        story.event(
            EventKind.NOT_FIXED,
            reporter,
            ReportStatus.REOPENED,
            note=report.confirmation_comment,
        )
        if target == "reopened" or not story.later(hours * 0.2, hours * 1.2):
            return
        story.act(owner, ActionKind.AGENT_FIXED)
        if not story.later(2, 48):
            return
    report.is_fixed = True
    report.confirmation_comment = rng.choice(FIXED_COMMENTS)
    report.confirmed_at = report.closed_at = story.at
    story.event(
        EventKind.CONFIRMED_FIXED, reporter, ReportStatus.CLOSED, note=report.confirmation_comment
    )


def _new_report(rng, agent, problem, reporter, filed_at, *, confidential=False) -> Report:
    category, summary, details, expected = problem
    severity = _severity_for(rng, category) if rng.random() < 0.6 else None
    report = Report(
        agent=agent,
        agent_version=agent.version,
        reporter=reporter,
        is_confidential=confidential,
        category=category,
        reported_severity=severity,
        severity=severity or Severity.MEDIUM,
        summary=summary,
        details=details if rng.random() < 0.8 else "",
        expected=expected if rng.random() < 0.6 else "",
        run_ref=f"RUN-{rng.randint(100_000, 999_999)}" if rng.random() < 0.5 else "",
        occurred_at=filed_at - timedelta(minutes=rng.randint(2, 240)),
        status=ReportStatus.NEW,
        created_at=filed_at,
        updated_at=filed_at,
    )
    report.events.append(
        ReportEvent(kind=EventKind.FILED, actor=reporter, created_at=filed_at, note="")
    )
    return report


def _owner_for(agent: Agent, category: ReportCategory, cache: dict) -> User:
    key = (agent.id, category)
    if key not in cache:
        cache[key] = suggest_owner(agent, category) or agent.technical_owner
    return cache[key]


# Rosa's own reports, newest last: one in every state, so "My reports" shows the whole loop.
ROSA_SCRIPT = [
    ("support-assistant", 0, "closed", 40, False),
    ("support-assistant", 1, "declined", 30, False),
    ("claims-triage", 0, "reopened_closed", 26, False),
    ("support-assistant", 10, "duplicate", 20, True),
    ("support-assistant", 7, "reopened", 12, False),
    ("support-assistant", 9, "acted_on", 6, False),
    ("support-assistant", 3, "in_progress", 3, True),
    ("support-assistant", 8, "routed", 1.5, False),
    ("support-assistant", 5, "new", 0.1, False),
]


def load(people: dict[str, User], count: int = 320) -> list[Report]:
    """Load the demo reports. Returns them (flushed)."""
    rng = random.Random(SEED)
    now = utcnow()
    agents = {agent.slug: agent for agent in db.session.scalars(sa.select(Agent))}
    cast = Cast(
        people=people,
        reporters=[
            people[email]
            for email in (
                "reporter@example.com",
                "sam@example.com",
                "fiona@example.com",
                "li@example.com",
                "omar@example.com",
                "trainee@example.com",
                "manager@example.com",
            )
        ],
        triage=people["triage@example.com"],
        admin=people["admin@example.com"],
    )
    owners: dict = {}
    primaries: dict[int, list[Report]] = {}
    reports: list[Report] = []
    weights = {"support-assistant": 45, "claims-triage": 35, "invoice-matcher": 20}
    slugs, slug_weights = zip(*weights.items(), strict=True)

    plan = []
    for _ in range(count):
        age_days = DAYS * rng.random() ** 1.15  # a little busier recently
        slug = rng.choices(slugs, slug_weights)[0]
        problem = rng.choice(PROBLEMS[slug])
        reporter = rng.choices(cast.reporters, [3, 6, 5, 5, 5, 2, 1])[0]
        plan.append((age_days, slug, problem, reporter, None, rng.random() < 0.08))
    rosa = people["reporter@example.com"]
    for slug, index, target, age_days, confidential in ROSA_SCRIPT:
        plan.append((age_days, slug, PROBLEMS[slug][index], rosa, target, confidential))
    plan.extend(_release_plan(people, now))
    plan.sort(key=lambda item: -item[0])  # oldest first, so duplicates point back in time

    for age_days, slug, problem, reporter, target, confidential in plan:
        agent = agents[slug]
        filed_at = now - timedelta(days=age_days)
        report = _new_report(rng, agent, problem, reporter, filed_at, confidential=confidential)
        db.session.add(report)
        notes = None
        if slug == "claims-triage":
            report.agent_version = claims_triage_version_at(filed_at, now)
        if problem in RELEASE_PROBLEMS:
            report.agent_version = RELEASE_VERSION
            notes = RELEASE_FIX_NOTES
        story = Story(report, rng, now, notes)
        story.sla(filed_at)
        owner = _owner_for(agent, report.category, owners)
        report.suggested_owner = owner
        _tell(story, target or _pick_status(rng, age_days), cast, owner, primaries)
        if report.status is not ReportStatus.DUPLICATE:
            primaries.setdefault(agent.id, []).append(report)
        reports.append(report)
    db.session.flush()

    _fill_in_duplicate_numbers(reports)
    _add_followers(rng, reports, cast)
    _escalate_overdue(reports, cast, now)
    _recent_notifications(reports, now)
    db.session.flush()
    return reports


def _release_plan(people: dict[str, User], now: datetime) -> list[tuple]:
    """The cluster of Claims Triage reports in the weeks after its bad release (the story month)."""
    rng = random.Random(SEED + 1)  # its own stream: the rest of the demo stays as it was
    released = datetime.combine(bad_release_month(now.date()), time(9), tzinfo=UTC) + timedelta(
        days=3
    )
    claims_officers = [people[e] for e in ("sam@example.com", "omar@example.com")]
    others = [people[e] for e in ("trainee@example.com", "manager@example.com", "li@example.com")]
    plan = []
    for target in RELEASE_TARGETS:
        filed_at = released + timedelta(days=16 * rng.random() ** 1.6, hours=rng.uniform(0, 8))
        reporter = rng.choice(claims_officers) if rng.random() < 0.75 else rng.choice(others)
        problem = rng.choices(RELEASE_PROBLEMS, [5, 2, 1, 3, 2])[0]
        age_days = (now - filed_at).total_seconds() / 86_400
        plan.append((age_days, "claims-triage", problem, reporter, target, rng.random() < 0.1))
    return plan


def _fill_in_duplicate_numbers(reports: list[Report]) -> None:
    """Duplicate events name their primary's number, known only once everything is flushed."""
    for report in reports:
        if report.duplicate_of is None:
            continue
        for event in report.events:
            if event.kind is EventKind.MARKED_DUPLICATE:
                event.detail = str(report.duplicate_of.id)
        report.duplicate_of.events.append(
            ReportEvent(
                kind=EventKind.DUPLICATE_ADDED,
                actor=report.events[-1].actor,
                detail=str(report.id),
                created_at=report.closed_at,
            )
        )


def _add_followers(rng: random.Random, reports: list[Report], cast: Cast) -> None:
    """Some people said "me too" instead of filing again."""
    for report in reports:
        if report.status is ReportStatus.DUPLICATE or rng.random() > 0.07:
            continue
        for person in rng.sample(cast.reporters, 2):
            if person is report.reporter or any(s.user is person for s in report.subscriptions):
                continue
            report.subscriptions.append(ReportSubscription(user=person))
            report.events.append(
                ReportEvent(
                    kind=EventKind.SUBSCRIBED,
                    actor=person,
                    created_at=report.created_at + timedelta(hours=rng.uniform(1, 20)),
                )
            )


def _escalate_overdue(reports: list[Report], cast: Cast, now: datetime) -> None:
    for report in reports:
        if not report.is_open:
            continue
        levels = [
            (report.sla_due_at, "past its SLA"),
            (report.sla_escalation_due_at, "past twice its SLA"),
        ]
        for level, (due, wording) in enumerate(levels, start=1):
            if due < now:
                report.escalation_level = level
                report.events.append(
                    ReportEvent(
                        kind=EventKind.ESCALATED,
                        actor=None,
                        detail=wording,
                        created_at=due + timedelta(minutes=5),
                    )
                )


def _recent_notifications(reports: list[Report], now: datetime) -> None:
    """The last two weeks' notifications, so the bell has something to say (in-app only)."""
    recent = [r for r in reports if r.updated_at > now - timedelta(days=14)]
    for report in recent:
        if report.status is ReportStatus.ACTED_ON and report.reporter is not None:
            notify(
                report.reporter,
                "report_outcome",
                f"Your report about {report.agent.name} was acted on",
                f"You reported: {report.summary}\n\nWhat was done: {report.action_note}",
                report.path,
                email=False,
            )
        elif report.status is ReportStatus.ROUTED and report.assignee is not None:
            notify(
                report.assignee,
                "report_routed",
                f"Report #{report.id} about {report.agent.name} is yours to act on",
                report.summary,
                report.path,
                email=False,
            )

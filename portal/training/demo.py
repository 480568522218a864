"""Demo training: a module per demo agent with real guidance and 9 questions each, team and personal
assignments, six months of attempts (passes, failures, retakes), versions that required
re-certification (Support Assistant's refunds; Claims Triage after its bad release, due inside the
dashboards' default window), a draft in progress and an agent version change waiting for its owners'
decision. The demo teams' members without an account (the survey respondents) take their team's
training too, so completion by team reads like a real organisation's.

Tariq Trainee (trainee@example.com) sees every state on "My training": a re-certification due, a module
in progress, an overdue one, and a certificate.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.demo import bad_release_month, story_months
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.training import services
from portal.training.models import (
    Assignment,
    AssignmentReason,
    AssignmentRule,
    ModuleVersion,
    QuestionKind,
    RuleTarget,
    SectionKind,
    TrainingModule,
)

S, M = QuestionKind.SINGLE, QuestionKind.MULTIPLE


@dataclass
class ModuleSpec:
    agent: str
    title: str
    summary: str
    minutes: int
    pass_mark: int
    attempt_limit: int | None
    sections: dict[SectionKind, str]
    # (kind, prompt, [(choice, right)], explanation)
    questions: list[tuple[QuestionKind, str, list[tuple[str, bool]], str]]


SUPPORT = ModuleSpec(
    agent="support-assistant",
    title="Working with the Support Assistant",
    summary=(
        "For everyone who answers customers by email or chat. What the Support Assistant drafts "
        "well, where its drafts go wrong, and what you stay accountable for before pressing Send."
    ),
    minutes=20,
    pass_mark=80,
    attempt_limit=3,
    sections={
        SectionKind.DOES_WELL: """The Support Assistant drafts a reply for every incoming email and chat
message, using **only the knowledge base** (product articles, policies and the macros library).

It is reliable on:

- **Order status and delivery questions**: it reads the order record and quotes the carrier's latest
  scan. In the pilot, 96% of these drafts were sent with no edits.
- **How-to questions** covered by a help article: it links the article and summarises the steps.
- **Tone**: drafts follow the house style: short paragraphs, the customer's name, no jargon.
- **Languages**: it drafts in the language the customer wrote in (English, German, French, Spanish).

Use it to save typing, not thinking: on these topics a quick read is usually enough.""",
        SectionKind.DOES_POORLY: """Its drafts need real care when the answer is **not in the knowledge
base** or depends on judgement:

1. **Refunds and goodwill gestures.** It may promise a refund the policy does not allow, or quote
   the wrong amount when an order was partly refunded before.
2. **Complaints that mention a lawyer, the press or a regulator.** It answers them like any other
   complaint, politely and far too casually.
3. **Several questions in one message.** It tends to answer the first and skip the rest.
4. **Out-of-date articles.** If an article is wrong, the draft is wrong in exactly the same way,
   and it sounds just as confident.

> A confident tone is not a sign of a correct answer.""",
        SectionKind.USING_OUTPUTS: """Every draft is **reviewed by a person before it is sent**. You are
the sender, and you are accountable for what the customer receives.

Before sending, check:

- the **facts**: order numbers, dates and amounts match the order record;
- that **every question** in the customer's message is answered;
- any **promise** (refund, replacement, call-back) is one you are allowed to make.

If you correct a draft because the agent got something wrong, also **report it** (Report a problem
→ Support Assistant). Reports are how the owners find and fix patterns.""",
        SectionKind.ESCALATION: """Stop and hand the conversation to a team lead when:

| Situation | Hand it to |
| --- | --- |
| Refund or goodwill above **€150** | Team lead on shift |
| Legal threat, press or regulator mentioned | Customer Relations (escalations queue) |
| Signs of a vulnerable customer (bereavement, health, financial hardship) | Team lead on shift |
| Suspected fraud or account takeover | Security desk |

Do not send the agent's draft in these cases, even if it reads well.""",
        SectionKind.KNOWN_LIMITATIONS: """- It cannot see **phone call notes**: if the customer says "as
I told your colleague", check the call log yourself.
- It does not know about **outages** until the status article is updated.
- Attachments (photos of damaged goods) are **not read**; it only sees the text.""",
    },
    questions=[
        (
            S,
            "Who sends a reply drafted by the Support Assistant to the customer?",
            [
                ("The agent sends it automatically after 5 minutes", False),
                ("You, after reviewing and correcting the draft", True),
                ("The team lead on shift", False),
            ],
            "Every draft is reviewed by a person before it is sent; the person who sends it is "
            "accountable for it.",
        ),
        (
            S,
            "Where does the Support Assistant get the information in its drafts?",
            [
                ("The knowledge base and the order record", True),
                ("Anything it finds on the public internet", False),
                ("Previous conversations with other customers", False),
            ],
            "It drafts from the knowledge base (articles, policies, macros) and reads the order "
            "record for order questions. Nothing else.",
        ),
        (
            M,
            "Which of these drafts need particular care before sending? (Choose all that apply.)",
            [
                ("A draft offering a refund", True),
                ("A reply to a message that asks three different questions", True),
                ("A delivery-status reply quoting the carrier's latest scan", False),
                ("A reply to a complaint that mentions a lawyer", True),
            ],
            "Refunds, multi-question messages and complaints mentioning legal action are where the "
            "agent goes wrong most. Delivery status is one of its most reliable answers.",
        ),
        (
            S,
            "A customer asks for a €220 goodwill gesture and the draft agrees. What do you do?",
            [
                ("Send it: the agent knows the policy", False),
                ("Change the amount to €150 and send it", False),
                ("Hand the conversation to the team lead on shift", True),
            ],
            "Goodwill above €150 is the team lead's decision. Do not send the draft.",
        ),
        (
            S,
            "The draft quotes a help article that you know is out of date. What is the best action?",
            [
                (
                    "Correct the reply, send it, and report the problem so the article is fixed",
                    True,
                ),
                ("Send it anyway: the article is the official source", False),
                ("Delete the conversation", False),
            ],
            "An out-of-date article makes every draft on that topic wrong. Fix your reply and report "
            "it, so the owners can update the article.",
        ),
        (
            M,
            "Which of these can the Support Assistant NOT see? (Choose all that apply.)",
            [
                ("Notes from phone calls", True),
                ("Photos the customer attached", True),
                ("The order record", False),
                ("The knowledge base", False),
            ],
            "It reads text, the order record and the knowledge base. Call notes and attachments are "
            "invisible to it.",
        ),
        (
            S,
            "A customer mentions that their mother has just died and the order was for her. What "
            "do you do?",
            [
                ("Send the agent's standard reply quickly", False),
                ("Hand it to the team lead on shift as a vulnerable customer", True),
                ("Ask the customer for a death certificate", False),
            ],
            "Signs of a vulnerable customer go to the team lead. Speed matters less than care here.",
        ),
        (
            S,
            "A draft sounds very confident. What does that tell you about its accuracy?",
            [
                ("It is almost certainly correct", False),
                ("Nothing: the agent sounds equally confident when it is wrong", True),
                ("It was checked by the knowledge-base team", False),
            ],
            "The agent's tone does not change with its accuracy. Check the facts either way.",
        ),
        (
            S,
            "You corrected a wrong draft before sending it. Should you also report it?",
            [
                ("Yes: reports show the owners the patterns they need to fix", True),
                ("No: the customer got the right answer, so nothing more is needed", False),
            ],
            "Corrections that are not reported are invisible to the owners; the same mistake then "
            "reaches the next customer.",
        ),
    ],
)

SUPPORT_V2_REFUNDS = """

**New in agent version 2.3:** the agent now **drafts refund replies** itself, using the refunds
policy. It calculates the amount from the order record. Check the amount against the order record
every time: when an order was partly refunded before, it may count the earlier refund twice."""

SUPPORT_V2_QUESTION = (
    S,
    "Since version 2.3 the agent drafts refund amounts. When must you check the amount?",
    [
        ("Only when the customer complains about it", False),
        ("Every time, against the order record", True),
        ("Never: the amount comes from the policy", False),
    ],
    "It calculates refunds from the order record and can double-count an earlier partial refund. "
    "Check every amount before sending.",
)

CLAIMS_V2_SCANS = """
- **Since agent version 0.9.0, policy numbers on scanned claims** were misread (digits swapped or
  dropped, the claim reference taken for the policy number). 0.9.1 fixed it, and the agent now
  leaves the field empty when unsure. Still compare every policy number on a **scanned** claim with
  the scan before confirming, and report any misread with the claim reference."""

CLAIMS_V2_QUESTION = (
    S,
    "A claim came in by post and was scanned. What do you check before confirming the agent's "
    "suggestion?",
    [
        ("Nothing: scanned claims are read as well as typed ones", False),
        ("The policy number, against the scan", True),
        ("Only the claimed amount", False),
    ],
    "Scanned claims are where the agent misread policy numbers after 0.9.0. Check the number "
    "against the scan every time; an empty field means the agent was not sure.",
)

CLAIMS = ModuleSpec(
    agent="claims-triage",
    title="Claims Triage: using its suggestions safely",
    summary=(
        "For claims officers. The Claims Triage agent reads each new claim, extracts the policy "
        "details and suggests a priority and a handler. You confirm or change every suggestion."
    ),
    minutes=25,
    pass_mark=75,
    attempt_limit=None,
    sections={
        SectionKind.DOES_WELL: """Claims Triage is in **pilot**. On the claims it was built for it saves
about six minutes per claim:

- **Extracting policy details** from typed claim forms and emails: policy number, policy holder,
  date of loss, claimed amount. Accuracy in the pilot: 97% on typed forms.
- **Motor and home claims** under €10,000: its priority suggestion matched the officer's decision
  in 9 out of 10 cases.
- **Spotting duplicates**: a second claim for the same incident and policy is flagged.""",
        SectionKind.DOES_POORLY: """Be careful with:

- **Handwritten or scanned forms.** Extraction errors rise sharply; digits are misread (1/7, 5/6).
- **Marine, travel and commercial claims.** It was not trained on them: it often suggests the
  general motor team as handler.
- **Priority of injury claims.** It ranks by claimed amount, so a small claim that mentions an
  injury can be suggested as *low* priority. Injury claims are always *high*.
- **Policies changed mid-term.** It reads the policy as it is today, not as it was on the date of
  loss.""",
        SectionKind.USING_OUTPUTS: """The agent **suggests**; the claims officer **decides**.

1. Compare the extracted policy number and date of loss with the form before confirming.
2. Read the claim summary yourself: the priority suggestion does not replace your judgement.
3. Confirm or change the handler. Changing it is normal, and teaches the owners where it is weak.
4. If the suggestion was wrong, use *Report a problem → Claims Triage* with the claim reference.""",
        SectionKind.ESCALATION: """Escalate to the claims team leader, whatever the agent suggests, when:

- the claim mentions **injury or death**;
- there are **signs of fraud** (inconsistent dates, a duplicate flagged on a different policy
  holder);
- the claimed amount is **above €50,000**;
- the policy holder is a **vulnerable customer**.""",
        SectionKind.KNOWN_LIMITATIONS: """- Cannot read **photos** of damage; only the text of the claim.
- Does not see claims filed by **phone** until they are typed into the system.
- The pilot covers claims in **English only**.""",
    },
    questions=[
        (
            S,
            "Who decides a new claim's priority and handler?",
            [
                ("The Claims Triage agent", False),
                ("The claims officer, after checking the agent's suggestion", True),
                ("The policy holder", False),
            ],
            "The agent only suggests. The claims officer confirms or changes every suggestion.",
        ),
        (
            S,
            "A €900 claim mentions that the driver was taken to hospital. The agent suggests low "
            "priority. What is the right priority?",
            [("Low, as suggested", False), ("Medium", False), ("High", True)],
            "Injury claims are always high priority. The agent ranks by amount and misses this.",
        ),
        (
            M,
            "On which claims is the agent's extraction least reliable? (Choose all that apply.)",
            [
                ("Handwritten claim forms", True),
                ("Scanned paper forms", True),
                ("Typed claim forms sent by email", False),
            ],
            "Handwritten and scanned forms cause digit misreads; typed forms are its strongest case.",
        ),
        (
            S,
            "The agent suggests the general motor team for a marine claim. What do you do?",
            [
                ("Accept it: the agent knows the teams", False),
                ("Change the handler to the marine desk", True),
                ("Reject the claim", False),
            ],
            "It was not trained on marine claims and routes them wrongly. Route them yourself.",
        ),
        (
            M,
            "Which claims must you escalate to the team leader? (Choose all that apply.)",
            [
                ("A claim above €50,000", True),
                ("A claim that mentions a death", True),
                ("A duplicate flagged on a different policy holder", True),
                ("A typed home claim for €2,000", False),
            ],
            "Large amounts, injury or death, and signs of fraud always go to the team leader.",
        ),
        (
            S,
            "The policy was changed two weeks after the date of loss. Which policy details apply?",
            [
                ("Today's policy, as the agent shows", False),
                ("The policy as it was on the date of loss", True),
            ],
            "Cover is decided by the policy on the date of loss; the agent only reads today's.",
        ),
        (
            S,
            "You changed a wrong handler suggestion. What else should you do?",
            [
                ("Nothing; changing it is enough", False),
                ("Report the problem with the claim reference", True),
            ],
            "Reports with the claim reference show the owners where the agent is weak.",
        ),
        (
            M,
            "What can the agent NOT see? (Choose all that apply.)",
            [
                ("Photos of the damage", True),
                ("Claims filed by phone and not yet typed in", True),
                ("The text of an emailed claim", False),
            ],
            "It works on the text of claims in the system only.",
        ),
        (
            S,
            "What is the agent's current lifecycle stage?",
            [("Production", False), ("Pilot", True), ("Retired", False)],
            "It is in pilot: every suggestion is checked and the owners are still measuring it "
            "against its success thresholds.",
        ),
    ],
)

INVOICES = ModuleSpec(
    agent="invoice-matcher",
    title="Invoice Matcher: checking matches and mismatches",
    summary=(
        "For the finance team. How the Invoice Matcher pairs supplier invoices with purchase "
        "orders, why it is paused, and how to work while it is."
    ),
    minutes=15,
    pass_mark=80,
    attempt_limit=2,
    sections={
        SectionKind.DOES_WELL: """The Invoice Matcher pairs each supplier invoice with its purchase order
(PO) and goods receipt, and flags mismatches for review.

- **Single-currency invoices** with a PO number on them: 99% matched correctly.
- **Quantity mismatches** (invoiced 120, received 100) are flagged reliably.
- **Duplicate invoices** (same supplier, amount and date) are caught before payment.""",
        SectionKind.DOES_POORLY: """- **Foreign-currency invoices.** It rounds converted amounts per line
instead of on the total, so a 40-line invoice in USD can be off by several cents and be flagged as
a mismatch, or, worse, a real small difference is hidden. **This is why it is paused.**
- **Invoices without a PO number.** It guesses from the supplier and amount; treat those matches as
  suggestions only.
- **Credit notes** are sometimes matched as invoices.""",
        SectionKind.USING_OUTPUTS: """While the agent is **paused**, match foreign-currency invoices by
hand. For euro invoices, you may use its matches but:

1. open the PO and check the total, not just the line count;
2. check that a credit note is not being treated as an invoice;
3. approve payment only after the three-way match (PO, receipt, invoice) is complete.""",
        SectionKind.ESCALATION: """Tell the finance controller before paying when:

- the mismatch is above **€500**, or any amount on a foreign-currency invoice;
- the same invoice number appears twice with different amounts;
- a supplier's bank details on the invoice differ from the supplier record (possible fraud).""",
        SectionKind.KNOWN_LIMITATIONS: """- Currency rounding is done per line (fix in progress).
- It does not read PDF invoices that are scanned images; they go to manual matching.""",
    },
    questions=[
        (
            S,
            "Why is the Invoice Matcher paused?",
            [
                ("It rounds foreign-currency amounts per line instead of on the total", True),
                ("It cannot read euro invoices", False),
                ("Suppliers complained about it", False),
            ],
            "Per-line rounding on converted amounts creates false mismatches and can hide real ones.",
        ),
        (
            S,
            "While it is paused, how do you match a USD invoice?",
            [
                ("With the agent, as usual", False),
                ("By hand", True),
                ("Pay it without matching", False),
            ],
            "Foreign-currency invoices are matched by hand until the rounding fix is released.",
        ),
        (
            M,
            "What does the agent do reliably? (Choose all that apply.)",
            [
                ("Flag quantity mismatches", True),
                ("Catch duplicate invoices", True),
                ("Match invoices that have no PO number", False),
            ],
            "Quantity mismatches and duplicates are its strengths; invoices without a PO are guesses.",
        ),
        (
            S,
            "An invoice has no PO number and the agent proposes a match. How do you treat it?",
            [
                ("As a confirmed match", False),
                ("As a suggestion you must check", True),
            ],
            "Without a PO number it guesses from supplier and amount.",
        ),
        (
            M,
            "When do you tell the finance controller before paying? (Choose all that apply.)",
            [
                ("A mismatch above €500", True),
                ("Bank details differ from the supplier record", True),
                ("A €3 mismatch on a euro invoice", False),
                ("The same invoice number twice with different amounts", True),
            ],
            "Large mismatches, changed bank details and conflicting duplicates need the controller.",
        ),
        (
            S,
            "What must be complete before you approve payment?",
            [
                ("The agent's match", False),
                ("The three-way match: PO, goods receipt and invoice", True),
            ],
            "Payment needs the full three-way match, whatever the agent says.",
        ),
        (
            S,
            "The agent matched a credit note to a PO as if it were an invoice. Is that a known "
            "weakness?",
            [("Yes", True), ("No, it never happens", False)],
            "Credit notes are sometimes matched as invoices; check the document type.",
        ),
        (
            S,
            "A scanned image PDF invoice arrives. What happens?",
            [
                ("The agent reads it like any other", False),
                ("It goes to manual matching", True),
            ],
            "Scanned image PDFs are not read by the agent.",
        ),
        (
            S,
            "You find a wrong match. What do you do besides correcting it?",
            [("Report the problem with the invoice number", True), ("Nothing else", False)],
            "Reports are how the owners see patterns like the rounding problem.",
        ),
    ],
)


def _build_module(spec: ModuleSpec, agent: Agent, author: User) -> TrainingModule:
    module = services.create_module(
        agent,
        services.ModuleFields(
            title=spec.title,
            summary=spec.summary,
            estimated_minutes=spec.minutes,
            pass_mark_pct=spec.pass_mark,
            attempt_limit=spec.attempt_limit,
        ),
        author,
    )
    for section in module.draft.sections:
        section.body_markdown = spec.sections[section.kind]
    for kind, prompt, choices, explanation in spec.questions:
        _add_question(module, kind, prompt, choices, explanation)
    return module


def _add_question(module, kind, prompt, choices, explanation) -> None:
    services.save_question(
        module,
        None,
        kind=kind,
        prompt=prompt,
        explanation=explanation,
        choices=[services.ChoiceInput(text, right) for text, right in choices],
    )


def _publish(module: TrainingModule, author: User, when: datetime, agent_version: str) -> None:
    draft = module.draft
    services.publish_module(module, author)
    draft.published_at = when
    draft.created_at = when - timedelta(days=3)
    draft.agent_version = agent_version


def _answers(version: ModuleVersion, wrong: set[int]) -> dict[int, set[int]]:
    """Right answers, except for the question positions in `wrong` (first wrong choice)."""
    answers = {}
    for question in version.questions:
        if question.position in wrong:
            answers[question.id] = {next(c.id for c in question.choices if not c.is_correct)}
        else:
            answers[question.id] = question.correct_ids
    return answers


def _attempt(person: User, module: TrainingModule, wrong: set[int], when: datetime) -> None:
    version = module.live_version
    services.submit_attempt(person, module, version.id, _answers(version, wrong), now=when)
    progress_last = len(version.sections)
    services.record_reading(person, module, progress_last)


def _colleagues_attempt(
    module: TrainingModule,
    team,
    people: dict[str, User],
    rng: random.Random,
    between: tuple[datetime, datetime],
    pass_share: float,
) -> None:
    """The team's members without a demo account take the live version between two moments:
    most pass (some at the second try), a few fail once, the rest have not started."""
    demo_ids = {person.id for person in people.values()}
    colleagues = db.session.scalars(
        sa.select(User).where(User.team_id == team.id, User.id.not_in(demo_ids)).order_by(User.id)
    )
    start, end = between
    positions = len(module.live_version.questions)
    for person in colleagues:
        roll = rng.random()
        if roll > pass_share + 0.05:
            continue  # not started
        when = start + (end - start) * rng.random()
        failed = roll > pass_share or rng.random() < 0.2
        if failed:
            _attempt(person, module, set(rng.sample(range(1, positions + 1), 3)), when)
            if roll > pass_share:
                continue
            when += timedelta(days=rng.uniform(1, 6))
        _attempt(
            person, module, set(rng.sample(range(1, positions + 1), rng.choice([0, 0, 1]))), when
        )


def _rule(module, target, due_on, by, *, team=None, user=None) -> None:
    rule = AssignmentRule(
        module=module,
        target=target,
        team_id=team.id if team else None,
        user_id=user.id if user else None,
        due_on=due_on,
        created_by_id=by.id,
    )
    db.session.add(rule)
    db.session.flush()
    # Made a month before it was due (or a few weeks ago, for one due soon).
    made = utcnow() - timedelta(days=max(3, (utcnow().date() - due_on).days + 30))
    rule.created_at = made
    for assignment in services.materialise_rule(rule, due_on, by=by):
        assignment.created_at = made


def load(people: dict[str, User]) -> None:
    now = utcnow()
    today = now.date()
    agents = {a.slug: a for a in db.session.scalars(sa.select(Agent))}
    p = people
    manager = p["manager@example.com"]
    tariq = p["trainee@example.com"]
    rng = random.Random(20260602)

    def ago(days: int, hour: int = 10) -> datetime:
        return (now - timedelta(days=days)).replace(hour=hour, minute=15, second=0, microsecond=0)

    # --- Support Assistant: version 1 five months ago, version 2 (refunds) needing re-certification.
    support = _build_module(SUPPORT, agents["support-assistant"], p["owner@example.com"])
    _publish(support, p["owner@example.com"], ago(150), "2.1.0")
    cs_team = p["reporter@example.com"].team
    _rule(support, RuleTarget.TEAM, today - timedelta(days=120), manager, team=cs_team)
    _rule(support, RuleTarget.PERSON, today - timedelta(days=120), manager, user=tariq)
    _attempt(p["reporter@example.com"], support, {3, 7}, ago(140))  # 77.8%: fail
    _attempt(p["reporter@example.com"], support, set(), ago(138))
    _attempt(p["li@example.com"], support, {4}, ago(135))
    _attempt(tariq, support, {3, 8, 6}, ago(131))  # fail
    _attempt(tariq, support, {8}, ago(127))
    _attempt(p["manager@example.com"], support, set(), ago(125))
    _attempt(p["owner@example.com"], support, set(), ago(149))
    _attempt(p["sam@example.com"], support, {1, 3, 5}, ago(110))  # not assigned, tried anyway
    _colleagues_attempt(support, cs_team, p, rng, (ago(148), ago(122)), 0.85)

    services.start_draft(support, p["owner@example.com"])
    draft = support.draft
    next(
        s for s in draft.sections if s.kind is SectionKind.DOES_WELL
    ).body_markdown += SUPPORT_V2_REFUNDS
    _add_question(support, *SUPPORT_V2_QUESTION)
    draft.change_note = "Agent 2.3 drafts refund replies: new guidance and a question on amounts."
    draft.requires_recertification = True
    draft.recertification_due_on = today + timedelta(days=10)
    _publish(support, p["owner@example.com"], ago(40), "2.3.0")
    recertifications = sa.select(Assignment).where(
        Assignment.module_id == support.id, Assignment.reason == AssignmentReason.RECERTIFICATION
    )
    for assignment in db.session.scalars(recertifications):
        assignment.created_at = ago(40)
    _attempt(p["reporter@example.com"], support, set(), ago(30))
    _attempt(p["li@example.com"], support, {10, 3, 5}, ago(25))  # 70%: missed the refunds question
    _attempt(p["li@example.com"], support, set(), ago(24))
    _colleagues_attempt(support, cs_team, p, rng, (ago(38), ago(2)), 0.45)

    # --- Claims Triage, following the demo's story: version 1 before the pilot's first months,
    # assigned to Claims Operations; after the bad release (0.9.0) a version 2 on scanned claims
    # that claims officers re-certify on; Tariq is part-way through, due in a few days.
    months = story_months(today)
    released = bad_release_month(today)

    def on(day: date, hour: int = 11) -> datetime:
        return datetime.combine(day, time(hour, 15), tzinfo=UTC)

    claims = _build_module(CLAIMS, agents["claims-triage"], p["governance@example.com"])
    _publish(claims, p["governance@example.com"], on(months[0] + timedelta(days=9)), "0.8.4")
    claims_team = tariq.team
    _rule(claims, RuleTarget.TEAM, months[1] + timedelta(days=14), manager, team=claims_team)
    _attempt(p["sam@example.com"], claims, {2, 5, 3}, on(months[0] + timedelta(days=20)))  # fail
    _attempt(p["sam@example.com"], claims, {2, 5, 3}, on(months[0] + timedelta(days=27)))  # fail
    _attempt(p["sam@example.com"], claims, {6}, on(months[1] + timedelta(days=8)))  # third try
    _attempt(p["omar@example.com"], claims, {4}, on(months[1] + timedelta(days=3)))
    _colleagues_attempt(
        claims,
        claims_team,
        p,
        rng,
        (on(months[0] + timedelta(days=12)), on(months[1] + timedelta(days=13))),
        0.85,
    )
    # Tariq, the demo's trainee, was given a later due date: he is part-way through (in progress).
    joined = sa.select(Assignment).where(
        Assignment.module_id == claims.id, Assignment.user_id == tariq.id
    )
    for assignment in db.session.scalars(joined):
        assignment.due_on = today + timedelta(days=5)
        assignment.created_at = ago(9)

    services.start_draft(claims, p["governance@example.com"])
    draft = claims.draft
    next(
        s for s in draft.sections if s.kind is SectionKind.DOES_POORLY
    ).body_markdown += CLAIMS_V2_SCANS
    _add_question(claims, *CLAIMS_V2_QUESTION)
    draft.change_note = "After 0.9.0: how to check policy numbers on scanned claims."
    draft.requires_recertification = True
    draft.recertification_due_on = released + timedelta(days=45)
    _publish(claims, p["governance@example.com"], on(released + timedelta(days=24)), "0.9.1")
    recertifications = sa.select(Assignment).where(
        Assignment.module_id == claims.id, Assignment.reason == AssignmentReason.RECERTIFICATION
    )
    for assignment in db.session.scalars(recertifications):
        assignment.created_at = on(released + timedelta(days=24))
    _attempt(p["omar@example.com"], claims, set(), on(released + timedelta(days=28)))
    _attempt(p["sam@example.com"], claims, {10, 2, 3}, on(released + timedelta(days=33)))  # 70%
    _attempt(p["sam@example.com"], claims, set(), on(released + timedelta(days=34)))
    _colleagues_attempt(
        claims,
        claims_team,
        p,
        rng,
        (on(released + timedelta(days=25)), on(released + timedelta(days=44))),
        0.85,
    )
    for position in (1, 2, 3):
        services.record_reading(tariq, claims, position)
    # 0.9.2 went live this week: its owners still have to say whether it needs re-certification.
    change = services.on_agent_version_changed(
        agents["claims-triage"], "0.9.1", "0.9.2", by=p["tech@example.com"]
    )
    if change is not None:
        change.changed_at = now - timedelta(days=7)  # as the feedback demo dates 0.9.2

    # --- Invoice Matcher: assigned to Finance and to Tariq (overdue); a draft in progress.
    invoices = _build_module(INVOICES, agents["invoice-matcher"], p["priya@example.com"])
    _publish(invoices, p["priya@example.com"], ago(120), "1.4.2")
    _rule(
        invoices,
        RuleTarget.TEAM,
        today - timedelta(days=60),
        manager,
        team=p["fiona@example.com"].team,
    )
    _rule(invoices, RuleTarget.PERSON, today - timedelta(days=10), manager, user=tariq)
    _attempt(p["fiona@example.com"], invoices, {2, 5}, ago(100))  # 77.8%: fail
    _attempt(p["fiona@example.com"], invoices, set(), ago(99))
    _attempt(p["priya@example.com"], invoices, set(), ago(118))
    _colleagues_attempt(invoices, p["fiona@example.com"].team, p, rng, (ago(115), ago(62)), 0.8)
    services.start_draft(invoices, p["priya@example.com"])
    invoices.draft.change_note = "Rounding fix in 1.5: manual matching no longer needed for USD."

    db.session.flush()

"""Training pages: "My training", reading and the knowledge check (everyone), authoring (admins and the
agent's owners), assignments and reports (managers and admins)."""

from datetime import date
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.security import new_token
from portal.core.timeutil import utcnow
from portal.core.web import error_response, role_required
from portal.training import exports, metrics, services
from portal.training.forms import (
    AssignForm,
    ButtonForm,
    DecisionForm,
    DraftForm,
    ModuleForm,
    PeriodForm,
    QuestionForm,
    SectionForm,
    select_choices,
)
from portal.training.markdown import render_markdown
from portal.training.models import (
    AssignmentRule,
    QuestionKind,
    SectionKind,
    TrainingModule,
)
from portal.training.services import TrainingError

bp = Blueprint("training", __name__, url_prefix="/training")

AUTHORS = ("owner", "admin")
ASSIGNERS = ("manager", "admin")


@bp.app_template_filter("markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@bp.app_template_filter("score")
def score_filter(value) -> str:
    """75.00 -> "75%", 62.50 -> "62.5%"."""
    return f"{Decimal(value).normalize():f}%"


@bp.app_context_processor
def training_globals() -> dict:
    def training_due():
        """The home page card's figures for the signed-in person."""
        if not current_user.is_authenticated:
            return None
        return services.training_due_summary(current_user, utcnow().date())

    return {"training_due": training_due}


@bp.app_template_global("training_report_url")
def report_url(report_id: int) -> str:
    """The feedback report's page (the known-limitations list links to it)."""
    return url_for("feedback.report_detail", report_id=report_id)


def _today() -> date:
    return utcnow().date()


def _refused(exc: TrainingError):
    return error_response(exc.status if exc.status in (403, 404) else 400, exc.message)


def _available_module(module_id: int) -> TrainingModule:
    try:
        return services.get_available_module(module_id)
    except TrainingError:
        abort(404)


def _author_module(module_id: int) -> TrainingModule:
    try:
        return services.get_module_for_author(module_id, current_user)
    except TrainingError as exc:
        abort(exc.status)


def _back_to_module(module: TrainingModule):
    return redirect(url_for("training.edit_module", module_id=module.id))


# --- Trainees ----------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def my_training():
    today = _today()
    services.apply_assignment_rules(today, user=current_user)
    db.session.commit()
    data = services.my_training(current_user, today)
    return render_template("training/my_training.html", data=data, today=today)


@bp.get("/modules/<int:module_id>")
@login_required
def module_overview(module_id: int):
    module = _available_module(module_id)
    version = module.live_version
    has_limitations_section = any(s.kind is SectionKind.KNOWN_LIMITATIONS for s in version.sections)
    return render_template(
        "training/module.html",
        module=module,
        version=version,
        progress=services.progress_for(current_user, module),
        attempts=services.my_attempts(current_user, module),
        refusal=services.attempt_refusal(current_user, module),
        used=services.attempts_used(current_user, version),
        limitations=[] if has_limitations_section else services.known_limitations(module.agent),
        today=_today(),
    )


@bp.get("/modules/<int:module_id>/sections/<int:position>")
@login_required
def read_section(module_id: int, position: int):
    module = _available_module(module_id)
    version = module.live_version
    section = version.section_at(position)
    if section is None:
        abort(404)
    services.record_reading(current_user, module, position)
    db.session.commit()
    limitations = (
        services.known_limitations(module.agent)
        if section.kind is SectionKind.KNOWN_LIMITATIONS
        else []
    )
    return render_template(
        "training/section.html",
        module=module,
        version=version,
        section=section,
        total=len(version.sections),
        limitations=limitations,
    )


def _chosen_answers(version) -> dict[int, set[int]]:
    answers = {}
    for question in version.questions:
        chosen = set()
        for value in request.form.getlist(f"q{question.id}"):
            chosen.add(int(value) if value.isdigit() else -1)
        answers[question.id] = chosen
    return answers


@bp.route("/modules/<int:module_id>/check", methods=["GET", "POST"])
@login_required
def knowledge_check(module_id: int):
    module = _available_module(module_id)
    answers: dict[int, set[int]] = {}
    errors: dict[int, str] = {}
    notice = None
    status = 200
    if request.method == "POST":
        answers = _chosen_answers(module.live_version)
        try:
            attempt = services.submit_attempt(
                current_user,
                module,
                request.form.get("version_id", type=int) or 0,
                answers,
                submission_key=(request.form.get("submission_key") or "")[:64] or None,
            )
        except services.AnswerErrors as exc:
            errors, status = exc.errors, 400
        except TrainingError as exc:
            db.session.rollback()
            notice, status, answers = exc.message, exc.status, {}
        else:
            attempt_id = attempt.id  # read before the commit expires it: no reload
            db.session.commit()
            return redirect(url_for("training.attempt_result", attempt_id=attempt_id))
    version = module.live_version
    return render_template(
        "training/check.html",
        module=module,
        version=version,
        refusal=services.attempt_refusal(current_user, module),
        used=services.attempts_used(current_user, version),
        answers=answers,
        errors=errors,
        notice=notice,
        submission_key=new_token(16),
        QuestionKind=QuestionKind,
    ), status


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt_result(attempt_id: int):
    try:
        attempt = services.get_visible_attempt(attempt_id, current_user)
    except TrainingError:
        abort(404)
    module = attempt.module
    can_retake = (
        attempt.user_id == current_user.id
        and module.is_available
        and services.attempt_refusal(current_user, module) is None
    )
    return render_template(
        "training/result.html",
        attempt=attempt,
        module=module,
        rows=services.scored_view(attempt),
        can_retake=can_retake,
    )


@bp.get("/attempts/<int:attempt_id>/certificate")
@login_required
def certificate(attempt_id: int):
    try:
        attempt = services.get_visible_attempt(attempt_id, current_user)
    except TrainingError:
        abort(404)
    if not attempt.passed:
        abort(404)
    return render_template("training/certificate.html", attempt=attempt)


# --- Authors -----------------------------------------------------------------------------------------


@bp.get("/manage/")
@role_required(*AUTHORS)
def authoring():
    return render_template(
        "training/manage/index.html",
        modules=services.modules_for_author(current_user),
        agents=services.manageable_agents(current_user),
        changes=services.pending_agent_changes(current_user),
    )


def _module_fields(form) -> services.ModuleFields:
    return services.ModuleFields(
        title=form.title.data or "",
        summary=form.summary.data or "",
        estimated_minutes=form.estimated_minutes.data,
        pass_mark_pct=form.pass_mark_pct.data,
        attempt_limit=form.attempt_limit.data,
    )


def _field_error(form, exc: TrainingError, fallback: str) -> None:
    target = getattr(form, exc.field or "", None) or getattr(form, fallback)
    target.errors = [*target.errors, exc.message]


@bp.route("/manage/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_module():
    agents = services.manageable_agents(current_user)
    form = ModuleForm()
    form.agent.choices = select_choices((agent.id, agent.name) for agent in agents)
    if request.method == "GET" and (slug := request.args.get("agent")):
        form.agent.data = next((a.id for a in agents if a.slug == slug), None)
    if form.validate_on_submit():
        agent = db.session.get(Agent, form.agent.data)
        try:
            module = services.create_module(agent, _module_fields(form), current_user)
        except TrainingError as exc:
            db.session.rollback()
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash(
                "Module created with a skeleton of five sections. Write them, add questions, "
                "then publish.",
                "success",
            )
            return _back_to_module(module)
    return render_template("training/manage/new.html", form=form, agents=agents), (
        400 if form.errors else 200
    )


@bp.route("/manage/<int:module_id>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit_module(module_id: int):
    module = _author_module(module_id)
    draft = module.draft
    form = DraftForm(obj=draft) if draft is not None else None
    if request.method == "POST":
        if draft is None:
            return error_response(409, "This module has no draft. Start a new draft to change it.")
        if form.validate_on_submit():
            try:
                services.update_draft(
                    module,
                    _module_fields(form),
                    change_note=form.change_note.data or "",
                    requires_recertification=form.requires_recertification.data,
                    recertification_due_on=form.recertification_due_on.data,
                )
            except TrainingError as exc:
                db.session.rollback()
                _field_error(form, exc, "title")
            else:
                db.session.commit()
                flash("Draft details saved.", "success")
                return _back_to_module(module)
    return render_template(
        "training/manage/module.html",
        module=module,
        draft=draft,
        form=form,
        button=ButtonForm(),
        can_assign=services.can_assign(current_user),
    ), (400 if form is not None and form.errors else 200)


def _module_action(module_id: int, action) -> Response:
    """Run a one-button action on a module: flash what happened or why it could not."""
    module = _author_module(module_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        message = action(module)
    except TrainingError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(message, "success")
    return _back_to_module(module)


@bp.post("/manage/<int:module_id>/draft")
@role_required(*AUTHORS)
def start_draft(module_id: int):
    def start(module):
        services.start_draft(module, current_user)
        return "A new draft is ready: trainees keep seeing the published version until you publish."

    return _module_action(module_id, start)


@bp.post("/manage/<int:module_id>/draft/discard")
@role_required(*AUTHORS)
def discard_draft(module_id: int):
    def discard(module):
        services.discard_draft(module)
        return "Draft discarded."

    return _module_action(module_id, discard)


@bp.post("/manage/<int:module_id>/publish")
@role_required(*AUTHORS)
def publish_module(module_id: int):
    return _module_action(module_id, lambda module: services.publish_module(module, current_user))


@bp.post("/manage/<int:module_id>/unpublish")
@role_required(*AUTHORS)
def unpublish_module(module_id: int):
    def unpublish(module):
        services.unpublish_module(module)
        return "Module unpublished: trainees no longer see it. Certificates stay valid."

    return _module_action(module_id, unpublish)


@bp.get("/manage/<int:module_id>/preview")
@role_required(*AUTHORS)
def preview_module(module_id: int):
    module = _author_module(module_id)
    number = request.args.get("version", type=int)
    version = (
        next((v for v in module.versions if v.number == number), None) if number else module.current
    )
    if version is None:
        abort(404)
    return render_template(
        "training/manage/preview.html",
        module=module,
        version=version,
        limitations=services.known_limitations(module.agent),
    )


@bp.route("/manage/<int:module_id>/sections/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_section(module_id: int):
    module = _author_module(module_id)
    if module.draft is None:
        return error_response(409, "This module has no draft. Start a new draft to change it.")
    form = SectionForm()
    if form.validate_on_submit():
        try:
            services.add_section(
                module, SectionKind(form.kind.data), form.title.data, form.body_markdown.data or ""
            )
        except TrainingError as exc:
            db.session.rollback()
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash("Section added.", "success")
            return _back_to_module(module)
    return render_template("training/manage/section_form.html", module=module, form=form), (
        400 if form.errors else 200
    )


def _draft_section(module: TrainingModule, section_id: int):
    try:
        return services.get_draft_section(module, section_id)
    except TrainingError as exc:
        abort(404 if exc.status == 404 else 409)


@bp.route("/manage/<int:module_id>/sections/<int:section_id>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit_section(module_id: int, section_id: int):
    module = _author_module(module_id)
    section = _draft_section(module, section_id)
    form = SectionForm(obj=section)
    if request.method == "GET":
        form.kind.data = section.kind.value
    if form.validate_on_submit():
        try:
            services.update_section(
                section, SectionKind(form.kind.data), form.title.data, form.body_markdown.data or ""
            )
        except TrainingError as exc:
            db.session.rollback()
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash("Section saved.", "success")
            return _back_to_module(module)
    return render_template(
        "training/manage/section_form.html", module=module, form=form, section=section
    ), (400 if form.errors else 200)


@bp.post("/manage/<int:module_id>/sections/<int:section_id>/delete")
@role_required(*AUTHORS)
def delete_section(module_id: int, section_id: int):
    module = _author_module(module_id)
    section = _draft_section(module, section_id)
    services.delete_section(section)
    db.session.commit()
    flash("Section deleted from the draft.", "success")
    return _back_to_module(module)


@bp.post("/manage/<int:module_id>/sections/<int:section_id>/move")
@role_required(*AUTHORS)
def move_section(module_id: int, section_id: int):
    module = _author_module(module_id)
    section = _draft_section(module, section_id)
    services.move_section(section, request.form.get("direction", ""))
    db.session.commit()
    return _back_to_module(module)


def _choice_inputs(form: QuestionForm) -> list[services.ChoiceInput]:
    return [
        services.ChoiceInput(entry.form.text.data or "", bool(entry.form.is_correct.data))
        for entry in form.choices
    ]


def _question_form(question=None) -> QuestionForm:
    form = QuestionForm(obj=None)
    if request.method == "GET" and question is not None:
        form.kind.data = question.kind.value
        form.prompt.data = question.prompt
        form.explanation.data = question.explanation
        for entry, choice in zip(form.choices, question.choices, strict=False):
            entry.form.text.data = choice.text
            entry.form.is_correct.data = choice.is_correct
    return form


def _save_question(module: TrainingModule, question=None):
    form = _question_form(question)
    if form.validate_on_submit():
        try:
            services.save_question(
                module,
                question,
                kind=QuestionKind(form.kind.data),
                prompt=form.prompt.data,
                explanation=form.explanation.data,
                choices=_choice_inputs(form),
            )
        except TrainingError as exc:
            db.session.rollback()
            _field_error(form, exc, "prompt")
        else:
            db.session.commit()
            flash("Question saved.", "success")
            return _back_to_module(module)
    return render_template(
        "training/manage/question_form.html", module=module, form=form, question=question
    ), (400 if form.errors else 200)


@bp.route("/manage/<int:module_id>/questions/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_question(module_id: int):
    module = _author_module(module_id)
    if module.draft is None:
        return error_response(409, "This module has no draft. Start a new draft to change it.")
    return _save_question(module)


def _draft_question(module: TrainingModule, question_id: int):
    try:
        return services.get_draft_question(module, question_id)
    except TrainingError as exc:
        abort(404 if exc.status == 404 else 409)


@bp.route("/manage/<int:module_id>/questions/<int:question_id>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit_question(module_id: int, question_id: int):
    module = _author_module(module_id)
    return _save_question(module, _draft_question(module, question_id))


@bp.post("/manage/<int:module_id>/questions/<int:question_id>/delete")
@role_required(*AUTHORS)
def delete_question(module_id: int, question_id: int):
    module = _author_module(module_id)
    services.delete_question(_draft_question(module, question_id))
    db.session.commit()
    flash("Question deleted from the draft.", "success")
    return _back_to_module(module)


@bp.route("/agent-changes/<int:change_id>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def agent_change(change_id: int):
    try:
        change = services.get_agent_change(change_id, current_user)
    except TrainingError as exc:
        abort(exc.status)
    modules = services.modules_of_agent(change.agent_id)
    decisions = {d.module_id: d for d in change.decisions}
    forms = {m.id: DecisionForm(prefix=f"m{m.id}", formdata=None) for m in modules}
    status = 200
    if request.method == "POST":
        module_id = request.form.get("module_id", type=int)
        module = next((m for m in modules if m.id == module_id), None)
        if module is None:
            abort(404)
        form = forms[module.id] = DecisionForm(prefix=f"m{module.id}")
        if form.validate_on_submit():
            try:
                services.decide_recertification(
                    change,
                    module,
                    needed=form.decision.data == "needed",
                    deadline=form.deadline.data,
                    by=current_user,
                )
            except TrainingError as exc:
                db.session.rollback()
                if exc.status == 409:
                    flash(exc.message, "warning")
                    return redirect(url_for("training.agent_change", change_id=change.id))
                _field_error(form, exc, "decision")
            else:
                db.session.commit()
                flash(f"Decision saved for {module.title}.", "success")
                return redirect(url_for("training.agent_change", change_id=change.id))
        status = 400
    return render_template(
        "training/manage/agent_change.html",
        change=change,
        modules=modules,
        decisions=decisions,
        forms=forms,
    ), status


# --- Managers: assignments and reports ----------------------------------------------------------------


@bp.get("/assignments")
@role_required(*ASSIGNERS)
def assignments():
    return render_template(
        "training/assignments.html",
        modules=services.available_modules(),
        rules=services.active_rules(),
        button=ButtonForm(),
        late_days=services.LATE_JOINER_DAYS,
    )


@bp.route("/modules/<int:module_id>/assign", methods=["GET", "POST"])
@role_required(*ASSIGNERS)
def assign_module(module_id: int):
    module = _available_module(module_id)
    form = AssignForm()
    form.team_ids.choices = select_choices((team.id, team.name) for team in accounts.all_teams())
    form.roles.choices = select_choices(Role.choices())
    form.user_ids.choices = select_choices(
        (p.id, f"{p.name} ({p.email})") for p in services.assignable_people()
    )
    if form.validate_on_submit():
        targets = services.AssignmentTargets(
            team_ids=form.team_ids.data or [],
            roles=[Role(r) for r in form.roles.data or []],
            user_ids=form.user_ids.data or [],
        )
        try:
            rules, created = services.assign_module(module, targets, form.due_on.data, current_user)
        except TrainingError as exc:
            db.session.rollback()
            if exc.status in (403, 404):
                abort(exc.status)
            _field_error(form, exc, "team_ids")
        else:
            db.session.commit()
            flash(
                f"Assigned to {created} {'person' if created == 1 else 'people'} "
                f"({len(rules)} {'rule' if len(rules) == 1 else 'rules'}; people who join later "
                "are assigned too).",
                "success",
            )
            return redirect(url_for("training.assignments"))
    return render_template("training/assign.html", module=module, form=form), (
        400 if form.errors else 200
    )


@bp.post("/assignment-rules/<int:rule_id>/end")
@role_required(*ASSIGNERS)
def end_rule(rule_id: int):
    rule = db.session.get(AssignmentRule, rule_id)
    if rule is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.end_rule(rule, current_user)
    except TrainingError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash("Rule ended: people who join later are no longer assigned.", "success")
    return redirect(url_for("training.assignments"))


def _period() -> tuple[PeriodForm, date | None, date | None]:
    form = PeriodForm(request.args)
    if not form.validate():
        return form, None, None
    return form, form.start.data, form.end.data


@bp.get("/reports")
@role_required(*ASSIGNERS)
def reports():
    form, start, end = _period()
    today = _today()
    return render_template(
        "training/reports.html",
        form=form,
        start=start,
        end=end,
        by_module=metrics.completion_by("module", start, end, today=today),
        by_agent=metrics.completion_by("agent", start, end, today=today),
        by_team=metrics.completion_by("team", start, end, today=today),
        overdue=metrics.overdue_people(start, end, today=today),
        missed=metrics.most_missed_questions(start, end),
        csv_kinds=exports.KINDS,
    ), (400 if form.errors else 200)


@bp.get("/reports/<kind>.csv")
@role_required(*ASSIGNERS)
def report_csv(kind: str):
    if kind not in exports.KINDS:
        abort(404)
    form, start, end = _period()
    if form.errors:
        abort(400)
    return exports.csv_response(kind, start, end, _today())

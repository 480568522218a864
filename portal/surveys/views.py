"""Survey pages: answering (everyone in a campaign's audience), results (managers and admins), and
campaign administration (admins)."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.core.web import role_required
from portal.surveys import results as survey_results
from portal.surveys import services
from portal.surveys.forms import (
    AUDIENCE_ROLES,
    ButtonForm,
    CampaignDetailsForm,
    CampaignForm,
    QuestionForm,
    RoundChoiceForm,
    answer_form_class,
    answers_from,
    choices,
    field_name,
)
from portal.surveys.models import Cadence, QuestionKind, SurveyCampaign, SurveyQuestion
from portal.surveys.services import CampaignSettings, SurveyError

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.app_template_global()
def surveys_waiting() -> list:
    """Open rounds the signed-in person has not answered yet (the home page card)."""
    if not current_user.is_authenticated:
        return []
    return services.rounds_waiting_for(current_user, utcnow())


# --- Answering ---------------------------------------------------------------------------------


@bp.get("/")
@login_required
def my_surveys():
    now = utcnow()
    return render_template(
        "surveys/my_surveys.html",
        waiting=services.rounds_waiting_for(current_user, now),
        answered=services.rounds_answered_by(current_user),
    )


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
@login_required
def answer(round_id: int):
    survey_round = services.round_for_respondent(round_id, current_user)
    if survey_round is None:
        abort(404)
    campaign = survey_round.campaign
    now = utcnow()
    form = answer_form_class(campaign)()
    page = {
        "survey_round": survey_round,
        "campaign": campaign,
        "form": form,
        "field_name": field_name,
    }

    # Answered or closed: the page says so; a POST is refused (409) without touching anything.
    refused = 409 if request.method == "POST" else 200
    if services.has_answered(survey_round, current_user):
        if request.method == "POST":
            flash(services.ALREADY_ANSWERED, "warning")
        return render_template("surveys/answer.html", **page, state="answered"), refused
    if not survey_round.is_open(now):
        return render_template("surveys/answer.html", **page, state="closed"), refused

    if form.validate_on_submit():
        try:
            services.submit_answers(survey_round, current_user, answers_from(form, campaign), now)
        except SurveyError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            flash(exc.message, "warning" if exc.status == 409 else "danger")
            state = {services.ALREADY_ANSWERED: "answered", services.ROUND_CLOSED: "closed"}
            return render_template(
                "surveys/answer.html", **page, state=state.get(exc.message, "open")
            ), exc.status
        db.session.commit()
        flash("Thank you. Your answers are recorded, without your name.", "success")
        return redirect(url_for("surveys.my_surveys"))
    status = 400 if form.errors or request.method == "POST" else 200
    return render_template("surveys/answer.html", **page, state="open"), status


# --- Results -----------------------------------------------------------------------------------


def _campaign_for_results(campaign_id: int) -> SurveyCampaign:
    campaign = db.session.get(SurveyCampaign, campaign_id)
    if campaign is None or not campaign.results_visible_to(current_user):
        abort(404)
    return campaign


def _selected_round(campaign: SurveyCampaign):
    """The closed round named in ?round=, or None for all closed rounds."""
    wanted = request.args.get("round", "all")
    if wanted == "all":
        return None
    for survey_round in campaign.rounds:
        if str(survey_round.id) == wanted and survey_round.closed_at is not None:
            return survey_round
    abort(404)


@bp.get("/results/")
@role_required("manager", "admin")
def results_index():
    return render_template(
        "surveys/results_index.html", campaigns=services.campaigns_with_results()
    )


@bp.get("/campaigns/<int:campaign_id>/results")
@role_required("manager", "admin")
def results(campaign_id: int):
    campaign = _campaign_for_results(campaign_id)
    selected = _selected_round(campaign)
    found = survey_results.campaign_results(
        campaign, selected, comment_limit=survey_results.COMMENTS_ON_PAGE
    )
    choice = RoundChoiceForm(request.args)
    choice.round.choices = choices(
        [("all", "All closed rounds")]
        + [(str(r.id), r.label) for r in reversed(found.closed_rounds)]
    )
    choice.round.data = "all" if selected is None else str(selected.id)
    return render_template(
        "surveys/results.html",
        results=found,
        choice=choice,
        fmt=survey_results,
        round_arg=request.args.get("round", "all"),
    )


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/campaigns/<int:campaign_id>/results.csv")
@role_required("manager", "admin")
def results_csv(campaign_id: int):
    campaign = _campaign_for_results(campaign_id)
    found = survey_results.campaign_results(campaign, _selected_round(campaign), None)
    return _csv_response(survey_results.figures_csv(found), f"survey-{campaign.id}-results.csv")


@bp.get("/campaigns/<int:campaign_id>/comments.csv")
@role_required("manager", "admin")
def comments_csv(campaign_id: int):
    campaign = _campaign_for_results(campaign_id)
    found = survey_results.campaign_results(campaign, _selected_round(campaign), None)
    return _csv_response(survey_results.comments_csv(found), f"survey-{campaign.id}-comments.csv")


# --- Administration ----------------------------------------------------------------------------


def _admin_campaign(campaign_id: int) -> SurveyCampaign:
    campaign = db.session.get(SurveyCampaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _fill_choices(form: CampaignForm) -> None:
    form.agents.choices = choices((agent.id, agent.name) for agent in services.surveyable_agents())
    form.teams.choices = choices((team.id, team.name) for team in services.all_teams())


def _settings_from(form: CampaignForm) -> CampaignSettings:
    agents = {agent.id: agent for agent in services.surveyable_agents()}
    teams = {team.id: team for team in services.all_teams()}
    return CampaignSettings(
        name=form.name.data or "",
        description=form.description.data or "",
        agents=[agents[i] for i in form.agents.data or [] if i in agents],
        is_for_everyone=bool(form.is_for_everyone.data),
        teams=[teams[i] for i in form.teams.data or [] if i in teams],
        roles={role for role in AUDIENCE_ROLES if role.value in (form.roles.data or [])},
        cadence=Cadence(form.cadence.data),
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        anonymity_threshold=form.anonymity_threshold.data,
    )


def _show_error(form, exc: SurveyError) -> None:
    target = getattr(form, exc.field, None) if exc.field else None
    if target is None:
        flash(exc.message, "danger")
    else:
        target.errors.append(exc.message)


@bp.get("/admin/")
@role_required("admin")
def admin_campaigns():
    return render_template("surveys/admin_campaigns.html", campaigns=services.campaigns_for_admin())


@bp.route("/admin/new", methods=["GET", "POST"])
@role_required("admin")
def new_campaign():
    form = CampaignForm()
    _fill_choices(form)
    if request.method == "GET":
        form.opens_on.data = utcnow().date()
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(_settings_from(form), current_user, utcnow().date())
        except SurveyError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(
                "Campaign saved as a draft. Add questions of your own if you like, then launch it.",
                "success",
            )
            return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))
    return render_template("surveys/campaign_form.html", form=form, campaign=None), (
        400 if form.errors or request.method == "POST" else 200
    )


def _admin_page(campaign: SurveyCampaign, status: int = 200, question_form=None):
    return render_template(
        "surveys/admin_campaign.html",
        campaign=campaign,
        question_form=question_form or QuestionForm(),
        button=ButtonForm(),
        answered_counts=services.participation_counts(campaign),
    ), status


def _refused(campaign_id: int, exc: SurveyError):
    db.session.rollback()
    flash(exc.message, "danger")
    return _admin_page(_admin_campaign(campaign_id), exc.status)


@bp.get("/admin/<int:campaign_id>")
@role_required("admin")
def admin_campaign(campaign_id: int):
    return _admin_page(_admin_campaign(campaign_id))


@bp.route("/admin/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_campaign(campaign_id: int):
    campaign = _admin_campaign(campaign_id)
    if campaign.ended_at is not None:
        flash("This campaign has ended; it can no longer be changed.", "warning")
        return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))
    if campaign.has_opened:
        # Only the details may change now; the rest is fixed (services.LOCKED_SETTINGS).
        form = CampaignDetailsForm(obj=campaign)
    else:
        form = CampaignForm(obj=campaign)
        _fill_choices(form)
        if request.method == "GET":
            form.agents.data = [agent.id for agent in campaign.agents]
            form.teams.data = [team.id for team in campaign.audience_teams]
            form.roles.data = [role.value for role in campaign.audience_roles]
            form.cadence.data = campaign.cadence.value
    if form.validate_on_submit():
        if campaign.has_opened:
            settings = CampaignSettings.of(campaign)
            settings.name = form.name.data or ""
            settings.description = form.description.data or ""
            settings.closes_on = form.closes_on.data
        else:
            settings = _settings_from(form)
        try:
            services.update_campaign(campaign, settings, utcnow().date())
        except SurveyError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash("Campaign saved.", "success")
            return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))
    return render_template("surveys/campaign_form.html", form=form, campaign=campaign), (
        400 if form.errors or request.method == "POST" else 200
    )


@bp.post("/admin/<int:campaign_id>/questions")
@role_required("admin")
def add_question(campaign_id: int):
    campaign = _admin_campaign(campaign_id)
    form = QuestionForm()
    status = 400
    if form.validate_on_submit():
        try:
            services.add_question(campaign, QuestionKind(form.kind.data), form.prompt.data)
        except SurveyError as exc:
            db.session.rollback()
            _show_error(form, exc)
            status = exc.status
        else:
            db.session.commit()
            flash("Question added.", "success")
            return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))
    return _admin_page(_admin_campaign(campaign_id), status, question_form=form)


@bp.post("/admin/<int:campaign_id>/questions/<int:question_id>/delete")
@role_required("admin")
def delete_question(campaign_id: int, question_id: int):
    campaign = _admin_campaign(campaign_id)
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.campaign_id != campaign.id:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.remove_question(campaign, question)
    except SurveyError as exc:
        return _refused(campaign_id, exc)
    db.session.commit()
    flash("Question removed.", "success")
    return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))


@bp.post("/admin/<int:campaign_id>/launch")
@role_required("admin")
def launch_campaign(campaign_id: int):
    campaign = _admin_campaign(campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        opened = services.launch_campaign(campaign, utcnow())
    except SurveyError as exc:
        return _refused(campaign_id, exc)
    db.session.commit()
    if opened is not None:
        flash(
            f"Campaign launched. {opened.label} is open and {opened.audience_size} "
            "people have been told.",
            "success",
        )
    else:
        flash(
            f"Campaign launched. Its first round opens on {campaign.opens_on:%d %B %Y}.",
            "success",
        )
    return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))


@bp.post("/admin/<int:campaign_id>/end")
@role_required("admin")
def end_campaign(campaign_id: int):
    campaign = _admin_campaign(campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.end_campaign(campaign, utcnow())
    except SurveyError as exc:
        return _refused(campaign_id, exc)
    db.session.commit()
    flash("Campaign ended. Its last round is closed and its results are final.", "success")
    return redirect(url_for("surveys.admin_campaign", campaign_id=campaign.id))

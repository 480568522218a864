"""Administration of people and teams (admins only): the people list, accounts, links, CSV onboarding."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from portal.accounts import onboarding, services
from portal.accounts.forms import ImportPeopleForm, PeopleFilterForm, PersonForm, TeamForm
from portal.accounts.models import Role, Team, User
from portal.core.db import db
from portal.core.web import role_required

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _person_or_404(user_id: int) -> User:
    return services.get_user(user_id) or abort(404)


def _team_or_404(team_id: int) -> Team:
    return services.get_team(team_id) or abort(404)


def _chosen_team(form: PersonForm) -> Team | None:
    return services.get_team(form.chosen_team_id) if form.chosen_team_id else None


def _show_error(form, error: services.AccountError) -> None:
    target = getattr(form, error.field or "", None)
    if target is not None and hasattr(target, "errors"):
        target.errors.append(str(error))
    else:
        form.form_errors.append(str(error))


def _unique_clash(field: str) -> services.AccountError:
    """Another admin saved the same email or team name a moment ago: the unique index decided."""
    db.session.rollback()
    if field == "email":
        return services.AccountError("An account with this email already exists.", field)
    return services.AccountError("A team with this name already exists.", field)


# --- people ---------------------------------------------------------------------------------


@admin_bp.get("/users")
@role_required("admin")
def users():
    filters = PeopleFilterForm(request.args)
    wanted = filters.people_filter()
    page = request.args.get("page", 1, type=int) or 1
    result = services.search_people(wanted, page=page)
    # Links keep the filters; the status tabs and pages change one value each.
    kept = {key: value for key, value in request.args.items() if key in ("q", "role", "team")}
    return render_template(
        "admin/users.html",
        filters=filters,
        wanted=wanted,
        result=result,
        kept=kept,
        is_filtered=bool(wanted.query.strip() or wanted.role or wanted.team_id is not None),
    )


@admin_bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    form = PersonForm(data={"roles": ["reporter"]} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            issued = services.invite_user(
                form.email.data,
                form.name.data,
                form.chosen_roles,
                _chosen_team(form),
                by=current_user,
            )
        except services.AccountError as exc:
            _show_error(form, exc)
        except IntegrityError:
            _show_error(form, _unique_clash("email"))
        else:
            db.session.commit()
            emailed = services.email_set_password_link(issued, new_account=True)
            return _link_page(issued, emailed, new_account=True)
    return render_template("admin/user_new.html", form=form), 400 if form.errors else 200


def _render_person(user: User, form: PersonForm, problem: str | None = None, status: int = 200):
    return render_template(
        "admin/user_edit.html",
        person=user,
        form=form,
        problem=problem,
        link_expires=services.usable_link_expiry(user),
    ), status


def _person_form(user: User) -> PersonForm:
    return PersonForm(
        formdata=None,
        data={
            "email": user.email,
            "name": user.name,
            "team": str(user.team_id) if user.team_id else "",
            "roles": sorted(role.value for role in user.assigned_roles),
        },
    )


@admin_bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int):
    user = _person_or_404(user_id)
    if request.method == "GET":
        return _render_person(user, _person_form(user))
    form = PersonForm()
    if form.validate_on_submit():
        try:
            services.update_user(
                user, form.email.data, form.name.data, form.chosen_roles, _chosen_team(form)
            )
        except services.AccountError as exc:
            db.session.rollback()
            _show_error(form, exc)
        except IntegrityError:
            _show_error(form, _unique_clash("email"))
        else:
            db.session.commit()
            if not current_user.is_admin:
                flash("You gave up the admin role, so the administration pages are closed to you.")
                return redirect(url_for("home.index"))
            flash(f"Saved the changes to {user.name}.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return _render_person(user, form, status=400)


def _account_action(user: User, action, success: str):
    """Run a deactivate/reactivate rule; on refusal show the person's page with the reason."""
    try:
        action()
    except services.AccountError as exc:
        db.session.rollback()
        return _render_person(user, _person_form(user), problem=str(exc), status=400)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@admin_bp.post("/users/<int:user_id>/deactivate")
@role_required("admin")
def deactivate_user(user_id: int):
    user = _person_or_404(user_id)
    return _account_action(
        user,
        lambda: services.deactivate_user(user, by=current_user),
        f"{user.name} is deactivated and signed out everywhere.",
    )


@admin_bp.post("/users/<int:user_id>/reactivate")
@role_required("admin")
def reactivate_user(user_id: int):
    user = _person_or_404(user_id)
    return _account_action(
        user,
        lambda: services.reactivate_user(user),
        f"{user.name} is active again and can sign in.",
    )


@admin_bp.post("/users/<int:user_id>/set-password-link")
@role_required("admin")
def send_set_password_link(user_id: int):
    user = _person_or_404(user_id)
    if not user.is_active_account:
        return _render_person(
            user,
            _person_form(user),
            problem=f"{user.name} is deactivated. Reactivate the account before sending a link.",
            status=400,
        )
    issued = services.issue_set_password_link(user, by=current_user)
    db.session.commit()
    emailed = services.email_set_password_link(issued, new_account=False)
    return _link_page(issued, emailed, new_account=False)


# Pages that show set-password links are never stored by a cache: the link is as good as a password.
NO_STORE = {"Cache-Control": "no-store"}


def _link_page(issued: services.IssuedLink, emailed: bool, new_account: bool):
    page = render_template(
        "admin/link_issued.html", issued=issued, emailed=emailed, new_account=new_account
    )
    return page, 200, NO_STORE


# --- bulk onboarding ------------------------------------------------------------------------


@admin_bp.route("/users/import", methods=["GET", "POST"])
@role_required("admin")
def import_users():
    # Refuse big uploads before they are buffered; the message goes beside the file field.
    request.max_content_length = onboarding.MAX_FILE_BYTES + 64 * 1024
    try:
        form = ImportPeopleForm()
    except RequestEntityTooLarge:
        form = ImportPeopleForm(formdata=None)
        form.file.errors = [f"The file is larger than {onboarding.MAX_FILE_BYTES // 2**20} MB."]
        return _import_page(form)
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows, problems = onboarding.read_people_csv(
                upload.filename or "", upload.read(onboarding.MAX_FILE_BYTES + 1)
            )
        except onboarding.ImportFileError as exc:
            form.file.errors.append(str(exc))
        else:
            result = onboarding.import_people(rows, problems, by=current_user)
            db.session.commit()
            onboarding.email_links(result)
            status = 400 if result.problems and not result.created else 200
            return render_template("admin/import_result.html", result=result), status, NO_STORE
    return _import_page(form)


def _import_page(form: ImportPeopleForm):
    return render_template("admin/import.html", form=form, roles=Role.choices()), (
        400 if form.errors else 200
    )


@admin_bp.get("/users/import/template.csv")
@role_required("admin")
def import_template():
    return Response(
        onboarding.TEMPLATE_CSV,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="people-template.csv"'},
    )


# --- teams ----------------------------------------------------------------------------------


@admin_bp.get("/teams")
@role_required("admin")
def teams():
    summaries, without_team = services.team_overview()
    return render_template("admin/teams.html", summaries=summaries, without_team=without_team)


@admin_bp.route("/teams/new", methods=["GET", "POST"])
@role_required("admin")
def new_team():
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = services.create_team(form.name.data, form.description.data or "")
        except services.AccountError as exc:
            _show_error(form, exc)
        except IntegrityError:
            _show_error(form, _unique_clash("name"))
        else:
            db.session.commit()
            flash(f"Team {team.name} created.", "success")
            return redirect(url_for("admin.team", team_id=team.id))
    return render_template("admin/team_form.html", form=form, team=None), (
        400 if form.errors else 200
    )


@admin_bp.get("/teams/<int:team_id>")
@role_required("admin")
def team(team_id: int):
    team = _team_or_404(team_id)
    return render_template("admin/team.html", team=team, members=services.team_members(team))


@admin_bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_team(team_id: int):
    team = _team_or_404(team_id)
    form = TeamForm(obj=team) if request.method == "GET" else TeamForm()
    if form.validate_on_submit():
        try:
            services.update_team(team, form.name.data, form.description.data or "")
        except services.AccountError as exc:
            db.session.rollback()
            _show_error(form, exc)
        except IntegrityError:
            _show_error(form, _unique_clash("name"))
        else:
            db.session.commit()
            flash(f"Team {team.name} saved.", "success")
            return redirect(url_for("admin.team", team_id=team.id))
    return render_template("admin/team_form.html", form=form, team=team), (
        400 if form.errors else 200
    )

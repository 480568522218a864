"""A person's own data (download), and anonymising a departed person (admins)."""

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.core.db import db
from portal.core.web import role_required
from portal.maintenance import personal_data
from portal.maintenance.forms import AnonymiseForm

bp = Blueprint("maintenance", __name__)


@bp.app_template_global()
def is_anonymised(user: User) -> bool:
    return personal_data.is_anonymised(user)


@bp.get("/account/my-data.json")
@login_required
def my_data():
    body = json.dumps(personal_data.personal_data(current_user), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-portal-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _person_or_404(user_id: int) -> User:
    return accounts.get_user(user_id) or abort(404)


@bp.route("/admin/users/<int:user_id>/anonymise", methods=["GET", "POST"])
@role_required("admin")
def anonymise_person(user_id: int):
    person = _person_or_404(user_id)
    form = AnonymiseForm()
    problem = None
    if form.validate_on_submit():
        try:
            personal_data.anonymise_person(person, by=current_user)
        except personal_data.AnonymiseError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            db.session.commit()
            flash(
                f"The person is anonymised and shown as {person.name} from now on. "
                "Their reports and history are kept.",
                "success",
            )
            return redirect(url_for("admin.edit_user", user_id=person.id))
    status = 400 if form.errors else (409 if problem else 200)
    return render_template(
        "maintenance/anonymise.html", person=person, form=form, problem=problem
    ), status

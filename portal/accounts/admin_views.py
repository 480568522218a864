"""Administration of people and teams (admins only)."""

import sqlalchemy as sa
from flask import Blueprint, render_template

from portal.accounts.models import User
from portal.core.db import db
from portal.core.web import role_required

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@admin_bp.get("/users")
@role_required("admin")
def users():
    people = db.session.scalars(sa.select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=people)

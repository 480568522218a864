"""The agent directory (everyone signed in) and the registry (admins and owners)."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import login_required

from portal.agents.models import Agent
from portal.core.db import db

bp = Blueprint("agents", __name__, url_prefix="/agents")


@bp.get("/")
@login_required
def directory():
    agents = db.session.scalars(sa.select(Agent).order_by(Agent.name)).all()
    return render_template("agents/directory.html", agents=agents)

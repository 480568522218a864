"""The notifications page and the bell in the navigation bar."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.db import db
from portal.core.fragments import layout_state, layout_value
from portal.notifications import services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 30
MAX_PAGE = 10_000


layout_state("unread_notifications", services.unread_count_query)


@bp.app_template_global()
def unread_notification_count() -> int:
    """For the bell: one COUNT on an index, only for signed-in people, read with the person on a
    GET (portal.core.fragments.draws_layout); its own statement otherwise (a form shown again)."""
    if not current_user.is_authenticated:
        return 0
    known = layout_value("unread_notifications")
    return known if known is not None else services.unread_count(current_user)


@bp.get("/")
@login_required
def index():
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    notes = db.paginate(
        services.notifications_for(current_user), page=page, per_page=PER_PAGE, error_out=False
    )
    unread = unread_notification_count()  # the bell's count, read with the person
    return render_template("notifications/index.html", notes=notes, unread=unread)


@bp.post("/read-all")
@login_required
def mark_all_read():
    services.mark_all_read(current_user)
    db.session.commit()
    flash("All notifications are marked as read.", "success")
    return redirect(url_for("notifications.index"))

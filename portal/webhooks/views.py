"""Webhook endpoints (admins only): register, edit, the delivery log, pause and resume."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.core.db import db
from portal.core.web import role_required
from portal.webhooks import services
from portal.webhooks.forms import EndpointForm, NewEndpointForm
from portal.webhooks.models import EventKind, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

# A page that shows a signing secret must not be kept by any cache.
NO_STORE = {"Cache-Control": "no-store"}


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    return services.get_endpoint(endpoint_id) or abort(404)


def _show_error(form, error: services.WebhookError) -> None:
    target = getattr(form, error.field or "", None)
    if target is not None and hasattr(target, "errors"):
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(str(error))
    else:
        form.form_errors.append(str(error))


@bp.get("")
@role_required("admin")
def index():
    return render_template("webhooks/index.html", summaries=services.endpoint_overview())


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin")
def new_endpoint():
    form = NewEndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = services.create_endpoint(
                form.name.data, form.url.data, form.events.data, current_user, form.secret.data
            )
        except services.WebhookError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            return _secret_page(endpoint, new=True)
    return render_template("webhooks/form.html", form=form, endpoint=None), (
        400 if form.errors or form.form_errors else 200
    )


def _secret_page(endpoint: WebhookEndpoint, new: bool):
    page = render_template("webhooks/secret.html", endpoint=endpoint, new=new)
    return page, 200, NO_STORE


def _endpoint_page(found: WebhookEndpoint, problem: str | None = None, status: int = 200):
    return render_template(
        "webhooks/endpoint.html",
        endpoint=found,
        attempts=services.delivery_log(found),
        waiting=services.waiting_count(found),
        kinds=list(EventKind),
        problem=problem,
    ), status


@bp.get("/<int:endpoint_id>")
@role_required("admin")
def endpoint(endpoint_id: int):
    return _endpoint_page(_endpoint_or_404(endpoint_id))


@bp.route("/<int:endpoint_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_endpoint(endpoint_id: int):
    found = _endpoint_or_404(endpoint_id)
    if request.method == "GET":
        form = EndpointForm(
            formdata=None, data={"name": found.name, "url": found.url, "events": found.events}
        )
    else:
        form = EndpointForm()
    if form.validate_on_submit():
        try:
            services.update_endpoint(found, form.name.data, form.url.data, form.events.data)
        except services.WebhookError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Saved the changes to {found.name}.", "success")
            return redirect(url_for("webhooks.endpoint", endpoint_id=found.id))
    return render_template("webhooks/form.html", form=form, endpoint=found), (
        400 if form.errors or form.form_errors else 200
    )


def _endpoint_action(found: WebhookEndpoint, action, success: str):
    """Run a pause/resume rule; on refusal show the endpoint's page with the reason."""
    try:
        action()
    except services.WebhookError as exc:
        db.session.rollback()
        return _endpoint_page(found, problem=str(exc), status=409)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=found.id))


@bp.post("/<int:endpoint_id>/pause")
@role_required("admin")
def pause_endpoint(endpoint_id: int):
    found = _endpoint_or_404(endpoint_id)
    return _endpoint_action(
        found,
        lambda: services.pause_endpoint(found, f"Paused by {current_user.name}."),
        f"{found.name} is paused. Its events are kept until you resume it.",
    )


@bp.post("/<int:endpoint_id>/resume")
@role_required("admin")
def resume_endpoint(endpoint_id: int):
    found = _endpoint_or_404(endpoint_id)
    return _endpoint_action(
        found,
        lambda: services.resume_endpoint(found),
        f"{found.name} is active again: waiting events go out at the next sweep.",
    )


@bp.post("/<int:endpoint_id>/rotate-secret")
@role_required("admin")
def rotate_secret(endpoint_id: int):
    found = _endpoint_or_404(endpoint_id)
    services.rotate_secret(found)
    db.session.commit()
    return _secret_page(found, new=False)


@bp.post("/<int:endpoint_id>/delete")
@role_required("admin")
def delete_endpoint(endpoint_id: int):
    found = _endpoint_or_404(endpoint_id)
    name = found.name
    services.delete_endpoint(found)
    db.session.commit()
    flash(f"The endpoint {name} is removed, with its queue and delivery log.", "success")
    return redirect(url_for("webhooks.index"))

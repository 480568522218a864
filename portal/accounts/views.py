"""Signing in and out, one's own account, and set-password links."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import services, tokens
from portal.accounts.admin_views import admin_bp
from portal.accounts.forms import (
    ApiTokenForm,
    ChangeEmailForm,
    ChangePasswordForm,
    LoginForm,
    SetPasswordForm,
)
from portal.core.db import db
from portal.core.limits import limiter, set_password_link_key, submitted_email
from portal.core.security import is_safe_next
from portal.core.web import login_manager

bp = Blueprint("accounts", __name__)

__all__ = ["admin_bp", "bp"]


@login_manager.user_loader
def _load_user(session_key: str):
    return services.load_session_user(session_key)


def _sign_in(user) -> None:
    services.start_session(user, request.headers.get("User-Agent", ""))
    db.session.commit()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], key_func=submitted_email)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        if user is None:
            form.password.errors.append("That email and password do not match an active account.")
        else:
            _sign_in(user)
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("home.index"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    services.end_session(current_user.session_key)
    db.session.commit()
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "new_password").errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                "Your password is changed. Other browsers you were signed in on are signed out.",
                "success",
            )
            return redirect(url_for("accounts.account"))
    return _account_page(form, status=400 if form.errors else 200)


@bp.post("/account/email")
@login_required
@limiter.limit("10 per minute", key_func=lambda: f"email-change:{current_user.get_id()}")
def change_email():
    email_form = ChangeEmailForm()
    if email_form.validate_on_submit():
        try:
            old_email = services.change_email(
                current_user, email_form.email_password.data, email_form.new_email.data
            )
        except services.AccountError as exc:
            field = {"current_password": "email_password"}.get(exc.field or "", "new_email")
            getattr(email_form, field).errors.append(str(exc))
        else:
            db.session.commit()
            services.email_change_notice(current_user, old_email)
            flash(
                f"You now sign in with {current_user.email}. "
                "Other browsers you were signed in on are signed out.",
                "success",
            )
            return redirect(url_for("accounts.account"))
    return _account_page(ChangePasswordForm(formdata=None), email_form=email_form, status=400)


def _account_page(
    form: ChangePasswordForm,
    token_form: ApiTokenForm | None = None,
    new_token: str | None = None,
    status: int = 200,
    email_form: ChangeEmailForm | None = None,
):
    page = render_template(
        "accounts/account.html",
        form=form,
        email_form=email_form or ChangeEmailForm(formdata=None),
        token_form=token_form or ApiTokenForm(formdata=None),
        api_tokens=tokens.active_tokens(current_user),
        new_token=new_token,
    )
    # A page showing a new token must not be kept by any cache.
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/account/tokens")
@login_required
def create_token():
    token_form = ApiTokenForm()
    if token_form.validate_on_submit():
        try:
            issued = tokens.issue_token(current_user, token_form.token_name.data)
        except services.AccountError as exc:
            token_form.token_name.errors.append(str(exc))
        else:
            db.session.commit()
            # Shown in this response only: never flashed (the session cookie is not secret storage).
            return _account_page(ChangePasswordForm(formdata=None), new_token=issued.token)
    return _account_page(ChangePasswordForm(formdata=None), token_form, status=400)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = tokens.find_own_token(current_user, token_id)
    if token is None:
        abort(404)
    tokens.revoke_token(token)
    db.session.commit()
    flash(f"The token '{token.name}' is revoked: nothing can use it any more.", "success")
    return redirect(url_for("accounts.account") + "#api-tokens")


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@limiter.limit("60 per minute")  # guessing links from one address
@limiter.limit("5 per minute; 20 per hour", methods=["POST"], key_func=set_password_link_key)
def set_password(token: str):
    link = services.find_usable_link(token)
    if link is None:
        return render_template("accounts/link_expired.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.use_set_password_link(link, form.new_password.data)
        except services.AccountError as exc:
            form.new_password.errors.append(str(exc))
        else:
            if current_user.is_authenticated:
                logout_user()
            _sign_in(user)
            flash("Your password is set. Welcome to the portal.", "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/set_password.html", form=form, person=link.user), (
        400 if form.errors else 200
    )

"""Signing in and out, one's own account, and set-password links."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import services
from portal.accounts.admin_views import admin_bp
from portal.accounts.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from portal.core.db import db
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
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
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
    return render_template("accounts/account.html", form=form), 400 if form.errors else 200


@bp.route("/set-password/<token>", methods=["GET", "POST"])
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

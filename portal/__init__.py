"""The Agent Adoption Portal: the human side of carrying AI agents from pilot into production."""

import logging
from pathlib import Path

from flask import Flask

from portal import config as portal_config
from portal.core.db import configure_sqlite, db, migrate, ping_when_idle


def create_app(config: dict | None = None) -> Flask:
    """Build the application. `config` overrides what the environment says (tests use it).

    `config["INSTANCE_PATH"]` (absolute) moves the instance folder, where the secret key is kept.
    """
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=(config or {}).get("INSTANCE_PATH"),
        instance_relative_config=True,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.from_mapping(portal_config.DEFAULTS)
    app.config.from_mapping(portal_config.from_environment(Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"), compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        ping_when_idle(db.engine, app.config["DB_PING_AFTER"])

    from portal.core import web

    web.init_app(app)

    from portal.accounts import views as accounts_views
    from portal.agents import views as agents_views
    from portal.home import views as home_views

    app.register_blueprint(home_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(accounts_views.admin_bp)
    app.register_blueprint(agents_views.bp)

    from portal.feedback import views as feedback_views

    app.register_blueprint(feedback_views.bp)

    from portal.api import views as api_views
    from portal.notifications import views as notifications_views

    app.register_blueprint(notifications_views.bp)
    # Modules that add routes to the API blueprint: imported before it is registered.
    from portal.api import metrics as _api_metrics  # noqa: F401

    app.register_blueprint(api_views.bp)

    from portal.api import docs as api_docs

    app.register_blueprint(api_docs.bp)

    from portal.training import views as training_views

    app.register_blueprint(training_views.bp)

    from portal.surveys import views as surveys_views

    app.register_blueprint(surveys_views.bp)

    from portal.dashboards import views as dashboards_views
    from portal.governance import views as governance_views

    app.register_blueprint(dashboards_views.bp)
    app.register_blueprint(governance_views.bp)

    # Webhooks connect their outbox receivers to the domain services' signals on import.
    from portal.maintenance import views as maintenance_views
    from portal.webhooks import views as webhooks_views

    app.register_blueprint(webhooks_views.bp)
    app.register_blueprint(maintenance_views.bp)

    from portal import navigation
    from portal.cli import portal_cli

    navigation.init_app(app)

    app.cli.add_command(portal_cli)
    return app

"""The Alembic migrations build the schema the models describe, and can be undone, on both databases."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

import portal.models  # noqa: F401 - every model on the metadata, as Alembic sees it
from portal.core.db import db
from portal.core.web import migration_heads


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _current_revisions() -> set[str]:
    return set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))


def _schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_downgrade_and_upgrade_again(empty_database_url, make_app):
    app = make_app(empty_database_url)
    with app.app_context():
        assert _tables() == set()

        upgrade()
        model_tables = {table.name for table in db.metadata.sorted_tables}
        assert _tables() == model_tables | {"alembic_version"}
        assert _current_revisions() == migration_heads()
        db.session.remove()

        downgrade(revision="base")
        assert _tables() == {"alembic_version"}
        assert _current_revisions() == set()
        db.session.remove()

        upgrade()
        assert _tables() == model_tables | {"alembic_version"}
        assert _current_revisions() == migration_heads()


def test_models_and_migrations_agree(empty_database_url, make_app):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        differences = _schema_differences()
    assert differences == [], (
        "the models differ from the migrations; generate a migration "
        "(flask --app wsgi db migrate -m ...) for:\n" + "\n".join(map(str, differences))
    )


def test_there_is_exactly_one_migration_head(make_app, sqlite_file_url):
    app = make_app(sqlite_file_url)
    with app.app_context():
        heads = migration_heads()
    assert len(heads) == 1, f"migrations have several heads {heads}; re-point a down_revision"

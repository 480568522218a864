"""The production app (`wsgi:app`) as the benchmark serves it: `gunicorn bench.serve:app`.

With PORTAL_BENCH_SQL_COUNT=1 every response carries `X-SQL-Statements`, the number of SQL
statements the request ran. Off by default, so the measured app is the production app.
"""

import os

import sqlalchemy as sa
from flask import g, has_request_context

from portal.core.db import db
from wsgi import app

SQL_COUNT_HEADER = "X-SQL-Statements"


def count_sql_statements(flask_app) -> None:
    """Count each request's statements (sync workers: one request per process at a time)."""
    with flask_app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if has_request_context():
            g.sql_statements = g.get("sql_statements", 0) + 1

    @flask_app.after_request
    def _header(response):
        response.headers[SQL_COUNT_HEADER] = str(g.get("sql_statements", 0))
        return response


if os.environ.get("PORTAL_BENCH_SQL_COUNT") == "1":
    count_sql_statements(app)

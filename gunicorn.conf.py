"""Production server settings (`make serve`); override any of them on the gunicorn command line."""

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("PORTAL_WORKERS", "4"))
threads = int(os.environ.get("PORTAL_THREADS", "1"))
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
max_requests = 5000
max_requests_jitter = 500

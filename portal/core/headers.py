"""Security headers on every response, and cache headers for static files."""

from flask import Flask, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # Plotly and Bootstrap set inline styles from script; no inline *scripts* are allowed.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
STATIC_MAX_AGE = 7 * 24 * 3600
# Directives every policy carries, also a stricter one a view sets itself (attachments): they do
# not fall back to default-src, so a policy without them would allow plugins, <base> and framing.
ALWAYS = {"object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'"}


def with_required_directives(policy: str) -> str:
    """`policy` plus any of the ALWAYS directives it does not name."""
    named = {part.strip().split(" ")[0] for part in policy.split(";") if part.strip()}
    missing = [f"{name} {value}" for name, value in ALWAYS.items() if name not in named]
    return "; ".join([policy.rstrip("; "), *missing]) if missing else policy


def add_security_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = with_required_directives(
        headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint == "static":
        headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    elif "Cache-Control" not in headers:
        # Pages carry personal data: browsers may keep them for Back, shared caches may not.
        headers["Cache-Control"] = "private, no-cache"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)

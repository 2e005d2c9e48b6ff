"""The web UI: one HTML page at `/` and its static files (the bundle esbuild builds from ui/ at
set-up into api/ui/static/dist). The page and its files load without a token; every call the page
makes to /api/v1 sends the token the user logged in for."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

STATIC = Path(__file__).parent / "static"
BUNDLE = STATIC / "dist" / "app.js"
#: The UI's endpoints, public: the page shows a login form before any token exists.
PUBLIC = frozenset({"ui.index", "ui.static", "ui.favicon"})
#: Scripts and styles come from this server only (no CDN); Cytoscape sets element styles inline.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Calipso</title></head>
<body><main><h1>Calipso</h1><p>The web UI is not built. Run <code>make bootstrap</code> (it runs
<code>npm ci</code> and esbuild in <code>ui/</code>), then reload. The REST API is at
<a href="/api/v1/docs">/api/v1/docs</a>.</p></main></body></html>"""

ui = Blueprint("ui", __name__, static_folder=str(STATIC), static_url_path="/ui")


@ui.route("/")
def index() -> Response:
    """The single page; its views are addressed by the URL's fragment (#/env/NAME/focal/ID ...)."""
    if not BUNDLE.exists():
        return Response(NOT_BUILT, status=503, mimetype="text/html", headers=SECURITY_HEADERS)
    response = send_from_directory(STATIC, "index.html", max_age=0)
    response.headers.update(SECURITY_HEADERS)
    return response


@ui.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it whatever the page says; without this route the answer would be a 401."""
    return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@ui.after_request
def harden(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.debug:
        response.headers["Cache-Control"] = "no-store"
    return response

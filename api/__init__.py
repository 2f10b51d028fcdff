"""The report API (CONTRACT §5): a Flask application factory.

``flask --app api run`` / ``gunicorn 'api:create_app()'`` serve it; the
operator commands are ``flask --app api keys ...`` and ``flask --app api db ...``.
Configuration comes from the environment (see ``api.config``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from api import cli, db, errors, members, openapi, page, reports, websession
from api.config import config_from_env
from api.jsonenc import ExactJSONProvider


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides what the environment gives."""
    app = Flask(__name__, static_folder=None)  # the page blueprint brings its own
    app.json = ExactJSONProvider(app)
    app.config.from_mapping(config_from_env(os.environ))
    # No implicit OPTIONS answer (an empty 200 text/html, no CORS): every route takes the
    # methods it lists, and OPTIONS is a 405 with Allow like any other method.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    # A path with a doubled slash inside is not one of ours: the JSON 404 of any unknown path,
    # not Werkzeug's HTML 308 to the merged path. (Werkzeug reads slashes that open a path,
    # //api/..., as one: that path is served as /api/....)
    app.url_map.merge_slashes = False
    # The only bodies the app reads are the page's sign-in and sign-out forms (a token and a
    # key, well under 1 kB): a larger body is a 413 before it is read, not a worker's memory.
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    if config:
        app.config.from_mapping(config)
    websession.check_given_secret(app)  # a short SECRET_KEY stops start-up, not every page view

    db.init_app(app)
    errors.register_error_handlers(app)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(page.bp)  # the Detailed Reports page, /w/<workspace_id>/settings/billing
    cli.register_commands(app)

    @app.after_request
    def _common_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app

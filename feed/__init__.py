"""feed: publish a recurring community meeting as a subscribable iCalendar feed."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app. Settings come from defaults, then FEED_* environment variables
    (e.g. FEED_SCHEDULE=/srv/schedule.yaml, FEED_MAX_AGE=3600), then test_config."""
    # Imported here, not at the top: `feed.release` runs in a process of its own for every
    # published version and needs none of the web side.
    from flask import Flask

    from . import api, feeds, pages, publish, web

    app = Flask(__name__)
    app.config.from_mapping(
        SCHEDULE=str(web.BUNDLED_SCHEDULE),
        STAMPS=None,  # default: schedule.stamps.json beside the schedule
        WRITE_STAMPS=True,  # False for read-only deployments (never write the stamps file)
        STATE_DIR=None,  # the store of published versions; default: feed.store.default_root
        SETTLE_SECONDS=1.0,  # a changed file must be still this long before it is read
        CHECK_INTERVAL=1.0,  # look at the files this often; 0: on every request (tests)
        HEALTH_DETAILS=False,  # /healthz with file paths, keys and values (see feed.health)
        RELEASE_IN_CHILD_ABOVE=128 * 1024,  # bytes: larger schedules render in a child process
        MAX_AGE=3600,  # Cache-Control max-age for feeds, in seconds
        STALE_WHILE_REVALIDATE=86400,
        GZIP=True,  # some calendar clients have failed on compressed feeds: allow turning off
    )
    app.config.from_prefixed_env("FEED")
    if test_config:
        app.config.update(test_config)
    for name in ("MAX_AGE", "STALE_WHILE_REVALIDATE", "SETTLE_SECONDS", "CHECK_INTERVAL"):
        # Fail at start with the setting's name, not with a 500 on every request.
        try:
            if float(app.config[name]) < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(
                f"FEED_{name}={app.config[name]!r} is not a number of seconds (0 or more)"
            ) from None
    app.config["GZIP"] = web.flag(app.config["GZIP"])  # read on every feed request
    app.extensions["feed.publisher"] = publish.Publisher(
        app.config["SCHEDULE"],
        stamps_path=app.config["STAMPS"],
        settle=float(app.config["SETTLE_SECONDS"]),
        interval=float(app.config["CHECK_INTERVAL"]),
        write_stamps=web.flag(app.config["WRITE_STAMPS"]),
        state_dir=app.config["STATE_DIR"] or None,
        child_above=int(app.config["RELEASE_IN_CHILD_ABOVE"]),
    )
    for blueprint in (web.bp, feeds.bp, api.bp, pages.bp):
        app.register_blueprint(blueprint)
    app.after_request(web.security_headers)
    app.wsgi_app = feeds.FeedFastPath(app, app.wsgi_app)
    return app


__all__ = ["create_app"]

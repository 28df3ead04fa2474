"""feed: publish a recurring community meeting as a subscribable iCalendar feed."""

from flask import Flask

from . import api, feeds, pages, publish, web


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app. Settings come from defaults, then FEED_* environment variables
    (e.g. FEED_SCHEDULE=/srv/schedule.yaml, FEED_MAX_AGE=3600), then test_config."""
    app = Flask(__name__)
    app.config.from_mapping(
        SCHEDULE=str(web.BUNDLED_SCHEDULE),
        STAMPS=None,  # default: schedule.stamps.json beside the schedule
        WRITE_STAMPS=True,  # False for read-only deployments (stamps are kept in memory)
        SETTLE_SECONDS=1.0,  # a changed file must be still this long before it is read
        CHECK_INTERVAL=1.0,  # look at the file at most this often
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
    )
    for blueprint in (web.bp, feeds.bp, api.bp, pages.bp):
        app.register_blueprint(blueprint)
    app.after_request(web.security_headers)
    app.wsgi_app = feeds.FeedFastPath(app, app.wsgi_app)
    return app


__all__ = ["create_app"]

"""Production settings for gunicorn, read from ./gunicorn.conf.py when run from the repository.

Run: ``gunicorn`` (this file names the app), or ``PORT=8080 gunicorn`` on a platform that sets
PORT. Command-line options override anything here. Every feed is rendered once per schedule
version and served from memory, so a request costs a dictionary lookup and a socket write:
the settings below are about many idle, polling clients, not heavy requests.
"""

import os

# The app object: wsgi.py builds it with create_app(), configured by FEED_* variables.
wsgi_app = "wsgi:app"

# Platforms (Heroku, Cloud Run, Fly) announce the port in $PORT and expect every interface.
# Without it, listen on loopback only: the public side belongs to nginx or a CDN in front.
bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"


def _cpus() -> int:
    """CPUs this process may use (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Requests never block on I/O beyond the socket, so one process per CPU keeps every CPU busy;
# each worker holds its own rendered copy (a few hundred kB). WEB_CONCURRENCY overrides it, as
# gunicorn itself would read it without this file.
workers = int(os.environ.get("WEB_CONCURRENCY", _cpus()))

# Threads (the gthread worker) let one process overlap slow clients: a phone on a bad network
# reading a feed, or keep-alive connections from the proxy, must not hold a whole process.
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"

# Load the app (and validate and render the schedule) once in the master before forking:
# workers start with the rendered bytes in copy-on-write memory, and a broken checkout fails
# at start instead of in a crash-looping worker. Each worker still reloads schedule.yaml by
# itself when it changes.
preload_app = True

# No request does real work, so 30 s only catches a stuck worker (the heartbeat runs in the
# gthread main loop; a reload of a big schedule takes well under a second).
timeout = 30
# Let in-flight responses finish on deploy/restart (SIGTERM) before the worker is killed.
graceful_timeout = 20
# Keep idle connections from a reverse proxy or CDN open a little longer than the default
# 2 s, so revalidation bursts reuse them; nginx must use a shorter upstream keepalive_timeout.
keepalive = 5

# One access log line per request on stdout (the platform or journald collects it). It keeps
# the client's If-None-Match and the ETag sent, so "status 304 with inm == etag" shows
# revalidation hits, and status 200 with a stale inm shows a client getting an update.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
access_log_format = (
    '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms inm=%({if-none-match}i)s '
    'ims="%({if-modified-since}i)s" etag=%({etag}o)s enc=%({content-encoding}o)s "%(a)s"'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# X-Forwarded-* are trusted only from loopback (gunicorn's default), i.e. from a local nginx.
# The app builds no absolute URLs and never redirects, so nothing depends on them anyway.
forwarded_allow_ips = "127.0.0.1,::1"

# gunicorn 23+ opens a control socket at one fixed path per user; nothing here uses it, and
# two instances on one host (blue/green deploys, tests, benchmarks) would fight over it.
control_socket_disable = True

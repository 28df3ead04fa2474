"""The app for WSGI servers: ``wsgi:app``. The production server (``python -m feed.server``)
runs the same callable; see feed/server.py."""

from feed import create_app
from feed.hotpath import HotPath

app = HotPath(create_app())

"""feed: publish a recurring community meeting as a subscribable iCalendar feed."""

from .web import create_app

__all__ = ["create_app"]

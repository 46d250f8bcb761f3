"""Reply notifications: a subscriber of the event log (the notifier) and the tables it fills."""

from services.notifications.notifier import NotifierSettings, handle, run_notifier
from services.notifications.store import migrate

__all__ = ["NotifierSettings", "handle", "migrate", "run_notifier"]

"""Notifications: an outbox of rendered messages, channels behind one protocol, the dispatcher.

Services and flows call the hooks (``notify_plan_issued``, ``notify_returned`` …) and
``plan_reminders`` inside their own transaction; ``dispatch_due`` sends what is due.
"""

from planflow.notifications.channels import Channel, Outgoing, build_channels
from planflow.notifications.dispatcher import (
    DispatchResult,
    dispatch_due,
    in_send_window,
    next_send_moment,
)
from planflow.notifications.errors import (
    ChannelConfigError,
    PermanentSendError,
    SendError,
    TransientSendError,
)
from planflow.notifications.hooks import (
    notify_plan_issued,
    notify_report_requested,
    notify_returned,
)
from planflow.notifications.outbox import (
    Draft,
    dead_messages,
    enqueue,
    make_key,
    outbox_counts,
    retry_dead,
)
from planflow.notifications.phones import normalise_phone
from planflow.notifications.reminders import ReminderResult, plan_reminders

__all__ = [
    "Channel",
    "ChannelConfigError",
    "DispatchResult",
    "Draft",
    "Outgoing",
    "PermanentSendError",
    "ReminderResult",
    "SendError",
    "TransientSendError",
    "build_channels",
    "dead_messages",
    "dispatch_due",
    "enqueue",
    "in_send_window",
    "make_key",
    "next_send_moment",
    "normalise_phone",
    "notify_plan_issued",
    "notify_report_requested",
    "notify_returned",
    "outbox_counts",
    "plan_reminders",
    "retry_dead",
]

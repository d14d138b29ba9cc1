"""The channels behind one protocol, and ``build_channels`` from ``PLANFLOW_CHANNELS``."""

from __future__ import annotations

import ssl

import httpx
from sqlalchemy.engine import Engine

from planflow.config.settings import Settings
from planflow.notifications.channels.base import Channel, Outgoing
from planflow.notifications.channels.email import SmtpChannel, SmtpSettings
from planflow.notifications.channels.file import FileChannel
from planflow.notifications.channels.zalo import (
    ZaloOAChannel,
    ZaloSettings,
    ZaloTokens,
    ZnsChannel,
)
from planflow.notifications.errors import ChannelConfigError

CHANNEL_NAMES = ("file", "email", "zalo", "zns")

__all__ = [
    "CHANNEL_NAMES",
    "Channel",
    "FileChannel",
    "Outgoing",
    "SmtpChannel",
    "SmtpSettings",
    "ZaloOAChannel",
    "ZaloSettings",
    "ZaloTokens",
    "ZnsChannel",
    "build_channels",
]


def _require(settings: Settings, channel: str, *names: str) -> None:
    for name in names:
        if getattr(settings, name) in (None, ""):
            raise ChannelConfigError(f"channel '{channel}' needs PLANFLOW_{name.upper()}")


def _zalo_settings(settings: Settings, channel: str) -> ZaloSettings:
    _require(settings, channel, "zalo_app_id", "zalo_secret_key", "zalo_refresh_token")
    return ZaloSettings(
        oa_base_url=settings.zalo_oa_base_url,
        zns_base_url=settings.zalo_zns_base_url,
        oauth_base_url=settings.zalo_oauth_base_url,
        app_id=settings.zalo_app_id or "",
        secret_key=settings.zalo_secret_key,  # type: ignore[arg-type]  # checked above
        access_token=settings.zalo_access_token,
        refresh_token=settings.zalo_refresh_token,
        zns_template_id=settings.zalo_zns_template_id,
        timeout=settings.zalo_timeout,
    )


def build_channels(
    settings: Settings,
    *,
    http_client: httpx.Client | None = None,
    engine: Engine | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, Channel]:
    """The channels ``PLANFLOW_CHANNELS`` names, by name; Zalo keeps its tokens in ``engine``."""
    channels: dict[str, Channel] = {}
    tokens: ZaloTokens | None = None
    for name in settings.channel_names:
        if name == "file":
            channels[name] = FileChannel(settings.resolved_outbox_dir, sender=settings.smtp_sender)
        elif name == "email":
            channels[name] = SmtpChannel(
                SmtpSettings.from_settings(settings), ssl_context=ssl_context
            )
        elif name in ("zalo", "zns"):
            config = _zalo_settings(settings, name)
            if name == "zns":
                _require(settings, name, "zalo_zns_template_id")
            if tokens is None:
                if engine is None:
                    from planflow.config.db import get_engine

                    engine = get_engine()
                http = http_client or httpx.Client(timeout=settings.zalo_timeout)
                tokens = ZaloTokens(config, engine=engine, http=http)
            if name == "zalo":
                channels[name] = ZaloOAChannel(
                    tokens, base_url=config.oa_base_url, http=tokens.http
                )
            else:
                channels[name] = ZnsChannel(
                    tokens,
                    base_url=config.zns_base_url,
                    http=tokens.http,
                    template_id=settings.zalo_zns_template_id or "",
                )
        else:
            raise ChannelConfigError(
                f"PLANFLOW_CHANNELS names an unknown channel {name!r} "
                f"(known: {', '.join(CHANNEL_NAMES)})"
            )
    return channels

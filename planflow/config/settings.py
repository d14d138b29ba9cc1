"""Settings read from the environment (prefix ``PLANFLOW_``), built once per process on demand."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DeadlinePolicy = Literal["previous_working_day", "keep_calendar"]


def default_data_dir() -> Path:
    """The per-user folder that holds the embedded database and generated files."""
    return Path(user_data_dir("planflow", appauthor=False))


class Settings(BaseSettings):
    """Everything an operator can set; names are ``PLANFLOW_`` + the field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="PLANFLOW_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    echo_sql: bool = False

    # deadlines (DESIGN.md §5)
    lead_days_per_level: int = Field(default=5, ge=0, le=60)
    deadline_policy: DeadlinePolicy = "previous_working_day"
    timezone: str = "Asia/Ho_Chi_Minh"

    # notifications (issue 4): channel names and transport settings
    channels: str = "file"
    outbox_dir: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "planflow@localhost"
    smtp_timeout: float = 10.0
    zalo_oa_base_url: str = "https://openapi.zalo.me"
    zalo_zns_base_url: str = "https://business.openapi.zalo.me"
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    zalo_app_id: str | None = None
    zalo_secret_key: SecretStr | None = None
    zalo_access_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_zns_template_id: str | None = None
    # names of Prefect Secret blocks that hold a secret whose PLANFLOW_* value is not set
    smtp_password_block: str | None = None
    zalo_secret_key_block: str | None = None
    zalo_access_token_block: str | None = None
    zalo_refresh_token_block: str | None = None
    zalo_timeout: float = 10.0
    # the units' portal (issue 8): the base of every link in every message, and its links
    public_url: str = "http://127.0.0.1:8080"
    link_days: int = Field(default=120, ge=1, le=3650)
    session_secret: SecretStr | None = None
    portal_failed_links_per_minute: int = Field(default=10, ge=1, le=10_000)
    portal_bench_floor: bool = False
    # reminders (issue 4): working days before the deadline, then overdue and escalation after it
    reminder_days_before: str = "7,3,1"
    overdue_after_days: int = Field(default=1, ge=1, le=30)
    escalate_after_days: int = Field(default=3, ge=1, le=60)

    # imports (plans, filled forms): refused beyond these, before the file is parsed
    import_max_bytes: int = Field(default=20 * 2**20, ge=1024)
    import_max_unpacked_bytes: int = Field(default=32 * 2**20, ge=1024)
    import_max_zip_members: int = Field(default=2000, ge=10)
    import_max_lines: int = Field(default=20_000, ge=100)
    # a PDF's pages are laid out one by one (about 70 ms a page here): a plan has tens
    import_max_pdf_pages: int = Field(default=300, ge=1)
    import_max_form_unpacked_bytes: int = Field(default=8 * 2**20, ge=1024)
    import_max_form_rows: int = Field(default=500, ge=10)

    @field_validator("database_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("reminder_days_before")
    @classmethod
    def _offsets(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() and 0 < int(p) <= 60 for p in parts):
            raise ValueError("reminder_days_before: comma-separated working days, 1 to 60")
        return ",".join(parts)

    @property
    def reminder_offsets(self) -> tuple[int, ...]:
        """``PLANFLOW_REMINDER_DAYS_BEFORE`` as distinct working-day counts, largest first."""
        days = {int(p) for p in self.reminder_days_before.split(",") if p}
        return tuple(sorted(days, reverse=True))

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'planflow.db'}"

    @property
    def channel_names(self) -> list[str]:
        """``PLANFLOW_CHANNELS`` split into names, in order, without blanks."""
        return [c.strip() for c in self.channels.split(",") if c.strip()]

    @property
    def public_https(self) -> bool:
        """True when the portal is reached over https (its cookies are then Secure)."""
        return self.public_url.strip().lower().startswith("https://")

    @property
    def resolved_outbox_dir(self) -> Path:
        """Where the file channel writes the messages it would have sent."""
        return self.outbox_dir or self.data_dir / "outbox"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use; secrets registered."""
    from planflow.config.secrets import register_secret

    settings = Settings()
    from_blocks = {
        field: SecretStr(_secret_block(block, field))
        for field in SECRET_BLOCK_FIELDS
        if getattr(settings, field) is None and (block := getattr(settings, f"{field}_block"))
    }
    if from_blocks:
        settings = settings.model_copy(update=from_blocks)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            register_secret(value.get_secret_value())
    return settings


SECRET_BLOCK_FIELDS = ("smtp_password", "zalo_secret_key", "zalo_access_token",
                       "zalo_refresh_token")


def _secret_block(name: str, field: str) -> str:
    """The value of the Prefect Secret block ``name`` (on the server in PREFECT_API_URL)."""
    from prefect.blocks.system import Secret

    from planflow.errors import PlanflowError

    try:
        block = cast(Secret, Secret.load(name))  # sync call: a block, not a coroutine
        value = block.get()
    except ValueError as exc:  # Prefect: no block of that name
        raise PlanflowError(
            f"không đọc được Secret block {name!r} (PLANFLOW_{field.upper()}_BLOCK): "
            f"{str(exc).splitlines()[0]}"
        ) from None
    return str(value)

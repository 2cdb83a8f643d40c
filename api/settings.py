"""Service settings, read from environment variables (prefix ``DIANMIAN_``) or given in code.

There is no default secret. API keys with roles are created with ``dianmian keys create`` and
stored hashed in the database; ``DIANMIAN_API_KEY``, if set, is an extra bootstrap ``admin``
key (see :mod:`api.auth`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo import TravelMode


class Settings(BaseSettings):
    """Settings of one API process (immutable; one instance per app).

    Every field can be set through the environment, e.g. ``DIANMIAN_MAX_BATCH_POINTS=5000``;
    the database URL also through the conventional ``DATABASE_URL``.
    """

    model_config = SettingsConfigDict(env_prefix="DIANMIAN_", frozen=True, extra="ignore")

    scenario: Path | None = Field(
        default=None, description="Scenario folder to serve (with scenario.toml)."
    )
    out: Path = Field(default=Path("out"), description="Output root; plans in OUT/<scenario>/.")
    api_key: SecretStr | None = Field(
        default=None,
        description="Bootstrap admin key (optional; keys with roles come from "
        "`dianmian keys create`).",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "DIANMIAN_DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; default SQLite in OUT/<scenario>/dianmian.sqlite.",
    )
    modes: tuple[TravelMode, ...] = Field(
        default=(TravelMode.WALK, TravelMode.EBIKE, TravelMode.BUS, TravelMode.CAR),
        description="Travel modes the nearest query is prepared for.",
    )
    labels_dir: Path | None = Field(
        default=None,
        description="Folder of the nearest labels, built once and memory-mapped by every "
        "worker (default OUT/<scenario>/api-labels).",
    )
    max_k: int = Field(default=5, ge=1, le=50, description="Largest `k` of a nearest query.")
    max_batch_points: int = Field(
        default=10_000, ge=1, description="Most points in one batch nearest query."
    )
    max_body_bytes: int = Field(
        default=4 * 2**20, ge=1024, description="Largest request body (bytes); larger get 413."
    )
    max_snap_m: float | None = Field(
        default=None,
        gt=0,
        description="Points farther from every street are outside the network area "
        "(default: the scenario's `planning.max_snap_m`).",
    )
    max_page: int = Field(default=10_000, ge=1, description="Largest `limit` of a collection page.")
    rate_per_key: float = Field(
        default=600.0,
        ge=0,
        description="Writes and batch queries per minute per API key (0: unlimited; per worker).",
    )
    rate_per_address: float = Field(
        default=300.0,
        ge=0,
        description="Writes and batch queries per minute per client address (0: unlimited; "
        "per worker).",
    )
    rate_burst: int = Field(
        default=60, ge=1, description="Writes and batch queries allowed in a burst."
    )
    reload_poll_s: float = Field(
        default=2.0,
        ge=0,
        description="How often (s) to check for a newly published plan (0: only on SIGHUP).",
    )

    @field_validator("api_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            msg = "`DIANMIAN_API_KEY` must have at least 16 characters (use a random token)"
            raise ValueError(msg)
        return value

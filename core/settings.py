"""Settings read once from ``ATENDE_*`` environment variables into one typed object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.media_types import type_accepted
from core.private_files import create_private

PACKAGED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DEFAULT_MAX_UPLOAD_MB = 50
DEFAULT_MEDIA_TYPES = (
    "image/png,image/jpeg,image/gif,image/webp,image/heic,image/heif,"
    "audio/*,video/*,application/pdf,text/plain,text/csv,application/msword,"
    "application/vnd.openxmlformats-officedocument.*,application/vnd.ms-excel,application/zip"
)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"ATENDE_{name}")
    return value if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = _env(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError as exc:
        raise ValueError(f"ATENDE_{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class ParseLimits:
    """What parsing one knowledge file may take: it runs in a child process held to these
    (``knowledge.parse_apart``), so one tenant's file cannot stall another tenant's bot."""

    memory_mb: int = 1024
    seconds: float = 120
    unpacked_mb: float = 100
    rows: int = 20_000
    pages: int = 2_000
    chunks: int = 20_000


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", ".atende") or ".atende"))
    """ATENDE_DATA_DIR: where the embedded database, the secret key and uploads live."""
    database_url: str | None = field(default_factory=lambda: _env("DATABASE_URL"))
    """ATENDE_DATABASE_URL: a PostgreSQL (with pgvector) URL; unset starts the embedded server."""
    redis_url: str | None = field(default_factory=lambda: _env("REDIS_URL"))
    """ATENDE_REDIS_URL: Redis for jobs and real-time fan-out; unset keeps both in process."""
    embedding_model: str = field(
        default_factory=lambda: _env("EMBEDDING_MODEL", PACKAGED_EMBEDDING_MODEL) or PACKAGED_EMBEDDING_MODEL
    )
    """ATENDE_EMBEDDING_MODEL: a sentence-transformers model name or path (default: the packaged one)."""
    reranker_model: str | None = field(default_factory=lambda: _env("RERANKER_MODEL"))
    """ATENDE_RERANKER_MODEL: a sentence-transformers cross-encoder that re-orders search results (optional)."""
    secret_key: str | None = field(default_factory=lambda: _env("SECRET_KEY"))
    """ATENDE_SECRET_KEY: signs login tokens; unset generates one kept in the data dir."""
    min_relevance: float = field(default_factory=lambda: _float("MIN_RELEVANCE", 0.55))
    """ATENDE_MIN_RELEVANCE: below this retrieval confidence the bot hands off instead of answering."""
    max_upload_mb: float = field(default_factory=lambda: _float("MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB))
    """ATENDE_MAX_UPLOAD_MB: knowledge files larger than this are refused (the web's request limit too)."""
    parse_memory_mb: int = field(
        default_factory=lambda: int(_float("PARSE_MEMORY_MB", ParseLimits.memory_mb))
    )
    """ATENDE_PARSE_MEMORY_MB: the address space the process parsing one knowledge file may use."""
    parse_seconds: float = field(default_factory=lambda: _float("PARSE_SECONDS", ParseLimits.seconds))
    """ATENDE_PARSE_SECONDS: parsing one knowledge file longer than this is stopped, the file failed."""
    parse_max_unpacked_mb: float = field(
        default_factory=lambda: _float("PARSE_MAX_UNPACKED_MB", ParseLimits.unpacked_mb)
    )
    """ATENDE_PARSE_MAX_UNPACKED_MB: a DOCX or XLSX (a zip) that would unpack to more is refused unread."""
    parse_max_rows: int = field(default_factory=lambda: int(_float("PARSE_MAX_ROWS", ParseLimits.rows)))
    """ATENDE_PARSE_MAX_ROWS: a FAQ spreadsheet (CSV, XLSX) with more rows is refused."""
    parse_max_pages: int = field(default_factory=lambda: int(_float("PARSE_MAX_PAGES", ParseLimits.pages)))
    """ATENDE_PARSE_MAX_PAGES: a PDF with more pages is refused."""
    parse_max_chunks: int = field(default_factory=lambda: int(_float("PARSE_MAX_CHUNKS", ParseLimits.chunks)))
    """ATENDE_PARSE_MAX_CHUNKS: a document that would make more chunks is refused (each is embedded)."""
    llm_provider: str | None = field(default_factory=lambda: _env("LLM_PROVIDER"))
    """ATENDE_LLM_PROVIDER: openai, anthropic or openai-compatible; unset answers offline (extractive).
    A tenant's admin can choose another provider for that tenant."""
    llm_model: str | None = field(default_factory=lambda: _env("LLM_MODEL"))
    """ATENDE_LLM_MODEL: the model name the provider knows (e.g. gpt-4o-mini, claude-3-5-haiku-latest)."""
    llm_base_url: str | None = field(default_factory=lambda: _env("LLM_BASE_URL"))
    """ATENDE_LLM_BASE_URL: the API's address (required for openai-compatible servers: vLLM, Ollama…)."""
    llm_api_key: str | None = field(default_factory=lambda: _env("LLM_API_KEY"))
    """ATENDE_LLM_API_KEY: the provider's key."""
    llm_fallback_provider: str | None = field(default_factory=lambda: _env("LLM_FALLBACK_PROVIDER"))
    """ATENDE_LLM_FALLBACK_PROVIDER (and _MODEL, _BASE_URL, _API_KEY): serves calls the first provider fails."""
    llm_fallback_model: str | None = field(default_factory=lambda: _env("LLM_FALLBACK_MODEL"))
    llm_fallback_base_url: str | None = field(default_factory=lambda: _env("LLM_FALLBACK_BASE_URL"))
    llm_fallback_api_key: str | None = field(default_factory=lambda: _env("LLM_FALLBACK_API_KEY"))
    llm_classify: bool = field(
        default_factory=lambda: (_env("LLM_CLASSIFY", "0") or "0").lower() in {"1", "true", "yes"}
    )
    """ATENDE_LLM_CLASSIFY: 1 has the LLM classify intent and sentiment (structured output), not the heads."""
    llm_timeout_seconds: float = field(default_factory=lambda: _float("LLM_TIMEOUT_SECONDS", 30))
    """ATENDE_LLM_TIMEOUT_SECONDS: one LLM call's limit; the SDK retries 429/5xx with backoff within it."""
    max_media_mb: float = field(default_factory=lambda: _float("MAX_MEDIA_MB", 16))
    """ATENDE_MAX_MEDIA_MB: customers' media files larger than this are refused (the customer is told)."""
    media_store: str | None = field(default_factory=lambda: _env("MEDIA_STORE"))
    """ATENDE_MEDIA_STORE: s3://bucket/prefix keeps media in an S3-compatible store (credentials from
    the usual AWS_* variables); unset keeps it under the data dir."""
    s3_endpoint_url: str | None = field(default_factory=lambda: _env("S3_ENDPOINT_URL"))
    """ATENDE_S3_ENDPOINT_URL: the S3-compatible server (MinIO, R2…); unset is AWS."""
    media_types: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            t.strip()
            for t in (_env("MEDIA_TYPES", DEFAULT_MEDIA_TYPES) or DEFAULT_MEDIA_TYPES).split(",")
            if t.strip()
        )
    )
    """ATENDE_MEDIA_TYPES: comma-separated MIME types accepted as media (``audio/*`` covers a family, but
    never active content such as SVG, HTML or XML, which only its exact name lets in: see core.media_types)."""
    delivery_attempts: int = field(default_factory=lambda: int(_float("DELIVERY_ATTEMPTS", 5)))
    """ATENDE_DELIVERY_ATTEMPTS: tries to hand a message to its channel before it is marked failed."""
    delivery_backoff_seconds: float = field(default_factory=lambda: _float("DELIVERY_BACKOFF_SECONDS", 1))
    """ATENDE_DELIVERY_BACKOFF_SECONDS: the first wait between tries; each next one doubles (or what
    the channel asks for, as Telegram's retry_after)."""
    webhook_attempts: int = field(default_factory=lambda: int(_float("WEBHOOK_ATTEMPTS", 6)))
    """ATENDE_WEBHOOK_ATTEMPTS: tries to POST an event to a webhook subscriber before it is marked failed."""
    webhook_backoff_seconds: float = field(default_factory=lambda: _float("WEBHOOK_BACKOFF_SECONDS", 2))
    """ATENDE_WEBHOOK_BACKOFF_SECONDS: the first wait between webhook tries; each next one doubles."""
    allow_private_networks: bool = field(
        default_factory=lambda: (
            (_env("ALLOW_PRIVATE_NETWORKS") or _env("WEBHOOK_PRIVATE_NETWORKS", "0") or "0").lower()
            in {"1", "true", "yes"}
        )
    )
    """ATENDE_ALLOW_PRIVATE_NETWORKS (formerly ATENDE_WEBHOOK_PRIVATE_NETWORKS, still read): 1 lets the
    requests a tenant can steer (webhooks, a channel's API server, the media URLs a provider gives) go
    to loopback and private addresses, for a self-hosted Atende calling its own services; by default
    only public addresses are allowed (``core.url_guard``)."""
    webhook_timeout_seconds: float = field(default_factory=lambda: _float("WEBHOOK_TIMEOUT_SECONDS", 10))
    """ATENDE_WEBHOOK_TIMEOUT_SECONDS: how long one POST to a subscriber may take."""
    outbox_lease_seconds: float = field(default_factory=lambda: _float("OUTBOX_LEASE_SECONDS", 120))
    """ATENDE_OUTBOX_LEASE_SECONDS: how long one attempt to send a message or webhook event may take;
    a job whose process died mid-send is taken up again once this has passed."""
    outbox_sweep_seconds: float = field(default_factory=lambda: _float("OUTBOX_SWEEP_SECONDS", 5))
    """ATENDE_OUTBOX_SWEEP_SECONDS: how often the server looks for outbox jobs nobody is sending (due
    retries, jobs an admin tried again, leases run out)."""
    public_api_per_minute: int = field(default_factory=lambda: int(_float("PUBLIC_API_PER_MINUTE", 600)))
    """ATENDE_PUBLIC_API_PER_MINUTE: requests a minute per API key on /api/v1/public; more get a 429."""
    webchat_posts_per_minute: int = field(default_factory=lambda: int(_float("WEBCHAT_POSTS_PER_MINUTE", 20)))
    """ATENDE_WEBCHAT_POSTS_PER_MINUTE: messages a minute one web chat session may post; more get a 429."""
    webchat_address_posts_per_minute: int = field(
        default_factory=lambda: int(_float("WEBCHAT_ADDRESS_POSTS_PER_MINUTE", 60))
    )
    """ATENDE_WEBCHAT_ADDRESS_POSTS_PER_MINUTE: web chat messages a minute from one client address, all
    its sessions together (a flood from many made-up sessions)."""
    webchat_address_sessions_per_minute: int = field(
        default_factory=lambda: int(_float("WEBCHAT_ADDRESS_SESSIONS_PER_MINUTE", 10))
    )
    """ATENDE_WEBCHAT_ADDRESS_SESSIONS_PER_MINUTE: web chat sessions one client address may start a
    minute (a page keeps its session, so a person needs one)."""
    turn_concurrency: int = field(default_factory=lambda: int(_float("TURN_CONCURRENCY", 200)))
    """ATENDE_TURN_CONCURRENCY: agent turns in progress at once per process. A turn mostly waits (on an
    LLM, a channel) holding nothing; its CPU work is batched apart (one embedding batch at a time, see
    knowledge.embeddings), so hundreds may wait at once. More wait their turn in the queue."""
    job_redeliver_seconds: float = field(default_factory=lambda: _float("JOB_REDELIVER_SECONDS", 60))
    """ATENDE_JOB_REDELIVER_SECONDS: with Redis, a job a worker took but never finished (it died) goes to
    another worker after this long. Running a job twice is safe; too short only wastes work."""
    otel_endpoint: str | None = field(default_factory=lambda: _env("OTEL_ENDPOINT"))
    """ATENDE_OTEL_ENDPOINT: an OpenTelemetry collector's OTLP/HTTP address (http://collector:4318);
    each turn is then traced (receive, classify, retrieve, decide, the LLM call) and log lines carry
    its trace_id. Unset, no span is exported and tracing costs next to nothing."""
    metrics_token: str | None = field(default_factory=lambda: _env("METRICS_TOKEN"))
    """ATENDE_METRICS_TOKEN: lets a scraper that is not on this machine read GET /metrics, sending it as
    a bearer token; unset, /metrics answers loopback clients only."""
    leader_lease_seconds: float = field(default_factory=lambda: _float("LEADER_LEASE_SECONDS", 15))
    """ATENDE_LEADER_LEASE_SECONDS: with Redis, work one process does at a time (a Telegram bot's polling,
    a WhatsApp session, the sweep) moves to another process within this long when its process dies."""
    turn_forgotten_seconds: float = field(default_factory=lambda: _float("TURN_FORGOTTEN_SECONDS", 60))
    """ATENDE_TURN_FORGOTTEN_SECONDS: a customer's message unanswered this long, its conversation held
    by no turn, has lost its job (its process died, or Redis was away): the sweep enqueues it again."""
    ingest_forgotten_seconds: float = field(default_factory=lambda: _float("INGEST_FORGOTTEN_SECONDS", 300))
    """ATENDE_INGEST_FORGOTTEN_SECONDS: an upload queued this long that no worker took has lost its job
    (Redis was away): the sweep enqueues it again, at most once per this long."""
    ingest_stalled_seconds: float = field(default_factory=lambda: _float("INGEST_STALLED_SECONDS", 1800))
    """ATENDE_INGEST_STALLED_SECONDS: an upload being parsed this long has lost its worker (it died): the
    sweep queues it again, and after 3 such tries shows it failed. Longer than your largest file takes."""
    log_level: str = field(default_factory=lambda: (_env("LOG_LEVEL", "INFO") or "INFO").upper())
    """ATENDE_LOG_LEVEL: DEBUG, INFO, WARNING or ERROR."""

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def accepts_media_type(self, mime_type: str | None) -> bool:
        return type_accepted(mime_type, self.media_types)

    @property
    def max_media_bytes(self) -> int:
        return int(self.max_media_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def parse_limits(self) -> ParseLimits:
        return ParseLimits(
            memory_mb=self.parse_memory_mb,
            seconds=self.parse_seconds,
            unpacked_mb=self.parse_max_unpacked_mb,
            rows=self.parse_max_rows,
            pages=self.parse_max_pages,
            chunks=self.parse_max_chunks,
        )

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            create_private(path, os.urandom(32).hex().encode())  # 0600 from the start, in a 0700 data dir
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

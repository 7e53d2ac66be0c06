"""One settings object, read from `KB_*` environment variables (and `.env`) once and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kb.errors import ConfigError


class Settings(BaseSettings):
    """Every knob of kb; the README's configuration table lists the same fields."""

    model_config = SettingsConfigDict(
        env_prefix="KB_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(
        Path("./data"),
        description="Folder for the Chroma store, the document registry, the keyword index, "
        "the embedding cache and the stored originals.",
    )
    collection: str = Field(
        "kb_chunks", min_length=3, description="Chroma collection name (3+ characters)."
    )
    chroma_host: str | None = Field(
        None, description="Chroma server host; when set, kb uses it instead of the embedded store."
    )
    chroma_port: int = Field(8000, description="Chroma server port (with KB_CHROMA_HOST).")
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the database holding documents, the write journal, "
        "the audit log, users and the sign-in throttle; unset: kb.sqlite in KB_DATA_DIR. "
        "Replicas share a PostgreSQL one: postgresql+psycopg://USER:PASSWORD@HOST/DB "
        "(a secret: it may carry a password).",
    )
    originals_dir: Path | None = Field(
        None,
        description="Folder for the stored originals, e.g. a shared NFS mount for replicas; "
        "default originals/ in KB_DATA_DIR (ignored when KB_S3_BUCKET is set).",
    )
    s3_endpoint: str | None = Field(
        None,
        description="S3-compatible endpoint for the stored originals, e.g. "
        "https://s3.eu-west-1.amazonaws.com or http://minio:9000 (with KB_S3_BUCKET).",
    )
    s3_bucket: str | None = Field(
        None, description="Bucket for the stored originals; set it to keep them in S3."
    )
    s3_access_key: str | None = Field(None, description="S3 access key (with KB_S3_BUCKET).")
    s3_secret_key: SecretStr | None = Field(
        None, description="S3 secret key (with KB_S3_BUCKET; never shown or logged)."
    )
    s3_region: str | None = Field(None, description="S3 region, when the endpoint needs one.")
    chunk_size: int = Field(1000, ge=200, le=8000, description="Target chunk length in characters.")
    chunk_overlap: int = Field(
        150, ge=0, description="Characters repeated between the pieces of a split paragraph."
    )
    top_k: int = Field(5, ge=1, le=100, description="Passages returned by search and given to ask.")
    candidates: int = Field(
        100, ge=5, le=1000, description="Candidates each retrieval leg (dense, keyword) fetches."
    )
    # On SciFact train (809 queries, 100 candidates per leg, BM25 0.9 / 0.5), nDCG@10:
    # weighted min-max 0.733 at dense 0.4 / keyword 0.6, 0.732 at 0.5 / 0.5, zscore 0.734
    # (within noise, and its scores are not in [0, 1]), RRF 0.710; BM25 alone 0.693, dense
    # alone 0.672. `kb eval beir DIR --split train --sweep` reproduces it. 0.5 / 0.5 since
    # issue 17: SciFact test 0.7276 vs 0.7244, the 74 FinanceBench filings' file hit@5
    # 0.977 vs 0.961 (small/ alone 0.939 vs 0.959), sample_docs' page MRR 0.957 vs 0.920.
    fusion: Literal["weighted", "zscore", "rrf"] = Field(
        "weighted",
        description="How dense and keyword results are combined: weighted (min-max scaled "
        "scores), zscore (scores scaled by their spread) or rrf (reciprocal ranks).",
    )
    dense_weight: float = Field(0.5, ge=0, description="Weight of the dense (embedding) leg.")
    keyword_weight: float = Field(0.5, ge=0, description="Weight of the keyword (BM25) leg.")
    rrf_k: int = Field(60, ge=1, description="Rank offset k of reciprocal-rank fusion.")
    # 1.0 (a passage of the best-named document gains as much as the best passage scored):
    # on FinanceBench small/ file hit@1 0.633 -> 0.857 with the named documents' own search;
    # 0.5 gave 0.816, 2.0 0.837. No effect where names are ids (SciFact's "4983.txt").
    name_weight: float = Field(
        1.0,
        ge=0,
        description="Weight of a question naming a document (its words matching the file "
        "name: company, year, period) added to the fused score; 0 turns it off.",
    )
    # On FinanceBench small/ page hit@5 0.469 -> 0.551 (the named documents' search on). Only
    # inside named documents: everywhere, it cost sample_docs the founders answer, whose
    # sentence is the handbook's second passage of page 1.
    one_passage_per_page: bool = Field(
        True,
        description="Among the top k, at most one passage per page of a document the question "
        "names, so the sources show k places in it rather than one page k times.",
    )
    # bm25s's 1.5 / 0.75 and Lucene's 1.2 / 0.75 suit pages of any length; kb's passages are
    # short and of similar length, so length should weigh less. 0.9 / 0.5 (Anserini's default):
    # SciFact train hybrid nDCG@10 0.733 vs 0.727 at 1.5 / 0.75 (see BENCHMARKS.md).
    bm25_k1: float = Field(
        0.9, gt=0, description="BM25 term-frequency saturation k1 (changing it rebuilds the index)."
    )
    bm25_b: float = Field(
        0.5, ge=0, le=1, description="BM25 length normalisation b (changing it rebuilds the index)."
    )
    # 0.27: on sample_docs/questions.yaml every answerable question's best passage scored
    # >= 0.28, while off-topic questions (world cup, capital of Peru) scored <= 0.23.
    min_relevance: float = Field(
        0.27,
        description="Best dense cosine similarity below which ask() answers 'not in the "
        "knowledge base', unless a passage holds every content word of the question.",
    )
    max_upload_mb: float = Field(50, gt=0, description="Largest file accepted, in megabytes.")
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding-model batch.")
    sample_docs_dir: Path = Field(
        Path("./sample_docs"), description="Documents indexed on first run when the store is empty."
    )
    llm: Literal["extractive", "openai", "ollama", "llamacpp"] = Field(
        "extractive",
        description="Answer generator: 'extractive' quotes passages (no model needed), 'openai' "
        "any OpenAI-compatible server, 'ollama', or 'llamacpp' (a GGUF model in-process).",
    )
    stale_days: int = Field(
        180,
        ge=1,
        description="A document with no review date, indexed longer ago than this, is stale (old).",
    )
    # --- generation (issue 5) ---
    llm_model: str = Field(
        "",
        description="Model name (openai, ollama), or for llamacpp a GGUF path or a bundled "
        "model: 'qwen1.5b' (the default, Qwen2.5-Coder-1.5B-Instruct) or 'smollm2' (135M).",
    )
    llm_base_url: str | None = Field(
        None,
        description="Server address: the OpenAI-compatible base URL (with /v1) for openai, the "
        "Ollama URL (default http://localhost:11434) for ollama.",
    )
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the OpenAI-compatible server (never shown or logged)."
    )
    # Low but not 0: greedy decoding makes small models loop on a phrase.
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(256, ge=16, le=8192, description="Longest answer, in tokens.")
    llm_context_window: int = Field(
        4096, ge=512, description="Tokens the model reads at once (prompt and answer)."
    )
    llm_timeout: float = Field(
        60,
        gt=0,
        description="Seconds to wait for the model's first token and for each next one before "
        "falling back to the extractive answer.",
    )
    # `kb eval citations sample_docs/questions.yaml`: a claim (the question's words and the
    # expected fact) against the passage holding the fact vs. another document's best passage:
    # 0.4 kept 96% of right citations and flagged 92% of wrong ones (0.5: 81% / 94%).
    verify_threshold: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Share of a generated sentence's content words that must occur in its cited "
        "passage; below it the sentence is flagged as not supported.",
    )
    # --- trust, library (issue 6) ---
    # Real office files hold tens of parts (a 500-slide deck ~2,000); bombs hold millions.
    zip_max_members: int = Field(
        10000, ge=10, description="Most files a DOCX, PPTX or XLSX archive may hold."
    )
    zip_max_uncompressed_mb: float = Field(
        500, gt=0, description="Most megabytes a DOCX, PPTX or XLSX may unpack to."
    )
    # Office XML compresses 5-30:1; a zip bomb 1000:1 and more.
    zip_max_ratio: float = Field(
        100, gt=1, description="Highest compression ratio of a DOCX, PPTX or XLSX over 10 MB."
    )
    # ~2,500 pages of prose: a bigger document is better split, and would take minutes.
    max_text_chars: int = Field(
        5_000_000, ge=1000, description="Most characters of text one document may yield."
    )
    # --- real documents (issue 12) ---
    # The longest real file seen here (a 400-page filing) parses in ~10 s; a file that takes
    # minutes is pathological (or a scan far over the OCR limit) and must not hold up a batch.
    parse_timeout: float = Field(
        300,
        gt=0,
        description="Seconds one file's parsing (OCR included) may take before it is refused.",
    )
    # The longest filing here has ~400 pages; 5,000 is a shelf of manuals in one file, which
    # would be better split (and would take minutes to embed).
    max_pages: int = Field(
        5000, ge=1, description="Most pages one PDF may have; longer ones are refused."
    )
    # Tesseract reads a typed page in ~2-4 s on one core here: 50 pages is a few minutes.
    ocr_max_pages: int = Field(
        50,
        ge=0,
        description="Most scanned pages (or image frames) read by OCR per file; 0 turns OCR off.",
    )
    tesseract: str = Field(
        "tesseract",
        description="The Tesseract OCR program: a name on PATH or a full path; when it is not "
        "found, OCR is off and kb says so.",
    )
    # --- trust, sign-in (issue 6) ---
    require_sign_in: bool = Field(
        True,
        description="Whether chatting needs a signed-in user; when false, visitors chat as a "
        "guest who sees only documents open to everyone.",
    )
    users_file: Path | None = Field(
        None,
        description="A users file from before the database (default users.json in "
        "KB_DATA_DIR): imported into the database on upgrade, then kept as *.imported.",
    )
    password_min_length: int = Field(
        12, ge=8, le=128, description="Shortest password `kb users` accepts."
    )
    admin_password: SecretStr | None = Field(
        None,
        description="Password of a bootstrap admin named `admin` (for a first set-up or a "
        "container); ignored once the database has a user called admin.",
    )
    review_days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="Days after indexing a new document is due for review, unless it or an "
        "admin says otherwise; unset: no default review date.",
    )
    chat_retention_days: int | None = Field(
        365,
        ge=1,
        description="Saved conversations unused for this many days are deleted, with their "
        "answers and feedback; unset keeps them.",
    )
    sync_roots: str = Field(
        "",
        description="Comma-separated folders under which the Admin page may sync a folder "
        "(Sync now); empty: only folders already synced with `kb sync`.",
    )
    keep_versions: int = Field(
        5,
        ge=0,
        le=100,
        description="Replaced versions kept per document (out of search, openable from earlier "
        "answers); 0 keeps none.",
    )
    keep_version_days: int | None = Field(
        None,
        ge=1,
        description="Also retire kept versions replaced more than this many days ago; unset: "
        "only KB_KEEP_VERSIONS limits them.",
    )
    oidc_domains: str = Field(
        "",
        description="Comma-separated e-mail domains OIDC users may come from; empty: any "
        "address the provider vouches for.",
    )
    oidc_unknown_users: Literal["employee", "deny"] = Field(
        "employee",
        description="What an OIDC user unknown to kb (no `kb users` entry) is: an "
        "employee, or refused.",
    )
    oidc_groups_claim: str = Field(
        "",
        description="ID-token claim holding the user's groups (e.g. `groups`), added to the "
        "groups kb keeps; empty: groups come from `kb users` only.",
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size // 2:
            raise ValueError("KB_CHUNK_OVERLAP must be under half of KB_CHUNK_SIZE")
        if self.dense_weight + self.keyword_weight <= 0:
            raise ValueError("KB_DENSE_WEIGHT + KB_KEYWORD_WEIGHT must be above 0")
        return self

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; invalid values become a ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(
            f"Invalid kb settings: {exc}. Fix the KB_* variable named above."
        ) from exc

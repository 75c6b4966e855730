"""Server limits and settings, all configurable (CLI flags or a YAML file)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # loopback unless told otherwise
    port: int = 7860
    model: str = "tiny"
    device: str = "auto"
    work_dir: str = ""  # uploads and results; a fresh temporary folder when empty
    max_upload_mb: float = 200.0
    max_video_seconds: float = 60.0
    request_timeout_s: float = 300.0
    max_concurrent_jobs: int = 1  # generation jobs running at once; the rest get 429
    max_queue: int = 8  # Gradio queue size (the browser UI waits in line up to this many)
    retention_s: float = 3600.0  # uploads and results are deleted this long after creation
    cleanup_every_s: float = 60.0
    default_num_steps: int = 16
    default_cfg_strength: float = 3.0
    library: str = ""  # a sound library folder: offers the `library` engine (stems downloadable as a zip)

    def __post_init__(self):
        if self.max_upload_mb <= 0 or self.max_video_seconds <= 0 or self.request_timeout_s <= 0:
            raise ValueError("limits must be positive")
        if self.max_concurrent_jobs < 1:
            raise ValueError("max_concurrent_jobs must be at least 1")

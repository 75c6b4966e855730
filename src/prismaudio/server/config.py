"""Server limits and settings, all configurable (CLI flags or a YAML file)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # loopback unless told otherwise
    port: int = 7860
    model: str = "tiny"  # the default model; loaded before the server answers
    extra_models: list[str] = field(default_factory=list)  # more models clients may pick by name (besides tiny)
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
    max_num_steps: int = 64  # options.num_steps above this is refused (400), never hours of work
    max_cfg_strength: float = 20.0
    library: str = ""  # a sound library folder: offers the `library` engine (stems downloadable as a zip)
    # the stem generator (generate's default engine: each source alone, placed by the plan, stems
    # downloadable as a zip) is offered when it ships or `stem_model` names one; its sketches
    # take recordings from `library` when set
    stem_engine: bool = True
    stem_model: str = ""  # stem generator weights (empty: the shipped one)
    variation: float = 0.15  # how far a stem may depart from its sketch (generate --variation)
    default_engine: str = "model"  # what a request without options.engine gets; the page starts at it
    max_plan_kb: float = 256.0  # plan text, in the API and in the page's plan editor

    def __post_init__(self):
        if self.max_upload_mb <= 0 or self.max_video_seconds <= 0 or self.request_timeout_s <= 0:
            raise ValueError("limits must be positive")
        if self.max_concurrent_jobs < 1:
            raise ValueError("max_concurrent_jobs must be at least 1")
        if self.max_num_steps < 1 or not self.max_cfg_strength > 0 or not self.max_plan_kb > 0:
            raise ValueError("max_num_steps, max_cfg_strength and max_plan_kb must be positive")
        if not 0.0 <= self.variation <= 1.0:
            raise ValueError("variation must be from 0 to 1")
        if self.default_engine not in ("model", "stem", "library"):
            raise ValueError(f"default_engine must be model, stem or library, got {self.default_engine!r}")
        if not 1 <= self.default_num_steps <= self.max_num_steps:
            raise ValueError(f"default_num_steps must be from 1 to max_num_steps ({self.max_num_steps})")

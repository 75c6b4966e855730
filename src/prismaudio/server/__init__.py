"""Web demo (Gradio) and HTTP API (FastAPI) over the PrismAudio pipeline."""

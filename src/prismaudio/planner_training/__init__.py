"""Training and asset-building code for the planner (kept out of the runtime package)."""

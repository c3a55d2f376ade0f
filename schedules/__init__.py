"""Interview schedules shipped with fieldkit (installed as the package fieldkit.schedules)."""

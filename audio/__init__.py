"""Demo audio shipped with fieldkit (installed as the package fieldkit.demo_audio)."""

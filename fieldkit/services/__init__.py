"""Use-cases shared by the CLI and the app. Each face calls these; none of them prints or draws."""

"""Storage adapter (sqlite-utils): opening, migrations and repositories. The only SQL lives here."""

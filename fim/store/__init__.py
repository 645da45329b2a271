"""The SQLite database: baseline, findings, the alert outbox and quarantine records; migrations as data."""

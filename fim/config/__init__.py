"""The TOML configuration: section dataclasses composed into one Config, one validator."""

"""Alert sinks: one module per kind (apprise, webhook, exec, jsonl); see :mod:`.registry`."""

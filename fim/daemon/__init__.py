"""The service: the loop, walks, health, status document, watches, coverage, sd_notify, logging."""

"""The service: watches, the work loop, status, coverage, sd_notify and logging."""

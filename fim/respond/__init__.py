"""Acting on findings: quarantine and restore, retention, forgetting a tenant."""

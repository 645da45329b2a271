"""Prometheus metrics: the ``[metrics]`` section, what the database and a scan say, and the
exposition (an HTTP endpoint for the daemon, a node_exporter textfile for ``fim scan``).

Every metric is registered in a :class:`prometheus_client.CollectorRegistry` the caller owns;
nothing here touches the client library's global default registry.
"""

"""Sink kinds by name. A kind is one module holding ``KEYS`` (its own configuration keys),
``validate(cfg)`` (static checks, one ``key: message`` per problem) and ``build(cfg, masker)``
(the delivery targets and the problems found while building them). A new kind is one such
module, its name here, and its keys as fields of :class:`fim.alerts.config.SinkConfig`.

Kinds are imported on first use, so reading a configuration loads no sink's libraries.
"""

from __future__ import annotations

import importlib
from types import ModuleType

KIND_MODULES = {
    "apprise": "fim.alerts.sinks.apprise_sink",
    "webhook": "fim.alerts.sinks.webhook",
    "exec": "fim.alerts.sinks.exec_sink",
    "jsonl": "fim.alerts.sinks.jsonl",
}
SINK_TYPES = tuple(KIND_MODULES)


def kind(name: str) -> ModuleType:
    """The module of sink kind ``name`` (a KeyError for an unknown one: the config parser
    admits only :data:`SINK_TYPES`)."""
    return importlib.import_module(KIND_MODULES[name])

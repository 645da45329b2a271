"""The ``[alerts]`` configuration section and its ``[[alerts.sinks]]`` array of tables.

Static checks live in :meth:`SinkConfig.validate` (run by ``fim config check``); checks that
need the file system or the environment (secret files, the exec program's ownership) run when
the alert service is built (:meth:`fim.alerts.AlertService.from_config`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from fim.alerts.sinks.registry import SINK_TYPES, kind
from fim.core.values import SECRET, choice

SEVERITIES = ("low", "medium", "high", "critical")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Keys every sink type accepts; each kind's module (see fim.alerts.sinks.registry) names its own.
COMMON_KEYS = frozenset(
    {"name", "type", "min_severity", "families", "rulesets", "tenants", "health", "timeout"}
    | {"rate_limit", "rate_period"}
)


@dataclass(frozen=True)
class SinkConfig:
    """One ``[[alerts.sinks]]`` entry: where alerts go, which ones, and how often."""

    name: str = ""  # unique; shown in logs, `fim alerts pending` and health alerts
    type: str = field(default="", metadata={"parse": choice(SINK_TYPES)})
    # -- which findings (health alerts only honour min_severity) --
    min_severity: str = field(default="low", metadata={"parse": choice(SEVERITIES)})
    families: tuple[str, ...] = ()  # empty: every family
    rulesets: tuple[str, ...] = ()  # empty: every rule set ("hashlist", "fim", a YARA namespace)
    tenants: tuple[str, ...] = ()  # empty: every tenant
    health: bool = True  # also receive health alerts (a sink failing, the daemon's own trouble)
    # -- delivery --
    timeout: float = 10.0  # seconds per send
    rate_limit: int = 0  # at most this many messages per rate_period; 0 = unlimited
    rate_period: float = 3600.0
    # -- apprise: messages for people --
    urls: tuple[str, ...] = field(
        default=(), metadata=SECRET
    )  # apprise URLs (secrets: prefer url_file or url_env)
    mode: str = field(default="immediate", metadata={"parse": choice(("immediate", "digest"))})
    group_window: float = 30.0  # immediate: findings within this many seconds make one message per tenant
    digest_interval: float = 3600.0  # digest: one message per interval (aligned to UTC)
    max_listed: int = 10  # findings listed per tenant in one message; the rest are counted
    max_messages: int = 5  # more tenant groups due at once than this: one combined message
    # -- webhook --
    url: str = field(default="", metadata=SECRET)
    headers: dict[str, str] = field(default_factory=dict, metadata=SECRET)  # values such as "Bearer <token>"
    secret: str = field(default="", metadata=SECRET)  # HMAC-SHA256 key for the X-Fim-Signature header
    secret_file: str = ""
    secret_env: str = ""
    # -- apprise and webhook: where the URL(s) come from instead of the file --
    url_file: str = ""  # apprise: one URL a line ("#" comments); webhook: the URL
    url_env: str = ""  # the name of an environment variable holding the URL(s)
    # -- exec --
    argv: tuple[str, ...] = ()  # absolute program path, then fixed arguments; never a shell
    env: dict[str, str] = field(
        default_factory=dict, metadata=SECRET
    )  # added to the minimal environment (may hold tokens)
    # -- webhook, exec, jsonl --
    max_batch: int = 1  # events per POST / process run / write
    # -- jsonl --
    path: str = ""  # file to append ECS JSON lines to; "-" = standard output

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not NAME_RE.match(self.name):
            problems.append(
                "name: required; up to 64 letters, digits, '_', '.' and '-', starting with a letter or digit"
            )
        if not self.type:
            problems.append(f"type: required, one of {', '.join(SINK_TYPES)}")
            return problems
        sink_kind = kind(self.type)
        allowed = COMMON_KEYS | sink_kind.KEYS
        defaults = SinkConfig()
        for f in dataclasses.fields(self):
            if f.name not in allowed and getattr(self, f.name) != getattr(defaults, f.name):
                problems.append(f"{f.name}: does not apply to type {self.type!r}")
        if self.timeout <= 0:
            problems.append("timeout: must be more than 0")
        if self.rate_period <= 0:
            problems.append("rate_period: must be more than 0")
        if self.max_batch < 1:
            problems.append("max_batch: must be at least 1")
        problems.extend(sink_kind.validate(self))
        return problems


@dataclass(frozen=True)
class AlertsConfig:
    """``[alerts]``: the sinks, and how long delivery retries before a health alert."""

    sinks: tuple[SinkConfig, ...] = ()
    deliver_timeout: float = 10.0  # `fim scan --alert`: seconds to deliver before leaving the rest queued
    retry_initial: float = 10.0  # first retry after a failed send; doubles each time
    retry_max: float = 900.0  # longest wait between retries
    health_after: float = 900.0  # a sink failing this long raises a health alert through the others
    health_repeat: float = 3600.0  # the same health alert is not repeated within this many seconds
    hostname: str = ""  # shown in messages; "" = this machine's name

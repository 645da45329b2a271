"""The ``[alerts]`` configuration section and its ``[[alerts.sinks]]`` array of tables.

Static checks live in :meth:`SinkConfig.validate` (run by ``fim config check``); checks that
need the file system or the environment (secret files, the exec program's ownership) run when
the alert service is built (:meth:`fim.alerts.AlertService.from_config`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from fim.core.values import SECRET, choice

SINK_TYPES = ("apprise", "webhook", "exec", "jsonl")
SEVERITIES = ("low", "medium", "high", "critical")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Keys every sink type accepts; the others belong to one or more types.
COMMON_KEYS = frozenset(
    {"name", "type", "min_severity", "families", "rulesets", "tenants", "health", "timeout"}
    | {"rate_limit", "rate_period"}
)
TYPE_KEYS = {
    "apprise": frozenset(
        {"urls", "url_file", "url_env", "mode", "group_window", "digest_interval", "max_listed"}
        | {"max_messages"}
    ),
    "webhook": frozenset({"url", "url_file", "url_env", "headers", "secret", "secret_file", "secret_env"})
    | {"max_batch"},
    "exec": frozenset({"argv", "env", "max_batch"}),
    "jsonl": frozenset({"path", "max_batch"}),
}


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
        allowed = COMMON_KEYS | TYPE_KEYS[self.type]
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
        problems.extend(getattr(self, f"_validate_{self.type}")())
        return problems

    def _validate_apprise(self) -> list[str]:
        problems = _one_source("urls", bool(self.urls), self.url_file, self.url_env)
        if self.max_listed < 1:
            problems.append("max_listed: must be at least 1")
        if self.max_messages < 1:
            problems.append("max_messages: must be at least 1")
        if self.digest_interval < 60:
            problems.append("digest_interval: must be at least 60 seconds")
        if self.group_window > 3600:
            problems.append("group_window: must be at most 3600 seconds")
        if self.urls:
            from fim.alerts.sinks.apprise_sink import url_problem  # apprise loads only when used

            for index, url in enumerate(self.urls):
                problem = url_problem(url)
                if problem:
                    problems.append(f"urls[{index}]: {problem}")
        return problems

    def _validate_webhook(self) -> list[str]:
        problems = _one_source("url", bool(self.url), self.url_file, self.url_env)
        if self.url and not self.url.lower().startswith(("https://", "http://")):
            problems.append("url: must start with https:// (or http://)")  # never echo the URL
        if sum(map(bool, (self.secret, self.secret_file, self.secret_env))) > 1:
            problems.append("secret: give one of secret, secret_file, secret_env")
        for key in self.headers:
            if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", key):
                # not quoted: a mistyped "Authorization: Bearer <token>" key holds the token
                problems.append("headers: a key is not a valid header name (letters, digits, '-')")
        return problems

    def _validate_exec(self) -> list[str]:
        if not self.argv:
            return ["argv: required, the program's absolute path then its fixed arguments"]
        if not self.argv[0].startswith("/"):
            return ["argv: the program must be an absolute path (no PATH lookup, no shell)"]
        return []

    def _validate_jsonl(self) -> list[str]:
        if not self.path:
            return ['path: required, a file to append to, or "-" for standard output']
        if self.path != "-" and not self.path.startswith("/"):
            return ["path: must be an absolute path or -"]
        return []


def _one_source(inline_key: str, inline: bool, from_file: str, from_env: str) -> list[str]:
    given = sum(map(bool, (inline, from_file, from_env)))
    if given == 0:
        return [f"{inline_key}: required (or {inline_key.rstrip('s')}_file / url_env)"]
    if given > 1:
        return [f"{inline_key}: give only one of {inline_key}, url_file, url_env"]
    return []


@dataclass(frozen=True)
class AlertsConfig:
    sinks: tuple[SinkConfig, ...] = ()
    deliver_timeout: float = 10.0  # `fim scan --alert`: seconds to deliver before leaving the rest queued
    retry_initial: float = 10.0  # first retry after a failed send; doubles each time
    retry_max: float = 900.0  # longest wait between retries
    health_after: float = 900.0  # a sink failing this long raises a health alert through the others
    health_repeat: float = 3600.0  # the same health alert is not repeated within this many seconds
    hostname: str = ""  # shown in messages; "" = this machine's name

"""Messages for people through apprise (Slack, Mattermost, Discord, Teams, Telegram, e-mail...).

One :class:`AppriseSink` per URL, so a channel that is down is retried alone and a working one
never receives the same message twice. Facts about apprise this relies on (and the tests pin):
``instantiate()`` returns None for a URL it cannot use (``add()`` would drop it silently), so
each URL is checked at start; ``notify()`` never raises, so its result is checked and apprise's
own warnings, captured for this thread only, become the (masked) error.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fim.alerts import render
from fim.alerts.render import Message
from fim.alerts.secret_values import Masker, one_source, read_secret, shown_url, url_lines
from fim.alerts.sinks.base import Audience, Batch, SinkError
from fim.core.model import Severity
from fim.core.version import __version__

if TYPE_CHECKING:
    from fim.alerts.config import SinkConfig
    from fim.alerts.secret_values import Masker
    from fim.alerts.sinks.base import Sink


_log = logging.getLogger("apprise")
# apprise's own lines reach the operator through SinkError, masked; never raw on stderr.
_log.addHandler(logging.NullHandler())
_log.propagate = False


def _apprise():
    import apprise

    return apprise


def url_problem(url: str) -> str | None:
    """Why apprise cannot use ``url`` (the message never repeats the URL), or None."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        return "not an apprise URL (expected scheme://...)"
    with _Capture():  # apprise logs the refused URL; keep it out of our output
        plugin = _apprise().Apprise.instantiate(url)
    if plugin is None:
        return f"apprise cannot use this {scheme}:// URL (unknown service or missing/invalid parts)"
    return None


class _Capture(logging.Handler):
    """Collect apprise's warnings raised by this thread; keep them off stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())

    def __enter__(self) -> _Capture:
        _log.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _log.removeHandler(self)


_MARKDOWN_SCHEMES = frozenset(
    {"discord", "mmost", "mmosts", "rocket", "rockets", "zulip", "msteams", "workflow", "workflows"}
)
_MARKDOWN_PLUGINS = frozenset(
    {"NotifyDiscord", "NotifyMattermost", "NotifyRocketChat", "NotifyZulip", "NotifyMSTeams"}
)

_NOTIFY_TYPE = {
    Severity.LOW: "info",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "failure",
    Severity.CRITICAL: "failure",
}


class AppriseSink:
    """Messages for people through one apprise URL; every send's result is checked (apprise never raises)."""

    audience: Audience = "people"

    def __init__(self, name: str, url: str, masker: Masker):
        apprise = _apprise()
        self.name = name
        self._masker = masker
        masker.add(url, url=True)
        asset = apprise.AppriseAsset(app_id="fim", app_desc=f"fim {__version__} alerts")
        with _Capture():
            plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:  # checked by the config already; a url_file may still hold a bad one
            raise ValueError(url_problem(url) or "apprise cannot use this URL")
        self._plugin = plugin
        self._scheme = urlsplit(url).scheme.lower()
        # Not apprise's privacy form: it leaves host names, where a token can hide, readable.
        self._shown = shown_url(url)
        self._email = "email" in type(plugin).__module__ or self._scheme in ("mailto", "mailtos")
        self._slack = self._scheme == "slack" or type(plugin).__name__ == "NotifySlack"
        # Slack reads & < > as markup. apprise escapes plain text for Slack itself in recent
        # versions; escape here only when it does not, so nothing is escaped twice.
        self._escape_slack = self._slack and not _apprise_escapes_slack(plugin)
        # These render Markdown in any message, plain text included: a file named
        # "[x](https://...)" would be a live link, so Markdown characters are escaped.
        self._markdown = self._scheme in _MARKDOWN_SCHEMES or type(plugin).__name__ in _MARKDOWN_PLUGINS
        # A message longer than the service takes (Discord: 2000 characters) would be refused
        # forever: cut it (it says how many findings and how to list them) unless the URL says.
        self._overflow = None if "overflow=" in url else apprise.common.OverflowMode.TRUNCATE

    def describe(self) -> str:
        return self._shown

    def render(self, message: Message) -> Message:
        if self._email:
            return render.for_email(message)
        return render.for_chat(message, escape_slack=self._escape_slack, escape_markdown=self._markdown)

    def send(self, batch: Batch, timeout: float) -> None:
        apprise = _apprise()
        message = self.render(batch.message)
        plugin = self._plugin
        plugin.socket_connect_timeout = timeout
        plugin.socket_read_timeout = timeout
        with _Capture() as captured:
            try:
                ok = plugin.notify(
                    body=message.body,
                    title=message.title,
                    notify_type=apprise.NotifyType(_NOTIFY_TYPE[message.severity]),
                    body_format=apprise.NotifyFormat.TEXT,
                    **({"overflow": self._overflow} if self._overflow else {}),
                )
            except Exception as exc:  # notify() is documented never to raise; a plugin bug might
                captured.lines.append(f"{exc.__class__.__name__}: {exc}")
                ok = False
        if not ok:
            detail = "; ".join(dict.fromkeys(captured.lines[-3:])) or "apprise reported a failure"
            raise SinkError(f"{self._shown}: {self._masker.mask(detail)}")


def _apprise_escapes_slack(plugin: object) -> bool:
    convert = getattr(plugin, "dialect_convert", None)
    if convert is None:
        return False
    try:
        return convert("<&>", _apprise().NotifyFormat.TEXT) == "&lt;&amp;&gt;"
    except Exception:
        return False


# -- the sink kind (see fim.alerts.sinks.registry) ------------------------------------------------

TYPE = "apprise"
KEYS = frozenset(
    {"urls", "url_file", "url_env", "mode", "group_window", "digest_interval", "max_listed", "max_messages"}
)


def validate(cfg: SinkConfig) -> list[str]:
    problems = one_source("urls", bool(cfg.urls), cfg.url_file, cfg.url_env)
    if cfg.max_listed < 1:
        problems.append("max_listed: must be at least 1")
    if cfg.max_messages < 1:
        problems.append("max_messages: must be at least 1")
    if cfg.digest_interval < 60:
        problems.append("digest_interval: must be at least 60 seconds")
    if cfg.group_window > 3600:
        problems.append("group_window: must be at most 3600 seconds")
    if cfg.urls:
        for index, url in enumerate(cfg.urls):
            problem = url_problem(url)
            if problem:
                problems.append(f"urls[{index}]: {problem}")
    return problems


def build(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    """One target per URL: ``name``, ``name#2``..."""
    if cfg.urls:
        urls, key = list(cfg.urls), "urls"
    else:
        urls = url_lines(read_secret("", cfg.url_file, cfg.url_env, "url"))
        key = "url_file" if cfg.url_file else "url_env"
    for url in urls:
        masker.add(url, url=True)
    if not urls:
        return [], [f"{key}: no apprise URL found"]
    problems = []
    for index, url in enumerate(urls):
        problem = url_problem(url)
        if problem:
            problems.append(f"{key}[{index}]: {problem}")
    if problems:
        return [], problems
    names = [cfg.name if i == 0 else f"{cfg.name}#{i + 1}" for i in range(len(urls))]
    return [AppriseSink(name, url, masker) for name, url in zip(names, urls, strict=True)], []

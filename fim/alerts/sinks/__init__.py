"""Building delivery targets from ``[[alerts.sinks]]`` entries (secrets read, programs checked)."""

from __future__ import annotations

from fim.alerts.config import SinkConfig
from fim.alerts.secret_values import Masker, SecretError, read_secret, url_lines
from fim.alerts.sinks.base import Audience, Batch, Sink, SinkError

__all__ = ["Audience", "Batch", "Sink", "SinkError", "build"]


def build(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    """The targets of one sink entry, and the problems (``key: message``) that prevent it.

    An apprise entry with several URLs gives one target per URL: ``name``, ``name#2``...
    """
    try:
        if cfg.type == "apprise":
            return _apprise(cfg, masker)
        if cfg.type == "webhook":
            from fim.alerts.sinks.webhook import WebhookSink

            url = read_secret(cfg.url, cfg.url_file, cfg.url_env, "url")
            masker.add(url, url=True)
            secret = read_secret(cfg.secret, cfg.secret_file, cfg.secret_env, "secret")
            masker.add(secret)
            for value in cfg.headers.values():
                masker.add(value)
            if not url.lower().startswith(("https://", "http://")):
                return [], ["url: must start with https:// (or http://)"]
            return [WebhookSink(cfg.name, url, headers=cfg.headers, secret=secret, masker=masker)], []
        if cfg.type == "exec":
            from fim.alerts.sinks.exec_sink import ExecSink, program_problem

            for value in cfg.env.values():
                masker.add(value)
            problem = program_problem(cfg.argv[0])
            if problem:
                return [], [f"argv: {problem}"]
            return [ExecSink(cfg.name, cfg.argv, cfg.env)], []
        if cfg.type == "jsonl":
            from fim.alerts.sinks.jsonl import JsonlSink

            return [JsonlSink(cfg.name, cfg.path)], []
    except SecretError as exc:
        return [], [str(exc)]
    return [], [f"type: unknown sink type {cfg.type!r}"]


def _apprise(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    from fim.alerts.sinks.apprise_sink import AppriseSink, url_problem

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

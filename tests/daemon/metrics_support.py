"""Scraping a daemon's /metrics over loopback and reading it with the client library's parser."""

from __future__ import annotations

import socket
import sqlite3
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Exposition:
    """One scrape: every sample by (name, labels), and the names of every family."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    families: set[str]
    text: str

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))

    def by(self, name: str, label: str) -> dict[str, float]:
        """``name``'s samples keyed by the value of ``label`` (other labels must not vary)."""
        return {dict(k)[label]: v for (n, k), v in self.samples.items() if n == name}

    def labelled(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {k: v for (n, k), v in self.samples.items() if n == name}

    @property
    def names(self) -> set[str]:
        """Every sample name and family name exposed."""
        return {n for n, _k in self.samples} | self.families


def parse(text: str) -> Exposition:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    families: set[str] = set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Exposition(samples, families, text)


def scrape(port: int, host: str = "127.0.0.1") -> Exposition:
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        return parse(response.read().decode())


def scrape_until(port: int, ready: Callable[[Exposition], bool], timeout: float = 60) -> Exposition:
    """Scrape until ``ready`` says the exposition shows what the test waits for."""
    deadline = time.monotonic() + timeout
    last: Exposition | None = None
    while time.monotonic() < deadline:
        try:
            last = scrape(port)
        except OSError:
            time.sleep(0.1)
            continue
        if ready(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"metrics never got there; last scrape:\n{last.text if last else '(none)'}")


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()

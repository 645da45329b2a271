"""Findings as Elastic Common Schema (ECS) events: the one JSON shape every machine output uses.

Flat objects and arrays of strings only (no arrays of objects: Wazuh's JSON decoder cannot
read them). Paths go through :func:`fim.paths.json_path_fields`, so ``file.path`` is always
safe to show and ``fim.path_b64`` carries the exact bytes whenever ``file.path`` is not them.
"""

from __future__ import annotations

import datetime as dt
import socket
import stat

from fim.core import paths
from fim.core.model import Finding, Problem, Severity, Writer, event_id
from fim.core.version import __version__

# ECS event.severity is numeric; spread the four levels over 0-100 like many SIEMs expect.
NUMERIC_SEVERITY = {Severity.LOW: 21, Severity.MEDIUM: 47, Severity.HIGH: 73, Severity.CRITICAL: 99}


def iso(ns: int) -> str:
    """The ``@timestamp`` form: UTC, milliseconds, ``Z``."""
    return (
        dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def finding_event(finding: Finding, *, hostname: str | None = None) -> dict:
    """One ECS document for one finding."""
    match = finding.match
    state = finding.state
    path_fields = paths.json_path_fields(finding.path)
    name_fields = paths.json_path_fields(paths.basename(finding.path))
    directory = finding.path.rsplit(b"/", 1)[0] or b"/"
    file: dict = {
        "path": path_fields["path"],
        "name": name_fields["path"],
        "directory": paths.display(directory),
        "extension": paths.display(paths.extension(finding.path).lstrip(b".")),
        "owner": paths.display(finding.owner),
    }
    if state is not None:
        file.update(
            {
                "size": state.size,
                "uid": str(state.uid),
                "gid": str(state.gid),
                "mode": f"{stat.S_IMODE(state.mode):04o}",
                "inode": str(state.ino),
                "device": str(state.dev),
                "mtime": iso(state.mtime_ns),
                "ctime": iso(state.ctime_ns),
            }
        )
        hashes = {k: v for k, v in (("sha256", state.sha256), ("md5", state.md5)) if v}
        if hashes:
            file["hash"] = hashes
    fim_fields: dict = {
        "tenant": finding.tenant,
        "severity": str(match.severity),
        "change": str(finding.change),
        "family": match.family,
        "version": __version__,
    }
    if match.chain:
        fim_fields["decode_chain"] = match.chain  # the layer the rule matched: base64>gzinflate
    if "path_b64" in path_fields:
        fim_fields["path_b64"] = path_fields["path_b64"]
    sha = state.sha256 if state else None
    event = {
        "@timestamp": iso(finding.detected_ns),
        "event": {
            "kind": "alert",
            "category": ["file", "malware"],
            "type": ["info"],
            "action": "file-matched",
            "id": event_id(finding.path, sha, match.rule, match.ruleset),
            "module": "fim",
            "dataset": "fim.finding",
            "severity": NUMERIC_SEVERITY[match.severity],
        },
        "host": {"name": hostname if hostname is not None else socket.gethostname()},
        "file": file,
        "rule": {
            "name": match.rule,
            "ruleset": match.ruleset,
            "description": match.description,
            "category": match.family,
        },
        "threat": {
            "framework": "MITRE ATT&CK",
            "tactic": {"id": ["TA0003"], "name": ["Persistence"]},
            "technique": {
                "id": ["T1505"],
                "name": ["Server Software Component"],
                "subtechnique": {"id": ["T1505.003"], "name": ["Web Shell"]},
            },
        },
        "fim": fim_fields,
    }
    if finding.writer is not None:
        event.update(writer_fields(finding.writer))
    return event


def writer_fields(writer: Writer) -> dict:
    """ECS ``process.*`` and ``user.*`` of the process that wrote the file (what is known)."""
    process: dict = {"pid": writer.pid}
    if writer.comm is not None:
        process["name"] = paths.display(writer.comm)
    if writer.exe is not None:
        process["executable"] = paths.display(writer.exe)
    out: dict = {"process": process}
    if writer.uid is not None:
        out["user"] = {"id": str(writer.uid), **({"name": paths.display(writer.user)} if writer.user else {})}
    return out


def problem_record(problem: Problem) -> dict:
    record = paths.json_path_fields(problem.path)
    record.update({"status": str(problem.status), "reason": problem.reason})
    return record

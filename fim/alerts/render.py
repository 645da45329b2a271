"""One text renderer for people (email bodies, chat messages), then per-channel escaping.

Every attacker-chosen string (path, tenant, owner, rule metadata) goes through
:func:`fim.paths.display` first: no control character, newline, bidi override or undecodable
byte reaches a message. What is left is printable text, which some channels still interpret:

- chat: ``@everyone``/``@here``/``@all``/``@channel`` and ``@name`` mentions, and Slack's
  ``<!channel>``/``<@U123>`` forms, become a visible ``(at)everyone`` / ``<(!)channel>``;
- Markdown chats (Mattermost, Discord, Rocket.Chat, Zulip, Teams): ``[x](url)`` in a file name
  would be a live link, ``*``/``_``/``~``/`` ` ``/``||`` restyle or hide text; each such
  character is backslash-escaped, so the name reads exactly as it is;
- Slack: ``&``, ``<``, ``>`` become entities (apprise does this itself for plain text; we only
  do it when the installed apprise does not, so nothing is escaped twice);
- email: the subject is one line of bounded length (Python's email package raises on CR/LF in a
  header, which would lose the alert).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from fim.core import paths
from fim.core.model import NO_TENANT, Severity
from fim.report import output

MAX_TENANTS_LISTED = 20
SUBJECT_LIMIT = 150


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered alert for people: title, body and the worst severity in it."""

    title: str
    body: str
    severity: Severity


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _tenant(row: dict) -> str:
    return paths.display(row["tenant"]) if row.get("tenant") else NO_TENANT


def finding_lines(row: dict) -> list[str]:
    sev = str(row["severity"]).upper()
    rule = paths.display(row["rule"])
    detail = [f"family {paths.display(row['family'])}"] if row.get("family") else []
    detail.append(f"rule set {paths.display(row['ruleset'])}")
    described = f": {paths.display(row['description'])}" if row.get("description") else ""
    facts = [f"{row['change']} file"]
    if row.get("size") is not None:
        facts.append(f"{row['size']} bytes")
    if row.get("sha256"):
        facts.append(f"sha256 {row['sha256']}")
    if row.get("owner"):
        facts.append(f"owner {paths.display(row['owner'])}")
    facts.append(f"detected {output.utc_time(row['detected_ns'])}")
    lines = [
        f"{sev:<8}  {paths.display(bytes(row['path']))}",
        f"          rule {rule} ({', '.join(detail)}){described}",
        f"          {', '.join(facts)}",
    ]
    if row.get("writer_pid") is not None:
        lines.append(f"          written by {output.writer_text(row)}")
    return lines


def findings_message(
    rows: Sequence[dict], host: str, *, max_listed: int = 10, digest: bool = False
) -> Message:
    """One message for findings rows (``fim.store`` columns), grouped by tenant, worst first."""
    host = paths.display(host)
    by_tenant: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_tenant[_tenant(row)].append(row)

    def rank(row: dict) -> Severity:
        return Severity.parse(row["severity"])

    worst = max(rank(r) for r in rows)
    order = sorted(
        by_tenant, key=lambda t: (-max(rank(r) for r in by_tenant[t]), -len(by_tenant[t]), t == NO_TENANT, t)
    )
    count = _plural(len(rows), "finding")
    prefix = "fim digest" if digest else "fim"
    if len(order) == 1:
        where = "without a tenant" if order[0] == NO_TENANT else f"for tenant {order[0]}"
        title = f"[{prefix}] {str(worst).upper()}: {count} {where} on {host}"
        lead = f"fim found {count} {where} on {host}."
    else:
        title = f"[{prefix}] {str(worst).upper()}: {count} in {len(order)} tenants on {host}"
        lead = f"fim found {count} in {len(order)} tenants on {host}."
    lines = [lead]
    counted_only: list[str] = []  # tenants past the listing budget: one line each
    budget = max_listed  # findings listed in the whole message; the rest are counted
    for tenant in order[:MAX_TENANTS_LISTED]:
        group = sorted(by_tenant[tenant], key=lambda r: (-rank(r), r["detected_ns"], bytes(r["path"])))
        shown = group[:budget]
        budget -= len(shown)
        header = f"tenant {tenant}: {_plural(len(group), 'finding')} (worst: {max(rank(r) for r in group)})"
        if not shown:
            counted_only.append(header)
            continue
        lines.append("")
        if len(order) > 1:
            lines.append(header)
        for row in shown:
            lines.extend(finding_lines(row))
        if len(group) > len(shown):
            lines.append(f"... and {len(group) - len(shown)} more for tenant {tenant}.")
    if counted_only:
        lines += ["", *counted_only]
    hidden = order[MAX_TENANTS_LISTED:]
    if hidden:
        n = sum(len(by_tenant[t]) for t in hidden)
        lines += ["", f"... and {_plural(n, 'finding')} in {_plural(len(hidden), 'more tenant')}."]
    if len(rows) > max_listed:
        lines += ["", f"Run `fim scan` on {host} to list every finding."]
    return Message(title, "\n".join(lines) + "\n", worst)


def notice_message(title: str, text: str, severity: Severity, host: str) -> Message:
    """A message about fim itself (health alerts, test alerts). Each line is displayed safely."""
    body = "\n".join(paths.display(line) for line in text.splitlines()) + "\n"
    return Message(
        f"[fim] {str(severity).upper()}: {paths.display(title)} on {paths.display(host)}", body, severity
    )


# -- per channel --------------------------------------------------------------------------------

_BROADCAST = re.compile(r"@(?=(?:everyone|here|all|channel)\b)", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@(?=\w)")
_ANGLE = re.compile(r"<([!@#])")


def neutralise_mentions(text: str) -> str:
    """Make every mention visible and inert: ``@everyone`` -> ``(at)everyone``, ``<!here>`` -> ``<(!)here>``.

    Broadcasts are neutralised wherever they appear (Discord pings ``x@everyone`` too); other
    ``@name`` only at the start of a word, so e-mail addresses stay readable.
    """
    text = _ANGLE.sub(lambda m: "<(at)" if m.group(1) == "@" else f"<({m.group(1)})", text)
    text = _BROADCAST.sub("(at)", text)
    return _MENTION.sub("(at)", text)


_MARKDOWN = re.compile(r"([\\`*_~\[\]|])")


def markdown_escape(text: str) -> str:
    """Backslash-escape what Markdown chats interpret inline (links, emphasis, code, spoilers)."""
    return _MARKDOWN.sub(r"\\\1", text)


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subject_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """One header-safe line: no CR/LF or other control or separator character, at most ``limit``."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    line = " ".join(cleaned.split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def for_email(message: Message) -> Message:
    return replace(message, title=subject_line(message.title))


def for_chat(message: Message, *, escape_slack: bool = False, escape_markdown: bool = False) -> Message:
    title, body = neutralise_mentions(subject_line(message.title)), neutralise_mentions(message.body)
    if escape_slack:
        title, body = slack_escape(title), slack_escape(body)
    if escape_markdown:
        title, body = markdown_escape(title), markdown_escape(body)
    return replace(message, title=title, body=body)

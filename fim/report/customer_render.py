"""Render a :class:`~fim.report.customer.CustomerReport` as text, JSON or one self-contained HTML page.

Text and HTML come from Jinja2 templates shipped in ``fim/report/templates``. ``--template DIR``
puts DIR first: a template found there is used, one missing there falls back to the bundled one
(so a company can override only ``advice.txt.j2``, or only the HTML page).

Escaping: templates named ``*.txt.j2`` are plain text and are not escaped (every attacker-chosen
value was already passed through :func:`fim.core.paths.display`); every other template is
HTML-escaped (autoescape), so a file named ``<script>...`` stays text in the page.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from fim.core.errors import UsageError
from fim.report import customer

if TYPE_CHECKING:
    import jinja2

FORMATS = ("text", "json", "html")
TEMPLATES = {"text": "report.txt.j2", "html": "report.html.j2"}
_BUNDLED = Path(__file__).with_name("templates")


def environment(template_dir: str | os.PathLike[str] | None = None) -> jinja2.Environment:
    """The template environment: ``template_dir`` first (if given), then the bundled templates."""
    import jinja2  # on first use: every other fim command would pay for it at start-up (35 ms)

    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not os.path.isdir(template_dir):
            raise UsageError(f"--template {os.fspath(template_dir)!r}: not a directory")
        loaders.append(jinja2.FileSystemLoader(os.fspath(template_dir)))
    loaders.append(jinja2.FileSystemLoader(os.fspath(_BUNDLED)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # HTML-escape everything but plain-text templates (*.txt.j2), whatever a company names them.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=(), disabled_extensions=("txt.j2",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,  # a misspelt name in a company template fails loudly
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    report: customer.CustomerReport, fmt: str, *, template_dir: str | os.PathLike[str] | None = None
) -> str:
    """The report in ``fmt`` (text, json or html)."""
    ctx = customer.context(report)
    if fmt == "json":
        ctx.pop("chart")  # drawing data, not report data
        # ensure_ascii=False keeps names readable; display() already escaped anything dangerous.
        return json.dumps(ctx, ensure_ascii=False, indent=2) + "\n"
    if fmt not in TEMPLATES:
        raise UsageError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
    import jinja2

    try:
        return environment(template_dir).get_template(TEMPLATES[fmt]).render(ctx)
    except jinja2.TemplateError as exc:
        where = getattr(exc, "filename", None) or getattr(exc, "name", None) or TEMPLATES[fmt]
        raise UsageError(f"report template {where}: {exc}") from None


def file_name(tenant: str | None, fmt: str) -> str:
    """A safe, distinct file name for a tenant's report in ``--all --output-dir``.

    Tenant names come from paths, so an attacker may choose them (``..x``, ``-rf``, a newline,
    a name differing from another only in case or in bytes). A plain name (letters, digits,
    ``._-``, starting with a letter or digit, up to 64 characters) is used as it is; any other
    becomes its safe characters (starting with a letter, digit or ``_``), ``~`` and a hash of
    the full name. Plain names contain no ``~``, so the two kinds never collide; findings
    outside every tenant go to ``_no-tenant`` (neither kind starts with ``_`` and lacks ``~``).
    """
    ext = {"text": "txt"}.get(fmt, fmt)
    if tenant is None:
        return f"_no-tenant.{ext}"
    if _plain(tenant):
        return f"{tenant}.{ext}"
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in tenant)[:40]
    digest = hashlib.sha256(tenant.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{safe.lstrip('.-') or '_'}~{digest}.{ext}"


def _plain(name: str) -> bool:
    return (
        0 < len(name) <= 64
        and name.isascii()
        and name[0].isalnum()
        and all(c.isalnum() or c in "._-" for c in name)
    )

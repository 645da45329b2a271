"""The HTML report of a hostile tree, rendered by a real browser (Debian's chromium, headless).

The names appear as text, and nothing in a name runs: every payload in the tree would change
the page title, add an element or set an attribute if it reached the page as markup. A control
test renders the same names through a template that does not escape them and checks that the
browser then does run them, so a quiet page is evidence, not a browser that ran nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_support import alice_paths, bob_path, hosting

from fim.core import paths

TITLE = "Security report for alice"
ACTIVE_TAGS = {
    "script",
    "img",
    "iframe",
    "object",
    "embed",
    "frame",
    "video",
    "audio",
    "link",
    "meta_refresh",
}


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs it (Debian package chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")


def dump_dom(page: Path) -> str:
    """The DOM after the page loaded and its scripts and handlers (if any) ran."""
    profile = tempfile.mkdtemp(prefix="fim-chromium-")
    try:
        argv = [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}",
            # Let timers and load/error events fire before the dump (virtual time: no waiting).
            "--virtual-time-budget=3000",
            "--dump-dom", page.as_uri(),
        ]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, timeout=180, check=False)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
        return proc.stdout.decode("utf-8")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Dom(HTMLParser):
    """The dumped DOM's elements, attributes, title and text."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self.text: list[str] = []
        self._in_title = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.text.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.elements if t == tag)

    def signs_of_injection(self) -> list[str]:
        """What a payload from a name would have left behind."""
        signs = []
        if self.title != TITLE:
            signs.append(f"title changed to {self.title!r}")
        for tag, attrs in self.elements:
            if tag in ACTIVE_TAGS:
                signs.append(f"<{tag}> element")
            signs += [f"{name} attribute on <{tag}>" for name in attrs if name.startswith("on")]
            if tag == "body" and attrs:
                signs.append(f"body attributes {attrs}")
        if self.count("svg") != 1:  # the severity chart
            signs.append(f"{self.count('svg')} svg elements")
        return signs


@pytest.fixture
def report(tmp_path: Path, fim):
    h = hosting(tmp_path)
    alice = alice_paths(h)
    bob_path(h)
    h.scan(fim)
    return h, alice


def test_html_report_of_hostile_names_shows_them_as_text_and_runs_nothing_in_chromium(report, fim, tmp_path):
    h, alice = report
    r = h.report(fim, "--tenant", "alice", "--format", "html")
    assert r.code == 0, r.err
    page = tmp_path / "alice.html"
    page.write_bytes(r.out)
    # The page's own Content-Security-Policy would block scripts even if escaping failed: check
    # the escaping alone too, on a copy without it.
    csp = (
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )
    assert csp in r.text
    bare = tmp_path / "alice-without-csp.html"
    bare.write_text(r.text.replace(csp, ""))
    for rendered in (page, bare):
        dom = Dom(dump_dom(rendered))
        assert dom.signs_of_injection() == [], rendered.name
        text = "".join(dom.text)
        for p in alice:
            assert paths.display(p) in text, paths.display(p)
        assert "<script>document.title='pwned-script'</script>.php" in text
        assert "invoice\\u202egnp.php" in text and "\u202e" not in text
        assert "new\\nline.php" in text and "\\xff\\xfe<i>latin1-\\xe9.php" in text
        assert "&lt;b&gt;already-escaped&amp;.php" in text  # shown as typed, not decoded
        assert "bob" not in text
        assert sum(1 for t, a in dom.elements if t == "table" and a.get("class") == "finding") == len(alice)


def test_browser_check_sees_the_payloads_run_when_a_template_does_not_escape(report, fim, tmp_path):
    h, _ = report
    company = tmp_path / "careless"
    company.mkdir()
    # A careless company template: the path marked safe, no CSP. The payloads must run here.
    # The unclosed <iframe> payload goes last: the browser reads everything after it as the
    # iframe's raw text, so the other payloads would never run (findings come in the order the
    # inspection workers finish, which varies).
    each = "<p>{{ f.path | safe }}</p>{% endfor %}"
    (company / "report.html.j2").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Security report for {{ tenant }}</title>'
        '</head><body><svg></svg>{% for f in findings if "iframe" not in f.path %}'
        + each
        + '{% for f in findings if "iframe" in f.path %}'
        + each
        + "</body></html>"
    )
    r = h.report(fim, "--tenant", "alice", "--format", "html", "--template", company)
    assert r.code == 0, r.err
    page = tmp_path / "careless.html"
    page.write_bytes(r.out)
    signs = Dom(dump_dom(page)).signs_of_injection()
    assert any(s.startswith("title changed to 'pwned-") for s in signs), signs
    assert "<img> element" in signs and "onerror attribute on <img>" in signs

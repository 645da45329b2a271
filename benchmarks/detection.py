#!/usr/bin/env python3
"""Detection benchmark: recall and false positives of fim (and of other YARA rule sets) on a
labelled corpus of real webshells and real applications.

The corpus is laid out as the development-corpus kit builds it: ``<corpus>/labels.tsv`` (one
row per file: sha256, label, source, relpath, ext, size) and the files at
``<corpus>/<label>/<source>/<relpath>``. Families follow the extension: PHP, ASP, JSP, and
other.

fim runs through its library (:func:`fim.scan`, in-memory baseline, no database file) with the
configuration, extra rules and severity cut given. Each ``--compare NAME=DIR`` rule folder is
matched with yara-python directly: every ``.yar``/``.yara`` file is compiled on its own first,
and files that do not compile are skipped and listed in the report. fim's externals are defined
(empty strings, layer 0) so rule sets that use them compile.

Outputs:

- a markdown report (``--out``, default ``benchmarks/DETECTION.md``): figures only, never a
  sample's content or path;
- per engine, the misses and the false positives with their relpaths, as TSV files in
  ``--lists-dir`` (default ``<corpus>/detection/``; ``--misses FILE`` for fim's misses), which
  stays beside the corpus, outside the repository;
- ``--json FILE`` (``-`` for stdout): the figures for scripts.

Samples are only read, never executed. Usage::

    python benchmarks/detection.py --corpus ../corpus \\
        --compare signature-base=../corpus/public-rules/signature-base-webshells
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import stat
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yara

import fim
from fim.config import loader as fim_config
from fim.core.model import Finding, Severity
from fim.detect import rules as fim_rules

REPO = Path(__file__).resolve().parent.parent
FAMILIES: dict[str, frozenset[str]] = {
    "php": frozenset({"php", "php3", "php4", "php5", "php7", "phtml", "pht", "inc"}),
    "asp": frozenset({"asp", "aspx", "ashx", "asmx", "cer"}),
    "jsp": frozenset({"jsp", "jspx"}),
}
FAMILY_ORDER = ("php", "asp", "jsp", "other")
FAMILY_NAMES = {"php": "PHP", "asp": "ASP/ASPX", "jsp": "JSP", "other": "other"}
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
# The goals of issue 14 (development corpus): recall per family, false-positive ceilings.
RECALL_GOALS = {"php": 0.92, "asp": 0.92, "jsp": 0.92, "other": 0.85}
MAX_FILE_SIZE = 32 << 20
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def family_of(ext: str) -> str:
    for name, exts in FAMILIES.items():
        if ext in exts:
            return name
    return "other"


def tsv_path(p: bytes) -> str:
    """How the corpus builder writes a relpath into labels.tsv (tab, CR, LF escaped; bytes
    that are not UTF-8 as ``\\xNN``). We map file system paths to rows in this direction, which
    is unambiguous, rather than parsing the escaped form back."""
    s = p.decode("utf-8", "backslashreplace")
    return s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# --- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    label: str  # malicious | benign
    source: str
    relpath: str  # escaped as in labels.tsv
    ext: str
    size: int

    @property
    def family(self) -> str:
        return family_of(self.ext)


@dataclass
class Corpus:
    root: Path
    samples: dict[tuple[str, str, str], Sample]  # (label, source, relpath) -> sample

    def lookup(self, path: bytes) -> Sample | None:
        """The labelled sample at an absolute path under the corpus, if any."""
        root = os.fsencode(self.root) + b"/"
        if not path.startswith(root):
            return None
        parts = path[len(root) :].split(b"/", 2)
        if len(parts) != 3:
            return None
        key = (parts[0].decode("utf-8", "replace"), parts[1].decode("utf-8", "replace"), tsv_path(parts[2]))
        return self.samples.get(key)

    def files(self) -> Iterator[tuple[bytes, Sample]]:
        """Every labelled file on disk, found by walking (paths stay bytes)."""
        for label in ("malicious", "benign"):
            top = os.fsencode(self.root / label)
            if not os.path.isdir(top):
                continue
            for dirpath, _dirs, names in os.walk(top):
                for name in names:
                    path = os.path.join(dirpath, name)
                    sample = self.lookup(path)
                    if sample is not None:
                        yield path, sample


def load_corpus(root: Path) -> Corpus:
    labels = root / "labels.tsv"
    if not labels.is_file():
        raise SystemExit(f"{labels}: not found (build the corpus with the kit's build.py first)")
    samples: dict[tuple[str, str, str], Sample] = {}
    with labels.open(encoding="utf-8", newline="\n") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        missing = {"label", "source", "relpath", "ext", "size"} - col.keys()
        if missing:
            raise SystemExit(f"{labels}: missing columns {sorted(missing)}")
        for line in fh:
            row = line.rstrip("\n").split("\t")
            if len(row) < len(header):
                continue
            s = Sample(
                label=row[col["label"]],
                source=row[col["source"]],
                relpath=row[col["relpath"]],
                ext=row[col["ext"]],
                size=int(row[col["size"]] or 0),
            )
            samples[(s.label, s.source, s.relpath)] = s
    return Corpus(root, samples)


# --- results ----------------------------------------------------------------------------------


@dataclass
class Hit:
    severity: Severity  # worst severity among the matches kept
    rules: tuple[str, ...]  # namespace:rule


@dataclass
class EngineResult:
    name: str
    kind: str  # "fim" or "yara"
    description: str
    hits: dict[tuple[str, str, str], Hit] = field(default_factory=dict)
    unread: Counter = field(default_factory=Counter)  # reason -> labelled files not matched
    wall_s: float = 0.0
    cpu_s: float = 0.0
    compile_s: float = 0.0
    rule_files: int = 0
    rules: int = 0
    skipped_files: list[str] = field(default_factory=list)  # "name: reason" (rule files)


def _worst(severities: Iterable[Severity]) -> Severity:
    return max(severities)


def run_fim(
    corpus: Corpus,
    *,
    config_path: Path | None,
    extra_rules: list[str],
    bundled: bool,
    min_severity: Severity,
    jobs: int,
) -> EngineResult:
    config = fim_config.load(config_path)
    use_bundled = config.rules.bundled if bundled else False
    desc = f"fim {fim.__version__} library scan, " + ("bundled rules" if use_bundled else "no bundled rules")
    if extra_rules or config.rules.paths:
        desc += f" + {len(extra_rules) + len(config.rules.paths)} extra rule path(s)"
    if config_path:
        desc += f", config {config_path.name}"
    res = EngineResult("fim", "fim", desc)
    sources = fim_rules.discover([*config.rules.paths, *extra_rules], bundled=use_bundled)
    res.rule_files = len(sources)
    res.rules = sum(1 for _ in yara.compile(
        filepaths={s.namespace: str(s.path) for s in sources},
        externals={**dict.fromkeys(fim_rules.EXTERNAL_NAMES, ""), **fim_rules.LAYER_DEFAULTS},
    ))  # fmt: skip
    roots = [str(corpus.root / label) for label in ("malicious", "benign") if (corpus.root / label).is_dir()]
    t0, c0 = time.monotonic(), time.process_time()
    report = fim.scan(roots, config=config, extra_rules=extra_rules, use_bundled=use_bundled, jobs=jobs)
    res.wall_s, res.cpu_s = time.monotonic() - t0, time.process_time() - c0
    found: dict[bytes, list[Finding]] = defaultdict(list)
    for f in report.findings:
        found[f.path].append(f)
    for path, findings in found.items():
        sample = corpus.lookup(path)
        kept = [f for f in findings if f.match.severity >= min_severity]
        if sample is None or not kept:
            continue
        names = sorted({f"{f.match.ruleset}:{f.match.rule}" for f in kept})
        res.hits[(sample.label, sample.source, sample.relpath)] = Hit(
            _worst(f.match.severity for f in kept), tuple(names)
        )
    for problem in report.problems:
        if corpus.lookup(problem.path) is not None:
            res.unread[str(problem.status)] += 1
    return res


def compile_folder(folder: Path) -> tuple[yara.Rules | None, list[Path], list[str]]:
    """Compile every rule file of ``folder`` that compiles on its own; report the others."""
    externals = {**dict.fromkeys(fim_rules.EXTERNAL_NAMES, ""), **fim_rules.LAYER_DEFAULTS}
    files = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in fim_rules.RULE_SUFFIXES and p.is_file()
    )
    good: list[Path] = []
    skipped: list[str] = []
    for p in files:
        try:
            yara.compile(filepath=str(p), externals=externals)
        except yara.Error as exc:
            skipped.append(f"{p.name}: {str(exc).rsplit(': ', 1)[-1][:120]}")
            continue
        good.append(p)
    if not good:
        return None, good, skipped
    namespaces: dict[str, str] = {}
    for p in good:
        ns, n = p.stem, 1
        while ns in namespaces:
            n += 1
            ns = f"{p.stem}.{n}"
        namespaces[ns] = str(p)
    try:
        return yara.compile(filepaths=namespaces, externals=externals), good, skipped
    except yara.Error as exc:  # e.g. the same rule name in two files of one set
        raise SystemExit(f"{folder}: rule files compile alone but not together: {exc}") from None


def _read(path: bytes) -> bytes | str:
    """The file's bytes, or why it was not matched (as fim would: no symlink, regular files,
    at most the size fim matches)."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        return "error" if exc.errno != 40 else "symlink"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "special"
        if st.st_size > MAX_FILE_SIZE:
            return "too_large"
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def run_yara(
    corpus: Corpus, name: str, folder: Path, *, min_severity: Severity, jobs: int, timeout: int,
    file_externals: bool,
) -> EngineResult:  # fmt: skip
    res = EngineResult(name, "yara", f"yara-python {yara.__version__}, rules from {folder.name}/")
    t0 = time.monotonic()
    rules, good, res.skipped_files = compile_folder(folder)
    res.compile_s = time.monotonic() - t0
    res.rule_files = len(good)
    if rules is None:
        return res
    res.rules = sum(1 for _ in rules)
    empty = {**dict.fromkeys(fim_rules.EXTERNAL_NAMES, ""), **fim_rules.LAYER_DEFAULTS}

    def one(item: tuple[bytes, Sample]) -> tuple[Sample, Hit | None, str]:
        path, sample = item
        data = _read(path)
        if isinstance(data, str):
            return sample, None, data
        externals = dict(empty)
        if file_externals:
            externals.update(fim_rules.externals_for(path, data[:16], ""))
        try:
            matches = rules.match(data=data, externals=externals, timeout=timeout)
        except yara.TimeoutError:
            return sample, None, "timeout"
        except yara.Error:
            return sample, None, "error"
        kept = [(fim_rules.severity_from_meta(dict(m.meta)), f"{m.namespace}:{m.rule}") for m in matches]
        kept = [(sev, r) for sev, r in kept if sev >= min_severity]
        if not kept:
            return sample, None, ""
        return sample, Hit(_worst(s for s, _ in kept), tuple(sorted({r for _, r in kept}))), ""

    t0, c0 = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for sample, hit, problem in pool.map(one, corpus.files(), chunksize=64):
            if problem:
                res.unread[problem] += 1
            if hit is not None:
                res.hits[(sample.label, sample.source, sample.relpath)] = hit
    res.wall_s, res.cpu_s = time.monotonic() - t0 + res.compile_s, time.process_time() - c0
    return res


# --- figures ----------------------------------------------------------------------------------


def _pct(n: int, d: int, digits: int = 1) -> str:
    return f"{100.0 * n / d:.{digits}f}%" if d else "n/a"


def _count_pct(n: int, d: int) -> str:
    return f"{n} ({_pct(n, d, 3)})"


def figures(corpus: Corpus, res: EngineResult) -> dict:
    """Everything the report and the JSON show for one engine (no relpath)."""
    recall: dict[str, dict[str, int]] = {f: {"files": 0, "found": 0} for f in FAMILY_ORDER}
    per_source_mal: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "found": 0})
    misses_by_source: dict[str, Counter] = defaultdict(Counter)
    fp = {
        "all": {"files": 0, "flagged": 0},
        "php": {"files": 0, "flagged": 0},
        "by_severity": {str(s): 0 for s in SEVERITIES},
        "by_severity_php": {str(s): 0 for s in SEVERITIES},
        "by_source": defaultdict(lambda: {"files": 0, "php_files": 0, "flagged": 0, "flagged_php": 0,
                                          **{str(s): 0 for s in SEVERITIES}}),
        "rules": Counter(),
    }  # fmt: skip
    for key, sample in corpus.samples.items():
        hit = res.hits.get(key)
        if sample.label == "malicious":
            fam = sample.family
            recall[fam]["files"] += 1
            per_source_mal[sample.source]["files"] += 1
            if hit:
                recall[fam]["found"] += 1
                per_source_mal[sample.source]["found"] += 1
            else:
                misses_by_source[sample.source][fam] += 1
        else:
            php = sample.family == "php"
            src = fp["by_source"][sample.source]
            fp["all"]["files"] += 1
            src["files"] += 1
            if php:
                fp["php"]["files"] += 1
                src["php_files"] += 1
            if hit:
                sev = str(hit.severity)
                fp["all"]["flagged"] += 1
                fp["by_severity"][sev] += 1
                src["flagged"] += 1
                src[sev] += 1
                if php:
                    fp["php"]["flagged"] += 1
                    fp["by_severity_php"][sev] += 1
                    src["flagged_php"] += 1
                fp["rules"].update(hit.rules)
    total = {
        "files": sum(r["files"] for r in recall.values()),
        "found": sum(r["found"] for r in recall.values()),
    }
    return {
        "engine": res.name,
        "kind": res.kind,
        "description": res.description,
        "rule_files": res.rule_files,
        "rules": res.rules,
        "skipped_rule_files": res.skipped_files,
        "recall": recall,
        "recall_total": total,
        "recall_by_source": dict(per_source_mal),
        "misses_by_source": {s: dict(c) for s, c in misses_by_source.items()},
        "false_positives": {
            "all": fp["all"],
            "php": fp["php"],
            "by_severity": fp["by_severity"],
            "by_severity_php": fp["by_severity_php"],
            "by_source": dict(fp["by_source"]),
            "rules": dict(fp["rules"].most_common()),
        },
        "not_matched": dict(res.unread),
        "wall_s": round(res.wall_s, 2),
        "cpu_s": round(res.cpu_s, 2),
        "compile_s": round(res.compile_s, 2),
    }


def write_lists(corpus: Corpus, res: EngineResult, lists_dir: Path, misses_file: Path | None,
                others: list[EngineResult]) -> dict[str, str]:  # fmt: skip
    """The relpaths behind the counts, beside the corpus (never in the repository)."""
    lists_dir.mkdir(parents=True, exist_ok=True)
    misses = misses_file or lists_dir / f"misses-{res.name}.tsv"
    fps = lists_dir / f"false-positives-{res.name}.tsv"
    misses.parent.mkdir(parents=True, exist_ok=True)
    with misses.open("w", encoding="utf-8") as fh:
        fh.write("source\tfamily\trelpath\tfound_by\n")
        for key in sorted(k for k, s in corpus.samples.items() if s.label == "malicious"):
            if key in res.hits:
                continue
            sample = corpus.samples[key]
            found_by = ",".join(o.name for o in others if key in o.hits)
            fh.write(f"{sample.source}\t{sample.family}\t{sample.relpath}\t{found_by}\n")
    with fps.open("w", encoding="utf-8") as fh:
        fh.write("source\tfamily\trelpath\tseverity\trules\n")
        for key in sorted(k for k in res.hits if k[0] == "benign"):
            sample, hit = corpus.samples[key], res.hits[key]
            fh.write(
                f"{sample.source}\t{sample.family}\t{sample.relpath}\t{hit.severity}\t{','.join(hit.rules)}\n"
            )
    return {"misses": str(misses), "false_positives": str(fps)}


# --- the report -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    commit = ""
    try:
        r = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, check=False)  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "fim", "rules"],
                               capture_output=True, text=True, check=False)  # fmt: skip
        commit = r.stdout.strip() + (
            " (with uncommitted changes to fim/ or rules/)" if dirty.stdout.strip() else ""
        )
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "yara": yara.__version__,
        "fim": fim.__version__,
        "commit": commit,
    }


def render(meta: dict, results: list[dict]) -> str:
    lines = ["# Detection on the development corpus", ""]
    m = meta["machine"]
    lines += [
        f"Measured {meta['date']} on {m['cpu']} ({m['cores']} cores, {m['memory']}), Linux "
        f"{m['kernel']}, Python {m['python']}, yara-python {m['yara']}; fim {m['fim']} at commit "
        f"{m['commit'] or 'unknown'}. Load average before / after: {meta['load_before']} / "
        f"{meta['load_after']}; {meta['jobs']} worker threads per engine.",
        "",
        f"Corpus: {meta['corpus']['malicious']} malicious files from "
        f"{meta['corpus']['malicious_sources']} collections, {meta['corpus']['benign']} benign files "
        f"({meta['corpus']['benign_php']} PHP-family) from {meta['corpus']['benign_sources']} "
        f"applications (labels.tsv of the corpus kit). Severity cut: findings at or above "
        f"**{meta['min_severity']}** count. Command: `{meta['command']}`.",
        "",
        "Engines:",
        "",
    ]
    for r in results:
        line = f"- **{r['engine']}**: {r['description']}; {r['rule_files']} rule files, {r['rules']} rules"
        if r["skipped_rule_files"]:
            line += f"; {len(r['skipped_rule_files'])} rule files skipped (do not compile): " + "; ".join(
                f"`{s}`" for s in r["skipped_rule_files"]
            )
        lines.append(line + ".")
    names = [r["engine"] for r in results]
    head = "| | " + " | ".join(names) + " | goal |"
    sep = "|---|" + "---:|" * len(names) + "---|"
    lines += ["", "## Recall (malicious files flagged)", "", head, sep]
    for fam in FAMILY_ORDER:
        n = results[0]["recall"][fam]["files"]
        cells = [f"{_pct(r['recall'][fam]['found'], n)} ({r['recall'][fam]['found']})" for r in results]
        lines.append(
            f"| {FAMILY_NAMES[fam]} ({n}) | " + " | ".join(cells) + f" | >= {RECALL_GOALS[fam]:.0%} |"
        )
    n = results[0]["recall_total"]["files"]
    lines.append(
        f"| all ({n}) | "
        + " | ".join(f"{_pct(r['recall_total']['found'], n)} ({r['recall_total']['found']})" for r in results)
        + " | |"
    )
    lines += ["", "## False positives (benign files flagged)", "", head, sep]
    fa, fpphp = results[0]["false_positives"]["all"]["files"], results[0]["false_positives"]["php"]["files"]
    lines.append(
        f"| all benign files ({fa}) | "
        + " | ".join(_count_pct(r["false_positives"]["all"]["flagged"], fa) for r in results)
        + " | <= 0.0025% |"
    )
    lines.append(
        f"| benign PHP-family files ({fpphp}) | "
        + " | ".join(_count_pct(r["false_positives"]["php"]["flagged"], fpphp) for r in results)
        + " | |"
    )
    for sev in SEVERITIES:
        lines.append(
            f"| worst severity {sev}: all (PHP-family) | "
            + " | ".join(
                f"{r['false_positives']['by_severity'][str(sev)]} "
                f"({r['false_positives']['by_severity_php'][str(sev)]})"
                for r in results
            )
            + (" | none |" if sev == Severity.CRITICAL else " | |")
        )
    lines += ["", "### False positives per application", ""]
    lines += ["| application | files (PHP) | " + " | ".join(names) + " |"]
    lines += ["|---|---:|" + "---:|" * len(names)]
    sources = sorted(results[0]["false_positives"]["by_source"])
    for src in sources:
        s0 = results[0]["false_positives"]["by_source"][src]
        cells = []
        for r in results:
            s = r["false_positives"]["by_source"][src]
            sev = "/".join(str(s[str(x)]) for x in SEVERITIES)
            cells.append(f"{s['flagged']} ({s['flagged_php']}) c/h/m/l {sev}" if s["flagged"] else "0")
        lines.append(f"| {src} | {s0['files']} ({s0['php_files']}) | " + " | ".join(cells) + " |")
    lines += ["", "Cells: flagged files (of them PHP-family) and the worst severity per flagged file.", ""]
    for r in results:
        rules = r["false_positives"]["rules"]
        lines += [f"### Rules behind the false positives: {r['engine']}", ""]
        if not rules:
            lines += ["None.", ""]
            continue
        lines += ["| rule | benign files |", "|---|---:|"]
        lines += [f"| `{rule}` | {n} |" for rule, n in list(rules.items())[:40]]
        if len(rules) > 40:
            lines.append(f"| ... {len(rules) - 40} more rules | |")
        lines.append("")
    lines += ["## Misses per collection", "", "| collection | files | " + " | ".join(names) + " |",
              "|---|---:|" + "---:|" * len(names)]  # fmt: skip
    for src in sorted(results[0]["recall_by_source"]):
        n = results[0]["recall_by_source"][src]["files"]
        cells = []
        for r in results:
            by_fam = r["misses_by_source"].get(src, {})
            missed = sum(by_fam.values())
            detail = ", ".join(f"{FAMILY_NAMES[f]} {by_fam[f]}" for f in FAMILY_ORDER if by_fam.get(f))
            cells.append(f"{missed}" + (f" ({detail})" if detail else ""))
        lines.append(f"| {src} | {n} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "The relpaths of misses and false positives are written beside the corpus (never here).",
        "",
        "## Time",
        "",
        "| engine | wall s | CPU s | of which compile s | files not matched |",
        "|---|---:|---:|---:|---|",
    ]
    for r in results:
        nm = ", ".join(f"{k} {v}" for k, v in sorted(r["not_matched"].items())) or "0"
        compile_s = f"{r['compile_s']:.1f}" if r["kind"] == "yara" else "incl."
        lines.append(f"| {r['engine']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {compile_s} | {nm} |")
    lines += [
        "",
        "fim's time is one library scan (`fim.scan`, in-memory baseline) of the malicious and benign "
        "folders: walking, reading, hashing, matching and recording, rule compilation included. "
        "The yara rows read and match the labelled files only. CPU s counts every thread.",
        "",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def parse_compare(values: list[str]) -> list[tuple[str, Path]]:
    out = []
    for v in values:
        name, sep, folder = v.partition("=")
        if not sep or not name or not folder:
            raise SystemExit(f"--compare {v!r}: expected NAME=DIR")
        if name == "fim" or any(name == n for n, _ in out):
            raise SystemExit(f"--compare {v!r}: the name {name!r} is taken")
        p = Path(folder)
        if not p.is_dir():
            raise SystemExit(f"--compare {v!r}: {folder} is not a folder")
        out.append((name, p))
    return out


def main(argv: list[str] | None = None, *, log: Callable[[str], None] | None = None) -> int:
    log = log or (lambda s: print(s, file=sys.stderr))
    default_corpus = os.environ.get("FIM_CORPUS") or str(REPO.parent / "corpus")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus", type=Path, default=Path(default_corpus), help="default: $FIM_CORPUS, else ../corpus"
    )
    ap.add_argument("--config", type=Path, help="fim configuration file (TOML) to scan with")
    ap.add_argument("--rules", action="append", default=[], help="extra rule file or folder for fim")
    ap.add_argument("--no-bundled-rules", action="store_true", help="fim without its bundled rules")
    ap.add_argument("--min-severity", default="low", help="count findings at or above (default low)")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=DIR",
                    help="also match this YARA rule folder with yara-python (repeatable)")  # fmt: skip
    ap.add_argument("--compare-file-externals", action="store_true",
                    help="give compared rule sets real filename/extension/filetype")  # fmt: skip
    ap.add_argument("--no-fim", action="store_true", help="only the --compare rule sets")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "DETECTION.md")
    ap.add_argument("--no-out", action="store_true", help="write no markdown report")
    ap.add_argument("--json", dest="json_out", help="write the figures as JSON to FILE ('-': stdout)")
    ap.add_argument("--lists-dir", type=Path, help="where relpaths of misses/false positives go "
                    "(default <corpus>/detection)")  # fmt: skip
    ap.add_argument("--misses", type=Path, help="fim's misses to this file instead")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=10, help="seconds of matching per file (yara)")
    args = ap.parse_args(argv)
    try:
        min_severity = Severity.parse(args.min_severity)
    except ValueError as exc:
        ap.error(str(exc))
    compare = parse_compare(args.compare)
    if args.no_fim and not compare:
        ap.error("--no-fim needs at least one --compare")
    corpus_root = args.corpus.absolute()
    corpus = load_corpus(corpus_root)
    lists_dir = args.lists_dir or corpus_root / "detection"

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    engines: list[EngineResult] = []
    if not args.no_fim:
        log(f"fim: scanning {len(corpus.samples)} labelled files ...")
        engines.append(
            run_fim(
                corpus,
                config_path=args.config,
                extra_rules=args.rules,
                bundled=not args.no_bundled_rules,
                min_severity=min_severity,
                jobs=args.jobs,
            )
        )
    for name, folder in compare:
        log(f"{name}: matching {len(corpus.samples)} labelled files ...")
        engines.append(
            run_yara(
                corpus,
                name,
                folder,
                min_severity=min_severity,
                jobs=args.jobs,
                timeout=args.timeout,
                file_externals=args.compare_file_externals,
            )
        )
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results = [figures(corpus, e) for e in engines]
    lists = {}
    for e in engines:
        others = [o for o in engines if o is not e]
        lists[e.name] = write_lists(corpus, e, lists_dir, args.misses if e.kind == "fim" else None, others)
    labels = Counter(s.label for s in corpus.samples.values())
    meta = {
        "date": started,
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_after,
        "jobs": args.jobs,
        "min_severity": str(min_severity),
        "command": _command(args),
        "corpus": {
            "malicious": labels["malicious"],
            "benign": labels["benign"],
            "benign_php": sum(s.label == "benign" and s.family == "php" for s in corpus.samples.values()),
            "malicious_sources": len({s.source for s in corpus.samples.values() if s.label == "malicious"}),
            "benign_sources": len({s.source for s in corpus.samples.values() if s.label == "benign"}),
        },
    }
    report = render(meta, results)
    if not args.no_out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
        log(f"report: {args.out}")
    for name, paths in lists.items():
        log(f"{name}: misses in {paths['misses']}, false positives in {paths['false_positives']}")
    if args.json_out:
        doc = json.dumps({"meta": meta, "engines": results}, indent=2, sort_keys=False) + "\n"
        if args.json_out == "-":
            sys.stdout.write(doc)
        else:
            Path(args.json_out).write_text(doc)
    else:
        print(report)
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line, with folders shown by name only (no path of this machine)."""
    parts = ["python benchmarks/detection.py", f"--corpus {args.corpus.name}"]
    if args.config:
        parts.append(f"--config {args.config.name}")
    parts += [f"--rules {Path(r).name}" for r in args.rules]
    if args.no_bundled_rules:
        parts.append("--no-bundled-rules")
    if args.min_severity != "low":
        parts.append(f"--min-severity {args.min_severity}")
    for c in args.compare:
        name, _, folder = c.partition("=")
        parts.append(f"--compare {name}={Path(folder).name}")
    if args.compare_file_externals:
        parts.append("--compare-file-externals")
    if args.no_fim:
        parts.append("--no-fim")
    return " ".join(parts)


if __name__ == "__main__":
    sys.exit(main())

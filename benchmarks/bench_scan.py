#!/usr/bin/env python3
"""Benchmark ``fim scan`` against plain ``yara`` + ``sha256sum`` on a generated hosting tree.

One run:

1. generates a tree with ``gentree.py`` (or reuses the one in ``--workdir``) and its manifest
   of planted webshell-like samples;
2. reads every file once (warm-up) so every tool sees a warm page cache;
3. ``--repeat`` times, in this order: ``fim scan`` with a fresh database (first scan), the same
   scan again on the unchanged tree (second scan), again after 1 % of the files were modified
   (rescan), ``yara -r`` with the same rules fim uses, and ``sha256sum`` over every file via
   ``find | xargs -P``;
4. prints a markdown report (medians over the repeats) and writes it to ``--out``.

Every tool gets the same parallelism (``--jobs``). Wall time is measured around each command;
peak RSS and CPU time come from ``os.wait4`` (the child and the descendants it waited for).
Only argv lists are passed to subprocess (no shell); the report contains no absolute path.

The same run measures the small-file tree of ``bench_small.py`` (``--small-files``; fim's
cost per file against yara + sha256sum, and the no-change rescan per file), and with
``--million`` the 1,000,000-file tree (first-scan peak RSS, no-change rescan time).

Usage::

    python benchmarks/bench_scan.py --files 20000 --repeat 3
    python benchmarks/bench_scan.py --small-only --repeat 3       # the small-file tree alone
    python benchmarks/bench_scan.py --small-only --million        # and the 1,000,000-file tree
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_small  # noqa: E402
import gentree  # noqa: E402

REPO = HERE.parent
RULES_DIR = REPO / "rules"
RULE_SUFFIXES = (".yar", ".yara")
EXTERNALS = ("filename", "filepath", "extension", "filetype", "owner")
MiB = 1024 * 1024
SPEEDUP_TARGET = 10.0

# Used only when rules/ holds no rule file (or with --rules-source builtin): covers every kind
# of sample gentree.py plants, so the detection check stays meaningful.
BUILTIN_RULES = r"""
rule bench_php_eval_request
{
    meta:
        description = "eval/assert on request input"
        severity = "critical"
        family = "bench"
    strings:
        $a = /[^\w>$](eval|assert)\s{0,10}\([^;]{0,120}\$_(GET|POST|REQUEST|COOKIE)\b/ nocase
    condition:
        $a
}

rule bench_php_eval_request_variable
{
    meta:
        description = "small script: request input in a variable, eval of a variable"
        severity = "critical"
        family = "bench"
    strings:
        $assign = /\$\w{1,30}\s{0,5}=\s{0,5}\$_(GET|POST|REQUEST|COOKIE)\b/
        $sink = /[^\w>$](eval|assert)\s{0,10}\(\s{0,10}\$\w/ nocase
    condition:
        filesize < 6KB and $assign and $sink
}

rule bench_php_command_request
{
    meta:
        description = "OS command from request input"
        severity = "critical"
        family = "bench"
    strings:
        $a = /[^\w>$](system|shell_exec|passthru|exec)\s{0,10}\([^;]{0,80}\$_(GET|POST|REQUEST)\b/ nocase
        $b = /[^\w>$](popen|proc_open)\s{0,10}\([^;]{0,80}\$_(GET|POST|REQUEST|COOKIE)\b/ nocase
        $c = /[^\w>$](system|shell_exec|passthru|exec)\s{0,10}\([^;]{0,80}\$_COOKIE\b/ nocase
    condition:
        any of them
}

rule bench_php_request_as_function
{
    meta:
        description = "request parameter called as a function, or variable function on request input"
        severity = "critical"
        family = "bench"
    strings:
        $a = /\$_(GET|POST|REQUEST|COOKIE)\s{0,5}\[[^\]\n]{1,40}\]\s{0,5}\(/
        $b = /[^\w>$:]\$\w{1,30}\s{0,5}\(\s{0,5}(stripslashes\s{0,5}\(\s{0,5})?\$_(GET|POST|REQUEST|COOKIE)\b/
    condition:
        any of them
}

rule bench_php_preg_replace_e
{
    meta:
        description = "preg_replace with the /e modifier"
        severity = "high"
        family = "bench"
    strings:
        $a = /preg_replace\s{0,5}\(\s{0,5}['"][^'"\n]{1,100}\/[a-df-z]{0,5}e[a-z]{0,5}['"]/ nocase
    condition:
        $a
}

rule bench_php_include_stream
{
    meta:
        description = "include of php://input or data:"
        severity = "critical"
        family = "bench"
    strings:
        $a = /(include|require)(_once)?\s{0,5}\(?\s{0,5}['"](php:\/\/input|data:)/ nocase
    condition:
        $a
}

rule bench_image_header_with_php
{
    meta:
        description = "GIF/JPEG/PNG magic followed by PHP code"
        severity = "high"
        family = "bench"
    strings:
        $php = "<?php" nocase
    condition:
        (uint32(0) == 0x38464947 or uint16(0) == 0xd8ff or uint32(0) == 0x474e5089) and $php in (0..1024)
}

rule bench_htaccess_php_handler
{
    meta:
        description = ".htaccess maps a non-PHP extension to PHP"
        severity = "high"
        family = "bench"
    strings:
        $a = /(AddType|AddHandler)\s{1,10}application\/x-httpd-php\S{0,10}\s[^\n]{0,40}\.(jpe?g|png)/ nocase
        $b = /(AddType|AddHandler)\s{1,10}application\/x-httpd-php\S{0,10}\s[^\n]{0,40}\.(gif|ico)/ nocase
    condition:
        any of them
}
"""


# -- running and measuring ----------------------------------------------------------------------


class Failure(Exception):
    pass


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _reap(proc: subprocess.Popen) -> tuple[int, object]:
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage


# Peak RSS. os.wait4 gives each child's CPU time and exit status, but not a usable peak RSS:
# Linux charges the RSS high-water mark of the memory image a process execs *from* to the new
# program, and Python starts children with vfork, so wait4's ru_maxrss is at least the
# benchmark's own peak. GNU time forks the command from its own tiny image, so its %M is the
# command's real peak. Without /usr/bin/time, wait4's figure is reported as an upper bound.
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def _wrap(argv: list[str], rss_file: Path) -> list[str]:
    return [TIME, "-f", "%M", "-o", str(rss_file), *argv] if TIME else argv


def _peak_kib(rss_file: Path, usage) -> float:
    if TIME:
        try:
            numbers = [ln for ln in rss_file.read_text().split() if ln.isdigit()]
            if numbers:
                return int(numbers[-1])
        except OSError:
            pass
    return usage.ru_maxrss


def run_measured(argv: list[str], stdout: Path, stderr: Path, env: dict, timeout: float) -> dict:
    """Run one command; wall time, exit code, peak RSS and CPU time of it and its children."""
    rss_file = stdout.with_suffix(".rss")
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            _wrap(argv, rss_file), stdout=out, stderr=err, env=env, start_new_session=True
        )
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            rc, usage = _reap(proc)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "rc": rc,
        "rss_mib": _peak_kib(rss_file, usage) / 1024,
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def run_pipeline(
    first: list[str], second: list[str], stdout: Path, stderr: Path, env: dict, timeout: float
) -> dict:
    """``first | second`` with two Popen objects; peak RSS is the largest of any process."""
    rss1, rss2 = stdout.with_suffix(".rss1"), stdout.with_suffix(".rss2")
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        t0 = time.perf_counter()
        p1 = subprocess.Popen(
            _wrap(first, rss1), stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True
        )
        p2 = subprocess.Popen(
            _wrap(second, rss2), stdin=p1.stdout, stdout=out, stderr=err, env=env, start_new_session=True
        )
        p1.stdout.close()  # p2 owns the read end now; p1 gets SIGPIPE if p2 dies
        timers = [threading.Timer(timeout, _kill_group, (p.pid,)) for p in (p1, p2)]
        for t in timers:
            t.start()
        try:
            rc1, u1 = _reap(p1)
            rc2, u2 = _reap(p2)
        finally:
            for t in timers:
                t.cancel()
        wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "rc": rc1 or rc2,
        "rss_mib": max(_peak_kib(rss1, u1), _peak_kib(rss2, u2)) / 1024,
        "cpu": u1.ru_utime + u1.ru_stime + u2.ru_utime + u2.ru_stime,
    }


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


# -- the tree -------------------------------------------------------------------------------------


def prepare_tree(workdir: Path, files: int, seed: int, planted: int) -> tuple[Path, dict, bool]:
    tree = workdir / "tree"
    manifest = gentree.manifest_path(tree)
    want = {"files": files, "seed": seed, "planted": planted}
    if tree.is_dir() and manifest.is_file():
        doc = json.loads(manifest.read_text())
        if doc.get("format") == gentree.MANIFEST_FORMAT and doc.get("params") == want:
            return tree, doc, True
    if tree.exists():
        shutil.rmtree(tree)
    # In a child process: generating holds multi-MB buffers, and this process should stay small.
    cmd = [sys.executable, str(HERE / "gentree.py"), str(tree), "--files", str(files), "--seed", str(seed)]
    cmd += ["--planted", str(planted), "--manifest", str(manifest)]
    subprocess.run(cmd, check=True)
    return tree, json.loads(manifest.read_text()), False


def list_files(tree: Path) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(tree):
        rel = os.path.relpath(dirpath, tree)
        for n in names:
            out.append(n if rel == "." else f"{rel}/{n}")
    out.sort()
    return out


def warm_up(tree: Path, files: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    total = 0
    for rel in files:
        with open(tree / rel, "rb", buffering=0) as fh:
            while chunk := fh.read(MiB):
                total += len(chunk)
    return time.perf_counter() - t0, total


def modify_fraction(
    tree: Path, files: list[str], exclude: set[str], seed: int, round_no: int, fraction=0.01
) -> int:
    """Append a few bytes to ``fraction`` of the files (never a planted one); deterministic."""
    pool = [f for f in files if f not in exclude]
    count = max(1, round(len(files) * fraction))
    rng = random.Random(f"bench-modify-{seed}-{round_no}")
    for rel in rng.sample(pool, min(count, len(pool))):
        with open(tree / rel, "ab") as fh:
            fh.write(f"\n/* bench modification {round_no} */\n".encode())
    return count


# -- rules -----------------------------------------------------------------------------------------


def rule_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in RULE_SUFFIXES and p.is_file())


def namespaced(files: list[Path]) -> list[str]:
    """``namespace:path`` arguments for yara, namespaces named like fim names them (file stem)."""
    taken: set[str] = set()
    out = []
    for p in files:
        name, n = p.stem, 1
        while name in taken:
            n += 1
            name = f"{p.stem}.{n}"
        taken.add(name)
        out.append(f"{name}:{p}")
    return out


def digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        try:
            h.update(str(p).encode() + b"\0" + p.read_bytes() + b"\0")
        except OSError:
            h.update(str(p).encode() + b"\0missing\0")
    return h.hexdigest()


def count_rules(files: list[Path]) -> int:
    pattern = re.compile(r"^\s*((private|global)\s+)*rule\s+\w+", re.MULTILINE)
    return sum(len(pattern.findall(p.read_text(errors="replace"))) for p in files)


# -- facts ----------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def fs_type(path: Path) -> str:
    real = str(path.resolve())
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                mnt = parts[1].replace("\\040", " ")
                if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, kind = mnt, parts[2]
    except OSError:
        pass
    return kind


def command_output(argv: list[str]) -> str:
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return "; ".join(line.strip() for line in (res.stdout or res.stderr).splitlines() if line.strip())


def find_fim(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    sibling = Path(sys.executable).parent / "fim"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return [str(sibling)]
    found = shutil.which("fim")
    if found:
        return [found]
    return [sys.executable, "-m", "fim"]


def compile_fim(fim: list[str], env: dict, log) -> None:
    """Write the bytecode of the fim under test, as installing it does (``pip install``
    compiles every module): otherwise a checkout run with PYTHONDONTWRITEBYTECODE set compiles
    each module it imports at every start, and the start-up measured is not the product's."""
    python = fim[0] if fim[1:2] == ["-m"] else _interpreter_of(fim[0])
    if python is None:
        return
    probe = [python, "-c", "import fim, os; print(os.path.dirname(fim.__file__))"]
    try:
        where = subprocess.run(probe, capture_output=True, text=True, env=env, timeout=60, check=True)
        subprocess.run([python, "-m", "compileall", "-q", where.stdout.strip()], capture_output=True,
                       env=env, timeout=300, check=True)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"could not compile fim's bytecode ({exc}); its start-up includes compiling")


def _interpreter_of(script: str) -> str | None:
    """The Python of a console script (its ``#!`` line), if it is one."""
    try:
        with open(script, "rb") as f:
            first = f.readline(4096)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].split()
    return os.fsdecode(words[0]) if words and b"python" in words[0] else None


# -- reporting ------------------------------------------------------------------------------------


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_n(x: float) -> str:
    return f"{x:,.0f}"


def relpaths(paths: list[str], tree: Path) -> set[str]:
    prefix = str(tree) + "/"
    out = set()
    for p in paths:
        out.add(p[len(prefix) :] if p.startswith(prefix) else os.path.relpath(p, tree))
    return out


def parse_fim(stdout: Path, tree: Path) -> tuple[dict, dict[str, list[str]], str]:
    doc = json.loads(stdout.read_text())
    flagged: dict[str, list[str]] = defaultdict(list)
    prefix = str(tree) + "/"
    for f in doc.get("findings", []):
        p = f["file"]["path"]
        rel = p[len(prefix) :] if p.startswith(prefix) else os.path.relpath(p, tree)
        flagged[rel].append(f["rule"]["name"])
    return doc["stats"], dict(flagged), doc.get("ruleset_version", "")


def parse_yara(stdout: Path, tree: Path) -> dict[str, list[str]]:
    flagged: dict[str, list[str]] = defaultdict(list)
    prefix = str(tree) + "/"
    for line in stdout.read_text(errors="replace").splitlines():
        rule, sep, path = line.partition(" ")
        if not sep:
            continue
        rel = path[len(prefix) :] if path.startswith(prefix) else path
        flagged[rel].append(rule)
    return dict(flagged)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=20000, help="files in the generated tree [20000]")
    ap.add_argument("--planted", type=int, help="samples to plant [20, fewer for tiny trees]")
    ap.add_argument("--seed", type=int, default=1, help="tree and modification seed [1]")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallelism of every tool [cores]")
    ap.add_argument("--repeat", type=int, default=1, help="repetitions; medians are reported [1]")
    ap.add_argument("--workdir", type=Path, help="keep/reuse the tree here [a temporary folder]")
    ap.add_argument("--keep", action="store_true", help="do not delete the temporary work folder")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "bench_scan.md", help="markdown report file")
    ap.add_argument(
        "--rules-source",
        choices=("auto", "bundled", "builtin"),
        default="auto",
        help="auto: rules/*.yar if any, else a generated rule file; builtin: always the generated one",
    )
    ap.add_argument(
        "--snapshot-rules",
        action="store_true",
        help="copy rules/ at start and give the copy to fim (--no-bundled-rules --rules) and yara: "
        "immune to edits of rules/ during the run",
    )
    ap.add_argument("--fim", help="fim executable [the one beside this Python, else on PATH]")
    ap.add_argument("--timeout", type=float, default=3600, help="kill a tool run after this many seconds")
    ap.add_argument("--strict", action="store_true", help="exit 1 when fim misses any planted sample")
    ap.add_argument(
        "--small-files", type=int, help="files of the small-file tree [20000, at most --files; 0: skip]"
    )
    ap.add_argument("--small-only", action="store_true", help="only the small-file tree (and --million)")
    ap.add_argument("--million", action="store_true", help="also the 1,000,000-file tree (long: opt-in)")
    ap.add_argument("--million-files", type=int, default=1_000_000, help=argparse.SUPPRESS)
    ap.add_argument(
        "--million-tree", choices=("gentree", "small"), default="gentree",
        help="the large tree: gentree.py's (about 21 GB) or the small-file layout (about 6 GB)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if args.files < 50 or args.repeat < 1 or args.jobs < 1:
        ap.error("--files must be >= 50, --repeat and --jobs >= 1")
    planted = args.planted if args.planted is not None else min(20, args.files // 10)
    if args.small_files is None:
        args.small_files = 20000 if args.small_only else min(20000, args.files)

    for tool in ("yara", "sha256sum", "find", "xargs"):
        if not shutil.which(tool):
            print(f"bench_scan: error: {tool} not found on PATH", file=sys.stderr)
            return 2

    load_before = os.getloadavg()
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    temp = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="fim-bench-")) if temp else args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return bench(args, planted, workdir, temp, load_before, started_at)
    finally:
        if temp and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif temp:
            print(f"bench_scan: work folder kept: {workdir}", file=sys.stderr)


def bench(args, n_planted: int, workdir: Path, temp: bool, load_before, started_at) -> int:
    log = lambda msg: print(f"bench_scan: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    fim = find_fim(args.fim)
    env = dict(os.environ, XDG_STATE_HOME=str(workdir / "state"), NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    compile_fim(fim, env, log)
    jobs = str(args.jobs)

    # rules
    bundled = rule_files(RULES_DIR) if args.rules_source != "builtin" else []
    if args.rules_source == "bundled" and not bundled:
        log("error: --rules-source bundled but rules/ has no .yar/.yara file")
        return 2
    if bundled and args.snapshot_rules:
        snap = workdir / "rules-snapshot"
        shutil.rmtree(snap, ignore_errors=True)
        for p in bundled:
            target = snap / p.relative_to(RULES_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
        rules_used = rule_files(snap)
        fim_rule_args: list[str] = ["--no-bundled-rules", "--rules", str(snap)]
        rules_note = (
            f"snapshot of rules/ taken at start: {len(rules_used)} files, {count_rules(rules_used)} rules, "
            "passed to fim with --no-bundled-rules --rules and to yara"
        )
    elif bundled:
        rules_used = bundled
        fim_rule_args = []
        rules_note = f"bundled rules/: {len(bundled)} files, {count_rules(bundled)} rules"
    else:
        builtin = workdir / "bench_rules.yar"
        builtin.write_text(BUILTIN_RULES.lstrip())
        rules_used = [builtin]
        fim_rule_args = ["--no-bundled-rules", "--rules", str(builtin)]
        why = (
            "forced by --rules-source builtin"
            if args.rules_source == "builtin"
            else "rules/ has no rule file"
        )
        rules_note = (
            f"FALLBACK: generated rule file ({count_rules(rules_used)} rules; {why}), "
            "passed to fim with --no-bundled-rules --rules and to yara"
        )
        log(f"using the generated fallback rule file ({why})")
    yara_rules = namespaced(rules_used)
    rules_digest = digest(rules_used)

    if args.small_only:
        return small_only(args, fim, fim_rule_args, yara_rules, workdir, env, load_before, started_at, log)

    # tree
    log(f"preparing a tree of {args.files} files (seed {args.seed}, {n_planted} planted)")
    t0 = time.perf_counter()
    tree, manifest, reused = prepare_tree(workdir, args.files, args.seed, n_planted)
    gen_s = time.perf_counter() - t0
    files = list_files(tree)
    planted = {p["path"]: p["kind"] for p in manifest["planted"]}
    tree_bytes = sum(os.stat(tree / f).st_size for f in files)
    log(f"tree {'reused' if reused else 'generated'}: {len(files)} files, {tree_bytes / MiB:.1f} MiB")
    warm_s, warm_bytes = warm_up(tree, files)
    log(f"warm-up read: {warm_bytes / MiB:.1f} MiB in {warm_s:.2f} s")

    steps = ("fim_first", "fim_second", "fim_1pct", "yara", "sha256sum")
    runs: dict[str, list[dict]] = {s: [] for s in steps}
    problems: list[str] = []
    fim_flagged: dict[str, list[str]] = {}
    yara_flagged: dict[str, list[str]] = {}
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    def fim_run(step: str, r: int, db: Path) -> dict:
        cmd = [
            *fim,
            "scan",
            "--db",
            str(db),
            "--format",
            "json",
            "--quiet",
            "--jobs",
            jobs,
            *fim_rule_args,
            str(tree),
        ]
        out, err = logs / f"{step}-{r}.json", logs / f"{step}-{r}.err"
        res = run_measured(cmd, out, err, env, args.timeout)
        if res["rc"] not in (0, 1):
            raise Failure(
                f"{step} (repeat {r + 1}): fim exited with {res['rc']}\n"
                f"command: fim scan --db DB --format json --quiet --jobs {jobs} "
                f"{'--no-bundled-rules --rules RULES ' if fim_rule_args else ''}TREE\n"
                f"stderr (tail):\n{tail(err)}"
            )
        try:
            res["stats"], res["flagged"], res["ruleset"] = parse_fim(out, tree)
        except (ValueError, KeyError) as exc:
            raise Failure(f"{step}: cannot parse fim's JSON output ({exc}); stderr:\n{tail(err)}") from None
        stderr_text = tail(err, 5)
        if stderr_text:
            res["stderr"] = stderr_text
        return res

    try:
        for r in range(args.repeat):
            log(f"repeat {r + 1}/{args.repeat}: fim first scan (fresh database)")
            db = workdir / f"db-{r}" / "fim.db"
            if db.parent.exists():
                shutil.rmtree(db.parent)
            db.parent.mkdir(parents=True)
            res = fim_run("fim_first", r, db)
            runs["fim_first"].append(res)
            fim_flagged = res["flagged"]
            log(f"  {res['wall']:.2f} s; fim second scan (same database, unchanged tree)")
            res = fim_run("fim_second", r, db)
            runs["fim_second"].append(res)
            modified = modify_fraction(tree, files, set(planted), args.seed, r)
            log(f"  {res['wall']:.2f} s; fim rescan after modifying {modified} files (1 %)")
            res = fim_run("fim_1pct", r, db)
            res["modified"] = modified
            runs["fim_1pct"].append(res)
            log(f"  {res['wall']:.2f} s; yara -r -p {jobs}")
            ycmd = ["yara", "-r", "-p", jobs]
            for name in EXTERNALS:
                ycmd += ["-d", f"{name}="]
            # the unpacking stage's externals, as stored (layer 0, no chain, no code view)
            ycmd += ["-d", "layer=0", "-d", "chain=", "-d", "has_code_view=false"]
            ycmd += [*yara_rules, str(tree)]
            yout, yerr = logs / f"yara-{r}.out", logs / f"yara-{r}.err"
            res = run_measured(ycmd, yout, yerr, env, args.timeout)
            if res["rc"] != 0:
                problems.append(f"yara exited with {res['rc']}: {tail(yerr, 5)}")
            yara_flagged = parse_yara(yout, tree)
            res["flagged"] = yara_flagged
            if tail(yerr, 3):
                res["stderr"] = tail(yerr, 3)
            runs["yara"].append(res)
            log(f"  {res['wall']:.2f} s; sha256sum via find | xargs -P {jobs}")
            sout, serr = logs / f"sha-{r}.out", logs / f"sha-{r}.err"
            res = run_pipeline(
                ["find", str(tree), "-type", "f", "-print0"],
                ["xargs", "-0", "-P", jobs, "-n", "200", "sha256sum"],
                sout,
                serr,
                env,
                args.timeout,
            )
            with open(sout, "rb") as fh:
                res["lines"] = sum(1 for _ in fh)
            if res["rc"] != 0:
                problems.append(f"find | xargs sha256sum exited with {res['rc']}: {tail(serr, 5)}")
            runs["sha256sum"].append(res)
            log(f"  {res['wall']:.2f} s")
    except Failure as exc:
        problems.append(str(exc))
        log(f"FAILED: {exc}")

    if digest(rule_files(RULES_DIR) if bundled and not args.snapshot_rules else rules_used) != rules_digest:
        problems.append(
            "the rule files in rules/ changed while the benchmark ran (use --snapshot-rules to avoid it); "
            "repeats whose second scan or rescan saw a new ruleset version are left out of those medians"
        )

    # A rule edit between two scans changes fim's ruleset version, and fim then rightly reads
    # every file again: such second scans and rescans measure nothing useful; leave them out.
    valid = dict(runs)
    valid["fim_second"] = [
        b for a, b in zip(runs["fim_first"], runs["fim_second"], strict=False) if a["ruleset"] == b["ruleset"]
    ] or runs["fim_second"]
    valid["fim_1pct"] = [
        b for a, b in zip(runs["fim_second"], runs["fim_1pct"], strict=False) if a["ruleset"] == b["ruleset"]
    ] or runs["fim_1pct"]

    # -- report --
    n_files = len(files)
    lines: list[str] = []
    add = lines.append
    add(f"# fim scan benchmark ({n_files:,} files)\n")
    add("## Machine\n")
    add("| | |\n|---|---|")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    facts = [
        ("Date (UTC)", started_at.isoformat()),
        ("CPU", cpu_model()),
        ("Cores", f"{os.cpu_count()} (usable: {affinity})"),
        ("RAM", mem_total()),
        ("Kernel", platform.release()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("fim --version", command_output([*fim, "--version"])),
        ("yara --version", command_output(["yara", "--version"])),
        ("sha256sum", command_output(["sha256sum", "--version"]).split(";")[0]),
        (
            "Load average (1/5/15 min)",
            "before: "
            + " / ".join(f"{x:.2f}" for x in load_before)
            + "; after: "
            + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        ),
        ("Work folder filesystem", f"{fs_type(workdir)} ({'temporary' if temp else 'given with --workdir'})"),
    ]
    for k, v in facts:
        add(f"| {k} | {v.replace('|', '/')} |")
    add("")
    add("## Tree\n")
    add("| | |\n|---|---|")
    over_1m = manifest.get("files_over_1m", "?")
    tree_facts = [
        ("Files", f"{n_files:,} in {len(manifest['customers'])} customers' home folders"),
        ("Size", f"{tree_bytes / MiB:,.1f} MiB; median file {manifest['size_median'] / 1024:.1f} KiB, "
                 f"p90 {manifest['size_p90'] / 1024:.1f} KiB, max {manifest['size_max'] / MiB:.1f} MiB, "
                 f"{manifest['files_1k_50k']:,} files of 1-50 KiB, {over_1m} over 1 MiB"),
        ("Generation", f"seed {args.seed}; " + (
            "reused from --workdir (earlier runs appended to ~1 % of files)" if reused
            else f"generated in {gen_s:.1f} s")),
        ("Planted samples", f"{len(planted)} ({len(set(planted.values()))} kinds), in uploads folders"),
        ("Rules", rules_note),
        ("Page cache", f"warm: every file read once before measuring ({warm_bytes / MiB:,.1f} MiB in "
                       f"{warm_s:.1f} s); the cache was not dropped (needs root)"),
        ("Parallelism", f"{jobs} (fim --jobs, yara -p, xargs -P)"),
        ("Peak RSS from", "GNU time %M per command" if TIME else
         "os.wait4 (upper bound: includes this script's own peak, no /usr/bin/time)"),
        ("Repeats", f"{args.repeat} (median reported)"),
    ]  # fmt: skip
    for k, v in tree_facts:
        add(f"| {k} | {v} |")
    add("")

    add("## Results\n")
    add("Files/s and MiB/s are tree-equivalent: the whole tree's files and bytes divided by the wall time.\n")
    add("| Step | Wall s | Files/s | MiB/s | CPU s | Peak RSS MiB | Details |")
    add("|---|---:|---:|---:|---:|---:|---|")

    def row(label: str, step: str, details: str) -> None:
        rs = valid[step]
        if 0 < len(rs) < len(runs[step]):
            details += f" (median of the {len(rs)} of {len(runs[step])} repeats without a rule edit)"
        if not rs:
            add(f"| {label} | - | - | - | - | - | not run |")
            return
        wall = med(rs, "wall")
        spread = (
            f" ({fmt_s(min(r['wall'] for r in rs))}-{fmt_s(max(r['wall'] for r in rs))})"
            if len(rs) > 1
            else ""
        )
        add(
            f"| {label} | {fmt_s(wall)}{spread} | {fmt_n(n_files / wall)} | {tree_bytes / MiB / wall:,.1f} | "
            f"{med(rs, 'cpu'):.1f} | {med(rs, 'rss_mib'):.0f} | {details} |"
        )

    def fim_details(step: str) -> str:
        rs = valid[step]
        if not rs:
            return ""
        rep = sorted(rs, key=lambda r2: r2["wall"])[(len(rs) - 1) // 2]  # the median run
        s = rep["stats"]
        text = (
            f"seen {s['files_seen']:,}, read {s['files_read']:,} ({s['bytes_read'] / MiB:,.1f} MiB), "
            f"unchanged {s['skipped_unchanged']:,}, new {s['new']:,}, changed {s['changed']:,}, "
            f"findings {s['findings']}, fim elapsed_s "
            f"{statistics.median(r['stats']['elapsed_s'] for r in rs):.2f}"
        )
        if step == "fim_1pct":
            text += f"; {rep['modified']} files modified"
        return text

    row("fim scan, first (fresh DB)", "fim_first", fim_details("fim_first"))
    row("fim scan, second (unchanged)", "fim_second", fim_details("fim_second"))
    row("fim scan, after 1 % changed", "fim_1pct", fim_details("fim_1pct"))
    if runs["yara"]:
        row("yara -r", "yara", f"{len(yara_flagged)} files matched")
    if runs["sha256sum"]:
        row("sha256sum (find \\| xargs)", "sha256sum", f"{runs['sha256sum'][-1]['lines']:,} files hashed")
    if runs["yara"] and runs["sha256sum"]:
        total = med(runs["yara"], "wall") + med(runs["sha256sum"], "wall")
        cpu = med(runs["yara"], "cpu") + med(runs["sha256sum"], "cpu")
        add(
            f"| yara + sha256sum | {fmt_s(total)} | {fmt_n(n_files / total)} | "
            f"{tree_bytes / MiB / total:,.1f} | "
            f"{cpu:.1f} | - | sum of the medians |"
        )
    add("")

    if args.repeat > 1:
        add("Every repeat (wall s / CPU s):\n")
        add("| Step | " + " | ".join(f"#{i + 1}" for i in range(args.repeat)) + " |")
        add("|---|" + "---:|" * args.repeat)
        for step in steps:
            cells = [
                f"{fmt_s(r2['wall'])} / {r2['cpu']:.1f}"
                + ("" if any(r2 is v for v in valid[step]) else " (rules edited)")
                for r2 in runs[step]
            ]
            cells += ["-"] * (args.repeat - len(cells))
            add(f"| {step} | " + " | ".join(cells) + " |")
        add("")

    checks: list[tuple[str, bool]] = []
    if runs["fim_first"] and runs["fim_second"]:
        add("## Ratios\n")
        add("| Ratio | Value | |\n|---|---:|---|")
        first, second = med(runs["fim_first"], "wall"), med(valid["fim_second"], "wall")
        ok = first / second >= SPEEDUP_TARGET
        verdict = (
            "meets" if ok else "MISSES"
        ) + f" the >= {SPEEDUP_TARGET:.0f}x target (set for 20,000 files)"
        add(f"| fim first / fim second | {first / second:.1f}x | {verdict} |")
        if runs["fim_1pct"]:
            add(f"| fim first / fim after 1 % changed | {first / med(valid['fim_1pct'], 'wall'):.1f}x | |")
        if runs["yara"] and runs["sha256sum"]:
            total = med(runs["yara"], "wall") + med(runs["sha256sum"], "wall")
            verdict = "fim is faster than" if first < total else "fim is slower than"
            add(
                f"| fim first / (yara + sha256sum) | {first / total:.2f} | {verdict} the two tools run one "
                "after the other |"
            )
            add(f"| fim first / yara alone | {first / med(runs['yara'], 'wall'):.2f} | |")
            cpu_fim = med(runs["fim_first"], "cpu")
            cpu_tools = med(runs["yara"], "cpu") + med(runs["sha256sum"], "cpu")
            add(
                f"| CPU time: fim first / (yara + sha256sum) | {cpu_fim / cpu_tools:.2f} | "
                "less sensitive than wall time to other load on the machine |"
            )
        add("")
        sec = [r2["stats"]["files_read"] for r2 in runs["fim_second"]]
        # A rule edit between the two scans changes fim's ruleset version: then re-reading
        # everything is the documented behaviour, not a baseline failure.
        edited = [
            a["ruleset"] != b["ruleset"] for a, b in zip(runs["fim_first"], runs["fim_second"], strict=False)
        ]
        text = f"second scan read no file (read: {sec})"
        if any(edited):
            text += (
                f"; in repeat(s) {[i + 1 for i, e in enumerate(edited) if e]} the rules were edited between "
                "the two scans (fim's ruleset version changed), so fim rightly read everything again; "
                "those repeats are not counted as failures"
            )
        checks.append((text, not any(n for n, e in zip(sec, edited, strict=False) if not e)))
        pct = [(r2["modified"], r2["stats"]["files_read"], r2["stats"]["changed"]) for r2 in runs["fim_1pct"]]
        edited2 = [
            a["ruleset"] != b["ruleset"] for a, b in zip(runs["fim_second"], runs["fim_1pct"], strict=False)
        ]
        text = "1 % rescan read and reported as changed exactly the modified files "
        text += f"((modified, read, changed): {pct})"
        if any(edited2):
            text += (
                f"; in repeat(s) {[i + 1 for i, e in enumerate(edited2) if e]} the rules were edited before "
                "the rescan, so fim rightly read everything again; not counted as failures"
            )
        checks.append((text, all(m == rd == c for (m, rd, c), e in zip(pct, edited2, strict=False) if not e)))
        seen = [r2["stats"]["files_seen"] for r2 in runs["fim_first"]]
        checks.append(
            (f"first scan saw every file of the {n_files:,} (seen: {seen})", all(x == n_files for x in seen))
        )
    if runs["sha256sum"]:
        got = runs["sha256sum"][-1]["lines"]
        checks.append((f"sha256sum hashed every file ({got:,}/{n_files:,})", got == n_files))

    # detection
    fim_missed_yara_found: list[str] = []
    if runs["fim_first"]:
        add("## Planted samples\n")
        add("| Kind | Planted | Found by fim | Found by yara (same rules) |\n|---|---:|---:|---:|")
        by_kind: dict[str, list[str]] = defaultdict(list)
        for path, kind in planted.items():
            by_kind[kind].append(path)
        for kind in sorted(by_kind, key=lambda k: list(gentree.SAMPLE_KINDS).index(k)):
            paths = by_kind[kind]
            nf = sum(1 for p in paths if p in fim_flagged)
            ny = sum(1 for p in paths if p in yara_flagged) if runs["yara"] else "-"
            add(f"| {kind} | {len(paths)} | {nf} | {ny} |")
        found = sum(1 for p in planted if p in fim_flagged)
        yfound = sum(1 for p in planted if p in yara_flagged)
        add(f"| **all** | **{len(planted)}** | **{found}** | **{yfound if runs['yara'] else '-'}** |")
        add("")
        missed = sorted(p for p in planted if p not in fim_flagged)
        fim_missed_yara_found = [p for p in missed if p in yara_flagged]
        yara_only_missed = sorted(p for p in planted if p in fim_flagged and p not in yara_flagged)
        if runs["yara"] and yara_only_missed:
            add(
                f"{len(yara_only_missed)} sample(s) found by fim but not by yara: yara runs with empty "
                "externals "
                "(`-d filename=` ...), so rules keyed on the file name or extension (e.g. `.htaccess`) "
                "cannot "
                "fire there.\n"
            )
        if missed:
            add("Missed by fim: " + ", ".join(f"`{p}` ({planted[p]})" for p in missed[:10]) + "\n")
        checks.append((f"fim found every planted sample ({found}/{len(planted)})", found == len(planted)))
        if runs["yara"]:
            checks.append(
                (f"fim found every planted sample yara found ({len(fim_missed_yara_found)} missed)",
                 not fim_missed_yara_found)
            )  # fmt: skip
        other_fim = {p: v for p, v in fim_flagged.items() if p not in planted}
        other_yara = {p: v for p, v in yara_flagged.items() if p not in planted}
        add(
            f"Findings on files that are not planted samples (false positives on the generated benign code): "
            f"fim {len(other_fim)}, yara {len(other_yara) if runs['yara'] else '-'}.\n"
        )
        for p in sorted(other_fim)[:5]:
            add(f"- fim: `{p}`: {', '.join(sorted(set(other_fim[p])))}")
        if other_fim:
            add("")
    if checks:
        add("## Checks\n")
        for text, ok in checks:
            add(f"- {'ok' if ok else 'FAILED'}: {text}")
        add("")
    notes = []
    for step in ("fim_first", "fim_second", "fim_1pct", "yara"):
        for r2 in runs[step][-1:]:
            if r2.get("stderr"):
                notes.append(f"{step} stderr: {r2['stderr'][:500]}")
    if problems or notes:
        add("## Problems\n")
        for p in problems + notes:
            add("```\n" + p.replace(str(workdir), "WORKDIR") + "\n```")
        add("")
    try:
        lines += small_sections(args, fim, fim_rule_args, yara_rules, workdir, env, log)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        problems.append(f"small-file benchmark failed: {exc}")
    add("## Commands\n")
    add("```")
    add(
        f"fim scan --db DB --format json --quiet --jobs {jobs} "
        f"{'--no-bundled-rules --rules RULES ' if fim_rule_args else ''}TREE"
    )
    add(f"yara -r -p {jobs} " + " ".join(f"-d {e}=" for e in EXTERNALS) + " NS:RULEFILE... TREE")
    add(f"find TREE -type f -print0 | xargs -0 -P {jobs} -n 200 sha256sum")
    add("```")

    report = "\n".join(lines).replace(str(workdir), "WORKDIR").replace(str(REPO), "REPO") + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    log(f"report written to {args.out.name} ({args.out.parent.name}/)")

    if problems:
        return 1
    hard_fail = [t for t, ok in checks if not ok and not t.startswith("fim found every planted sample (")]
    if hard_fail:
        return 1
    if args.strict and any(not ok for t, ok in checks if t.startswith("fim found every planted sample (")):
        return 1
    return 0


YARA_EXTERNALS = [
    *(a for name in EXTERNALS for a in ("-d", f"{name}=")),
    *("-d", "layer=0", "-d", "chain=", "-d", "has_code_view=false"),
]


def small_sections(args, fim, fim_rule_args, yara_rules, workdir: Path, env: dict, log) -> list[str]:
    """The small-file tree (and, with --million, the large tree) as markdown sections."""
    if args.small_files <= 0 and not args.million:
        return []
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    def measure(argv: list[str], name: str) -> dict:
        return run_measured(argv, logs / f"{name}.out", logs / f"{name}.err", env, args.timeout)

    def pipeline(a: list[str], b: list[str], name: str) -> dict:
        return run_pipeline(a, b, logs / f"{name}.out", logs / f"{name}.err", env, args.timeout)

    bench = bench_small.SmallBench(
        fim=fim, rule_args=fim_rule_args, yara_rules=yara_rules, externals=YARA_EXTERNALS,
        jobs=str(args.jobs), work=workdir, measure=measure, pipeline=pipeline, log=log,
    )  # fmt: skip
    lines: list[str] = []
    if args.small_files > 0:
        tree, reused = bench_small.build_small_tree(workdir, args.small_files, args.seed)
        files, size = bench_small.tree_size(tree)
        log(f"small tree {'reused' if reused else 'built'}: {files} files, {size / MiB:.1f} MiB")
        bench_small.warm(tree)
        before = os.getloadavg()
        runs = bench.run(tree, args.repeat)
        after = os.getloadavg()
        load = (
            "before "
            + " / ".join(f"{x:.2f}" for x in before)
            + ", after "
            + " / ".join(f"{x:.2f}" for x in after)
        )
        lines += bench_small.report(runs, files, size, str(args.jobs), load)
    if args.million:
        more, _ = bench_small.million(
            bench, workdir, args.million_files, args.seed, HERE / "gentree.py", args.million_tree
        )
        lines += more
    return lines


def small_only(args, fim, fim_rule_args, yara_rules, workdir, env, load_before, started_at, log) -> int:
    lines = [
        "# fim scan benchmark: small files\n",
        f"{started_at.isoformat()}; {cpu_model()}, {os.cpu_count()} cores; "
        f"{command_output([*fim, '--version'])}; yara {command_output(['yara', '--version'])}; "
        "load average before " + " / ".join(f"{x:.2f}" for x in load_before) + "\n",
    ]
    lines += small_sections(args, fim, fim_rule_args, yara_rules, workdir, env, log)
    report = "\n".join(lines).replace(str(workdir), "WORKDIR").replace(str(REPO), "REPO") + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

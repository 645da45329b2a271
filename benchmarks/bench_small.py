"""The small-file part of ``bench_scan.py``: PHP applications and upload areas are mostly small
files, where fim's cost per file (not per byte) decides how it compares with yara + sha256sum.

The tree (issue 16): ``--small-files`` PHP files (20,000) in 40 customers x 25 directories,
each ``<?php`` and 20-400 lines of ``$vN = <random int>;`` (about 6 KB on average), seeded.
Measured in one run, warm cache, every tool with the same parallelism:

- ``fim scan --db new.db`` (first scan), ``fim scan --no-db``, and the no-change rescan on the
  same database; fim's start-up alone (the same command on an empty folder), so the rescan's
  cost per unchanged file beyond start-up can be told;
- ``yara -w -r -p J`` with the same rules and every external fim defines (``-d filename=`` ...);
- ``find -print0 | xargs -0 -P J -n 500 sha256sum``.

CPU time is user + system of each command and the children it waited for (``os.wait4``):
less sensitive than wall time to other work on the machine.

``--million`` adds the 1,000,000-file tree (``gentree.py``): fim's first-scan peak RSS and its
no-change rescan time. It takes long (generating the tree alone takes minutes): opt-in.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

SMALL_FORMAT = "small-1"
CUSTOMERS, DIRECTORIES = 40, 25
MiB = 1024 * 1024


def build_small_tree(where: Path, files: int, seed: int, name: str = "small") -> tuple[Path, bool]:
    """The small-file tree under ``where`` (reused when it was built with the same arguments)."""
    tree = where / name
    stamp = where / f"{name}.params"
    want = f"{SMALL_FORMAT} files={files} seed={seed}"
    if tree.is_dir() and stamp.is_file() and stamp.read_text() == want:
        return tree, True
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(f"fim-small-{seed}")
    per_dir, extra = divmod(files, CUSTOMERS * DIRECTORIES)
    n = 0
    for c in range(CUSTOMERS):
        for d in range(DIRECTORIES):
            folder = tree / f"home/customer{c:02d}/public_html/app{d:02d}"
            folder.mkdir(parents=True)
            count = per_dir + (1 if c * DIRECTORIES + d < extra else 0)
            for _ in range(count):
                lines = rng.randint(20, 400)
                body = "".join(f"$v{i} = {rng.randint(0, 1 << 62)};\n" for i in range(lines))
                (folder / f"file{n:06d}.php").write_text("<?php\n" + body)
                n += 1
    stamp.write_text(want)
    return tree, False


def tree_size(tree: Path) -> tuple[int, int]:
    count = total = 0
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            total += os.stat(os.path.join(dirpath, name)).st_size
            count += 1
    return count, total


def warm(tree: Path) -> None:
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            with open(os.path.join(dirpath, name), "rb", buffering=0) as fh:
                while fh.read(MiB):
                    pass


class SmallBench:
    """Runs the commands; ``measure(argv, name)`` and ``pipeline(a, b, name)`` come from
    bench_scan (wall, CPU, peak RSS, exit code of one command)."""

    def __init__(
        self,
        *,
        fim: list[str],
        rule_args: list[str],
        yara_rules: list[str],
        externals: list[str],
        jobs: str,
        work: Path,
        measure: Callable[[list[str], str], dict],
        pipeline: Callable[[list[str], list[str], str], dict],
        log: Callable[[str], None],
    ):
        self.fim, self.rule_args, self.yara_rules = fim, rule_args, yara_rules
        self.externals, self.jobs, self.work = externals, jobs, work
        self.measure, self.pipeline, self.log = measure, pipeline, log

    def fim_scan(self, target: Path, name: str, db: Path | None) -> dict:
        where = ["--db", str(db)] if db is not None else ["--no-db"]
        argv = [*self.fim, "scan", *where, "--format", "json", "--quiet", "--jobs", self.jobs]
        res = self.measure([*argv, *self.rule_args, str(target)], name)
        if res["rc"] not in (0, 1):
            raise RuntimeError(f"{name}: fim exited with {res['rc']}")
        return res

    def run(self, tree: Path, repeat: int) -> dict[str, list[dict]]:
        runs: dict[str, list[dict]] = {k: [] for k in ("first", "nodb", "rescan", "startup", "yara", "sha")}
        empty = self.work / "empty"
        empty.mkdir(exist_ok=True)
        yara = ["yara", "-w", "-r", "-p", self.jobs, *self.externals, *self.yara_rules, str(tree)]
        find = ["find", str(tree), "-type", "f", "-print0"]
        xargs = ["xargs", "-0", "-P", self.jobs, "-n", "500", "sha256sum"]
        for r in range(repeat):
            db = self.work / f"small-db-{r}" / "new.db"
            shutil.rmtree(db.parent, ignore_errors=True)
            db.parent.mkdir(parents=True)
            self.log(f"small tree, repeat {r + 1}/{repeat}: fim first scan, --no-db, rescan, yara, sha256sum")
            runs["first"].append(self.fim_scan(tree, f"small-first-{r}", db))
            runs["rescan"].append(self.fim_scan(tree, f"small-rescan-{r}", db))
            runs["startup"].append(self.fim_scan(empty, f"small-startup-{r}", db))
            runs["nodb"].append(self.fim_scan(tree, f"small-nodb-{r}", None))
            runs["yara"].append(self.measure(yara, f"small-yara-{r}"))
            runs["sha"].append(self.pipeline(find, xargs, f"small-sha-{r}"))
        return runs


def _med(rs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rs)


def _spread(rs: list[dict], key: str) -> str:
    lo, hi = min(r[key] for r in rs), max(r[key] for r in rs)
    return f"{lo:.2f}-{hi:.2f}" if len(rs) > 1 else f"{lo:.2f}"


def report(runs: dict[str, list[dict]], files: int, size: int, jobs: str, load: str) -> list[str]:
    """Markdown: the table of the issue, with both ratios and the rescan cost per file."""
    out = [
        f"## Small files ({files:,} PHP files, {size / MiB:,.0f} MiB, "
        f"{size / files / 1024:.1f} KiB average)\n",
        f"Load average during the run: {load}. Medians of {len(runs['first'])} run(s); ranges in brackets.\n",
        "| command | wall s | CPU s (user+sys) | peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    names = [
        ("first", f"`fim scan --db new.db --jobs {jobs}`"),
        ("nodb", f"`fim scan --no-db --jobs {jobs}`"),
        ("yara", f"`yara -w -r -p {jobs}` (same rules, every external)"),
        ("sha", f"`find -print0 \\| xargs -0 -P{jobs} -n 500 sha256sum`"),
        ("rescan", "`fim scan --db new.db` again (nothing changed)"),
        ("startup", "`fim scan --db new.db` of an empty folder (start-up)"),
    ]
    for key, label in names:
        rs = runs[key]
        out.append(
            f"| {label} | {_med(rs, 'wall'):.2f} ({_spread(rs, 'wall')}) | "
            f"{_med(rs, 'cpu'):.2f} ({_spread(rs, 'cpu')}) | {_med(rs, 'rss_mib'):.0f} |"
        )
    tools_wall = _med(runs["yara"], "wall") + _med(runs["sha"], "wall")
    tools_cpu = _med(runs["yara"], "cpu") + _med(runs["sha"], "cpu")
    out += ["", "| ratio | wall | CPU |", "|---|---:|---:|"]
    for key, label in (("first", "fim first scan (--db)"), ("nodb", "fim --no-db")):
        out.append(
            f"| {label} / (yara + sha256sum) | {_med(runs[key], 'wall') / tools_wall:.2f}x | "
            f"{_med(runs[key], 'cpu') / tools_cpu:.2f}x |"
        )
    per_wall = (_med(runs["rescan"], "wall") - _med(runs["startup"], "wall")) / files * 1e6
    per_cpu = (_med(runs["rescan"], "cpu") - _med(runs["startup"], "cpu")) / files * 1e6
    out += [
        "",
        f"No-change rescan beyond start-up: **{per_wall:.1f} us per unchanged file** wall "
        f"({per_cpu:.1f} us CPU).\n",
    ]
    return out


def million(
    bench: SmallBench, work: Path, files: int, seed: int, gentree_py: Path, kind: str = "gentree"
) -> tuple[list[str], dict[str, dict]]:
    """The large tree: first scan (peak RSS) and the no-change rescan (time). ``kind`` "small":
    the small-file layout instead of gentree's (6 KB files instead of 21 KB on average: a
    million of them fit on a small disk; the count, not the size, drives memory and rescans)."""
    tree = work / "million"
    stamp = work / "million.params"
    want = f"gentree files={files} seed={seed}"
    if kind == "small":
        tree, _ = build_small_tree(work, files, seed, name="million-small")
    elif not (tree.is_dir() and stamp.is_file() and stamp.read_text() == want):
        shutil.rmtree(tree, ignore_errors=True)
        bench.log(f"generating a {files:,}-file tree with gentree.py (takes minutes)")
        cmd = [sys.executable, str(gentree_py), str(tree), "--files", str(files), "--seed", str(seed)]
        subprocess.run(
            [*cmd, "--planted", "20", "--manifest", str(work / "million.manifest.json")], check=True
        )
        stamp.write_text(want)
    db = work / "million-db" / "fim.db"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    bench.log("large tree: fim first scan")
    first = bench.fim_scan(tree, "million-first", db)
    bench.log(f"  {first['wall']:.1f} s, peak RSS {first['rss_mib']:.0f} MiB; no-change rescan")
    rescan = bench.fim_scan(tree, "million-rescan", db)
    out = [
        f"## {files:,}-file tree ({'gentree.py' if kind == 'gentree' else 'small-file layout'}, "
        f"seed {seed})\n",
        "| step | wall s | CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|",
        f"| fim first scan (--db) | {first['wall']:.1f} | {first['cpu']:.1f} | {first['rss_mib']:.0f} |",
        f"| no-change rescan | {rescan['wall']:.1f} | {rescan['cpu']:.1f} | {rescan['rss_mib']:.0f} |",
        "",
    ]
    return out, {"first": first, "rescan": rescan}

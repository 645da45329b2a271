"""Daemon benchmarks: close-to-stored-finding latency, a burst, time to READY, threads, memory,
and how soon a new customer's directory is covered -- for each event source side by side.

    python benchmarks/bench_daemon.py                 # 10,000 and 100,000 directories, both sources
    python benchmarks/bench_daemon.py --dirs 2000 --rate-seconds 5 --burst 2000   # quick
    python benchmarks/bench_daemon.py --dirs 500000 --roots 5000 --events fanotify

Each figure comes from a real ``fim daemon`` subprocess on a generated tree, watched through
real inotify or fanotify (``[daemon] events``); latencies are measured from the moment a writer
closed a file to the moment its finding is visible in the database to another process (polled
every 10 ms). Threads and RSS are sampled from /proc every 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MARKER = b"<?php FIM_BENCH_MARKER_EVAL($_POST['x']); ?>\n"
RULE = (
    'rule bench_marker { meta: severity = "critical" strings: $a = "FIM_BENCH_MARKER_EVAL" condition: $a }\n'
)


def make_tree(root: Path, dirs: int, customers: int = 0) -> list[Path]:
    """``dirs`` directories spread over customers (roots), like public_html/wp-content/uploads/Y/M."""
    made: list[Path] = []
    customers = customers or max(1, dirs // 100)
    per = dirs // customers
    for c in range(customers):
        base = root / f"home/c{c:05d}/public_html"
        for i in range(per):
            d = base / f"wp-content/uploads/{2000 + i // 12}/{i % 12 + 1:02d}"
            d.mkdir(parents=True, exist_ok=True)
            made.append(d)
    return made


class Notify:
    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.path = path

    def wait_ready(self, timeout: float) -> float:
        self.sock.settimeout(timeout)
        while True:
            msg = self.sock.recv(4096).decode()
            if "READY=1" in msg.split("\n"):
                return time.monotonic()


def proc_status(pid: int) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def rss_kib(pid: int) -> tuple[int, int]:
    fields = proc_status(pid)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class Sampler(threading.Thread):
    """The daemon's thread count and RSS, every 0.2 s: the peak of each."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.max_threads = 0
        self.max_rss_kib = 0
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            try:
                fields = proc_status(self.pid)
            except OSError:
                return
            self.max_threads = max(self.max_threads, int(fields["Threads"]))
            self.max_rss_kib = max(self.max_rss_kib, int(fields["VmRSS"].split()[0]))
            time.sleep(0.2)


class FindingPoller(threading.Thread):
    """Records when each path's finding first becomes visible in the database."""

    def __init__(self, db: Path):
        super().__init__(daemon=True)
        self.db = db
        self.seen: dict[bytes, float] = {}
        self.stop = False
        self.last_id = 0

    def run(self) -> None:
        while not self.db.exists():
            time.sleep(0.01)
        conn = sqlite3.connect(self.db, timeout=30)
        while not self.stop:
            try:
                rows = conn.execute(
                    "SELECT id, path FROM findings WHERE id > ? ORDER BY id", (self.last_id,)
                ).fetchall()
            except sqlite3.OperationalError:
                rows = []
            now = time.time()
            for fid, path in rows:
                self.seen.setdefault(path, now)
                self.last_id = fid
            time.sleep(0.01)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def tree_for(work: Path, dirs: int, customers: int) -> tuple[Path, list[Path], float]:
    """The generated tree (made once, reused by each event source)."""
    root = work / f"tree-{dirs}-{customers}"
    t0 = time.monotonic()
    if (root / "made").exists():
        targets = sorted(p for p in (root / "home").glob("*/public_html/wp-content/uploads/*/*"))
    else:
        shutil.rmtree(root, ignore_errors=True)
        targets = make_tree(root, dirs, customers)
        (root / "made").write_text("")
    return root, targets, time.monotonic() - t0


def run_case(
    dirs: int,
    rate: int,
    rate_seconds: float,
    burst: int,
    work: Path,
    events: str = "inotify",
    customers: int = 0,
) -> dict:
    root, targets, made_s = tree_for(work, dirs, customers)
    shutil.rmtree(root / "state", ignore_errors=True)
    shutil.rmtree(root / "home/newcustomer", ignore_errors=True)
    for stale in root.glob("home/*/public_html/wp-content/uploads/*/*/*.*"):
        stale.unlink()  # files of an earlier source's run: each source starts from the same tree
    (work / "bench.yar").write_text(RULE)
    db = root / "state/fim.db"
    config = root / "fim.toml"
    config.write_text(
        f'[database]\npath = "{db}"\n[rules]\nbundled = false\npaths = ["{work / "bench.yar"}"]\n'
        f'[tenants]\npatterns = ["{root}/home/{{tenant}}/"]\n'
        f'[daemon]\nroots = ["{root}/home/*/public_html"]\nevents = "{events}"\n'
    )
    sock_path = root / "notify.sock"
    sock_path.unlink(missing_ok=True)
    notify = Notify(sock_path)
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path)}
    log = open(root / "daemon.log", "wb")  # noqa: SIM115
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fim", "daemon", "--config", str(config), "--log-format", "json"],
        stderr=log, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    result: dict = {"dirs": len(targets), "events": events, "tree_build_s": round(made_s, 1)}
    result["roots"] = len({p.parents[3] for p in targets})
    sampler = Sampler(proc.pid)
    sampler.start()
    try:
        ready = notify.wait_ready(timeout=1800)
        result["ready_s"] = round(ready - started, 2)
        # Wait for the catch-up walk to finish before measuring steady latency.
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            if b'"walk finished"' in (root / "daemon.log").read_bytes():
                break
            time.sleep(0.2)
        result["catchup_done_s"] = round(time.monotonic() - started, 2)
        time.sleep(2)  # idle: nothing written
        rss, hwm = rss_kib(proc.pid)
        result["rss_mib_idle"] = round(rss / 1024, 1)
        result["threads_idle"] = int(proc_status(proc.pid)["Threads"])

        poller = FindingPoller(db)
        poller.start()
        # Steady rate: one webshell every 1/rate seconds, each in a different directory.
        closed: dict[bytes, float] = {}
        count = int(rate * rate_seconds)
        interval = 1.0 / rate
        next_t = time.monotonic()
        for i in range(count):
            p = targets[(i * 7919) % len(targets)] / f"steady{i}.php"
            with open(p, "wb") as fh:
                fh.write(MARKER)
            closed[bytes(p)] = time.time()
            next_t += interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        _wait_all(poller, closed, 60)
        lat = [(poller.seen[p] - t) * 1000 for p, t in closed.items() if p in poller.seen]
        result["steady_files"] = count
        result["steady_found"] = len(lat)
        result["steady_p50_ms"] = round(statistics.median(lat), 1) if lat else None
        result["steady_p99_ms"] = round(percentile(lat, 99), 1) if lat else None

        # Burst: ``burst`` files as fast as one writer can, 1 in 20 a webshell.
        burst_closed: dict[bytes, float] = {}
        all_burst: list[bytes] = []
        b0 = time.monotonic()
        for i in range(burst):
            p = targets[(i * 104729) % len(targets)] / f"burst{i}.{'php' if i % 20 == 0 else 'jpg'}"
            with open(p, "wb") as fh:
                fh.write(MARKER if i % 20 == 0 else b"\xff\xd8\xff\xe0 not really a jpeg %d" % i)
            all_burst.append(bytes(p))
            if i % 20 == 0:
                burst_closed[bytes(p)] = time.time()
        result["burst_write_s"] = round(time.monotonic() - b0, 2)
        _wait_all(poller, burst_closed, 300)
        poller.stop = True
        blat = [(poller.seen[p] - t) * 1000 for p, t in burst_closed.items() if p in poller.seen]
        result["burst_files"] = burst
        result["burst_p50_ms"] = round(statistics.median(blat), 1) if blat else None
        result["burst_p99_ms"] = round(percentile(blat, 99), 1) if blat else None
        # Completeness: every burst file has a verdict in the baseline.
        deadline = time.monotonic() + 300
        conn = sqlite3.connect(db, timeout=30)
        missing = len(all_burst)
        while time.monotonic() < deadline:
            rows = conn.execute("SELECT path FROM files WHERE instr(path, ?) > 0", (b"/burst",))
            have = {r[0] for r in rows}
            missing = sum(1 for p in all_burst if p not in have)
            if not missing:
                break
            time.sleep(0.5)
        result["burst_without_verdict"] = missing
        # A new customer: its directory appears (mkdir -p) and a shell is written at once.
        poller = FindingPoller(db)
        conn2 = sqlite3.connect(db, timeout=30)
        poller.last_id = conn2.execute("SELECT COALESCE(MAX(id), 0) FROM findings").fetchone()[0]
        conn2.close()
        poller.start()
        fresh = root / "home/newcustomer/public_html/uploads"
        fresh.mkdir(parents=True)
        shell = fresh / "first.php"
        shell.write_bytes(MARKER)
        closed_new = {bytes(shell): time.time()}
        _wait_all(poller, closed_new, 120)
        poller.stop = True
        seen = poller.seen.get(bytes(shell))
        result["new_dir_ms"] = round((seen - closed_new[bytes(shell)]) * 1000, 1) if seen else None
        rss, hwm = rss_kib(proc.pid)
        result["rss_mib_end"] = round(rss / 1024, 1)
        result["peak_rss_mib"] = round(hwm / 1024, 1)
        result["threads_peak"] = sampler.max_threads
    finally:
        sampler.stop = True
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        notify.sock.close()
    return result


def _wait_all(poller: FindingPoller, wanted: dict[bytes, float], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(p in poller.seen for p in wanted):
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dirs", type=int, action="append", help="watched directories (repeatable)")
    ap.add_argument("--roots", type=int, default=0, help="customers (roots); default dirs / 100")
    ap.add_argument("--events", action="append", choices=["inotify", "fanotify"],
                    help="event source (repeatable); default both")  # fmt: skip
    ap.add_argument("--rate", type=int, default=100, help="files per second in the steady phase")
    ap.add_argument("--rate-seconds", type=float, default=20.0)
    ap.add_argument("--burst", type=int, default=20000)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out/bench_daemon.md")
    args = ap.parse_args()
    dirs = args.dirs or [10_000, 100_000]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="fim-bench-daemon-"))
    sources = args.events or ["inotify", "fanotify"]
    if args.events is None:
        from fim.daemon.sources import fanotify_problem

        problem = fanotify_problem([b"/", bytes(work)])
        if problem:  # measured where it can run; said so here
            print(f"fanotify not measured: {problem}", file=sys.stderr)
            sources = ["inotify"]
    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    try:
        for n in dirs:
            for events in sources:
                print(f"== {n} directories, {events}", file=sys.stderr)
                rows.append(run_case(n, args.rate, args.rate_seconds, args.burst, work, events, args.roots))
                print(rows[-1], file=sys.stderr)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    limits = Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip()
    lines = [
        f"# fim daemon benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}, "
        f"max_user_watches {limits}, load average (1/5/15 min) before {load_before}, after "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + ".",
        f"Steady phase: {args.rate} webshells/s for {args.rate_seconds:g} s; burst: {args.burst} files "
        "written as fast as one process can (1 in 20 a webshell). Latency: writer's close() to the "
        "finding visible in the database.",
        "",
        "| directories | time to READY | catch-up done | steady p50 | steady p99 | steady found | "
        "burst write | burst p50 | burst p99 | burst files without verdict | RSS idle | peak RSS | "
        "events | roots | threads idle / peak | new customer dir: close to finding |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dirs']:,} | {r['ready_s']} s | {r['catchup_done_s']} s | {r['steady_p50_ms']} ms | "
            f"{r['steady_p99_ms']} ms | {r['steady_found']}/{r['steady_files']} | {r['burst_write_s']} s | "
            f"{r['burst_p50_ms']} ms | {r['burst_p99_ms']} ms | {r['burst_without_verdict']} | "
            f"{r['rss_mib_idle']} MiB | {r['peak_rss_mib']} MiB | {r['events']} | {r['roots']:,} | "
            f"{r['threads_idle']} / {r['threads_peak']} | {r['new_dir_ms']} ms |"
        )
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

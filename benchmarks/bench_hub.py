"""Benchmark `zoo hub serve` over loopback.

1. Large download: a file of ``--size-mb`` (default 512 MB) fetched through ``/resolve/``, versus reading the same
   blob file from disk, both measured in this run (best of ``--repeats``); the ratio download/disk is the figure
   of merit (target >= 0.5). The download is measured with a minimal raw-socket HTTP reader (the server's speed),
   with curl, and with httpx2 (huggingface_hub's client, which is itself the bottleneck at these speeds). Both reads hit the page cache (the file was just
   written), so the ratio isolates the server's overhead rather than the disk's speed. Also: the same file through
   ``huggingface_hub.hf_hub_download`` (which writes it into its cache), for reference.
2. Small files: ``--clients`` (default 32) concurrent clients, each with its own keep-alive connection, fetching
   4 KB files for ``--seconds``; requests per second and latency percentiles (p50, p99).

3. Xet (``--xet-mb``, default 50 MB, random data): upload through ``hf_xet`` (huggingface_hub's default client),
   download through ``hf_xet`` into an empty cache, download without it (the server rebuilds the bytes from
   chunks); then the same file with 1 % changed (ten scattered 0.1 % edits) uploaded again: bytes actually sent
   (xorb bytes the server received) and bytes saved by chunk deduplication.

The server runs as a separate process (``python -m zoo hub serve``), as in production, so client and server do not
share a GIL. Run: ``.venv/bin/python benchmarks/bench_hub.py [--size-mb 512] [--clients 32] [--seconds 10]
[--xet-mb 50] [--only-xet]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHUNK = 4 * 1024 * 1024
TOKEN = "bench-token-0123456789abcdef"


def _write_random(path: Path, size: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as handle:
        left = size
        while left > 0:
            handle.write(block[: min(CHUNK, left)])
            left -= CHUNK


def _evict(path: Path) -> bool:
    """Drop ``path`` from the page cache (``posix_fadvise(DONTNEED)``: this file only, no root needed)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def _disk_read_cold(path: Path) -> float:
    """Seconds to read ``path`` in 4 MB chunks after evicting it from the page cache: an actual disk read."""
    buf = bytearray(CHUNK)
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while handle.readinto(buf):
            pass
    return time.perf_counter() - start


def _disk_read(path: Path) -> float:
    """Seconds to read ``path``: the best of 256 KB, 1 MB and 4 MB reads (the most favourable baseline)."""
    best = float("inf")
    for chunk in (256 * 1024, 1024 * 1024, CHUNK):
        buf = bytearray(chunk)
        start = time.perf_counter()
        with open(path, "rb", buffering=0) as handle:
            while handle.readinto(buf):
                pass
        best = min(best, time.perf_counter() - start)
    return best


def _raw_read(url: str, expected: int) -> float:
    """Seconds to fetch ``url`` with a minimal HTTP/1.1 reader (one socket, ``recv_into``): the server's speed."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    buf = bytearray(1024 * 1024)
    start = time.perf_counter()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        received = bytearray()
        while b"\r\n\r\n" not in received:
            n = sock.recv_into(buf)
            if not n:
                raise RuntimeError("connection closed before the headers")
            received += buf[:n]
        head, _, rest = bytes(received).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.split(b"\r\n")[0].decode())
        got = len(rest)
        while True:
            n = sock.recv_into(buf)
            if not n:
                break
            got += n
    elapsed = time.perf_counter() - start
    if got != expected:
        raise RuntimeError(f"downloaded {got} bytes, expected {expected}")
    return elapsed


def _curl_read(url: str, expected: int) -> float | None:
    """Seconds for ``curl`` to fetch ``url`` to /dev/null (None when curl is not installed)."""
    curl = shutil.which("curl")
    if curl is None:
        return None
    start = time.perf_counter()
    out = subprocess.run(
        [curl, "-sS", "-o", "/dev/null", "-w", "%{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    elapsed = time.perf_counter() - start
    if int(float(out)) != expected:
        raise RuntimeError(f"curl downloaded {out} bytes, expected {expected}")
    return elapsed


def _http_read(client, url: str, expected: int) -> float:
    """Seconds to stream ``url`` to nowhere with httpx2 (huggingface_hub's HTTP client)."""
    start = time.perf_counter()
    got = 0
    with client.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(CHUNK):
            got += len(chunk)
    elapsed = time.perf_counter() - start
    if got != expected:
        raise RuntimeError(f"downloaded {got} bytes, expected {expected}")
    return elapsed


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(root: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ZOO_HUB_TOKENS": TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoo", "hub", "serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def _small_files(
    endpoint: str, repo_id: str, names: list[str], clients: int, seconds: float
) -> tuple[int, list[float], int]:
    import httpx2

    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0]
    stop = threading.Event()
    barrier = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        with httpx2.Client(timeout=30) as client:
            client.get(f"{endpoint}/{repo_id}/resolve/main/{names[0]}")  # open the keep-alive connection
            barrier.wait()
            k = i
            while not stop.is_set():
                t0 = time.perf_counter()
                r = client.get(f"{endpoint}/{repo_id}/resolve/main/{names[k % len(names)]}")
                if r.status_code != 200 or len(r.content) != 4096:
                    errors[0] += 1
                latencies[i].append(time.perf_counter() - t0)
                k += clients

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    flat = sorted(x for per in latencies for x in per)
    return int(len(flat) / elapsed), flat, errors[0]


def _xorb_bytes(root: Path) -> int:
    import sqlite3

    with sqlite3.connect(root / "hub.sqlite") as db:
        return db.execute("SELECT coalesce(sum(bytes), 0) FROM xorbs").fetchone()[0]


def _xet_bench(work: Path, size_mb: int) -> None:
    """Xet upload/download throughput and the bytes a 1 % edit sends (server in its own process)."""
    import random

    from huggingface_hub import HfApi, constants, hf_hub_download

    root = work / "xet-root"
    proc, endpoint = _start_server(root)
    try:
        constants.HF_HUB_DISABLE_XET = False
        api = HfApi(endpoint=endpoint, token=TOKEN)
        api.create_repo("bench/xet")
        size = size_mb * 1024 * 1024
        rng = random.Random(0)
        data = bytearray(rng.randbytes(size))
        src = work / "xet.bin"
        src.write_bytes(data)
        t0, before = time.perf_counter(), _xorb_bytes(root)
        api.upload_file(path_or_fileobj=str(src), path_in_repo="w.bin", repo_id="bench/xet")
        up = time.perf_counter() - t0
        sent_v1 = _xorb_bytes(root) - before
        t0 = time.perf_counter()
        hf_hub_download("bench/xet", "w.bin", endpoint=endpoint, cache_dir=work / "xet-c1")
        down_xet = time.perf_counter() - t0
        constants.HF_HUB_DISABLE_XET = True
        t0 = time.perf_counter()
        hf_hub_download("bench/xet", "w.bin", endpoint=endpoint, cache_dir=work / "xet-c2")
        down_plain = time.perf_counter() - t0
        constants.HF_HUB_DISABLE_XET = False
        block = size // 1000
        for _ in range(10):  # 1 %: ten scattered edits of 0.1 % each
            offset = rng.randrange(0, size - block)
            data[offset : offset + block] = rng.randbytes(block)
        src.write_bytes(data)
        t0, before = time.perf_counter(), _xorb_bytes(root)
        api.upload_file(path_or_fileobj=str(src), path_in_repo="w.bin", repo_id="bench/xet")
        up2 = time.perf_counter() - t0
        sent_v2 = _xorb_bytes(root) - before
        print(f"xet: {size_mb} MB random file (hf_xet {importlib.metadata.version('hf_xet')})")
        print(f"    {'upload (hf_xet)':<30}{size_mb / up:10.1f} MB/s  {sent_v1} xorb bytes sent")
        print(f"    {'download (hf_xet)':<30}{size_mb / down_xet:10.1f} MB/s")
        print(f"    {'download (plain, rebuilt)':<30}{size_mb / down_plain:10.1f} MB/s")
        print(
            f"    {'re-upload, 1 % changed':<30}{size_mb / up2:10.1f} MB/s  {sent_v2} bytes sent "
            f"({100 * sent_v2 / size:.1f} % of the file; {size - sent_v2} bytes saved by chunk dedup)"
        )
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--xet-mb", type=int, default=50)
    parser.add_argument("--only-xet", action="store_true", help="run the Xet part only")
    args = parser.parse_args()
    if args.only_xet:
        work = Path(tempfile.mkdtemp(prefix="zoo-bench-xet-"))
        try:
            _xet_bench(work, args.xet_mb)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0

    import httpx2

    from zoo.hub.server.importer import import_folder

    work = Path(tempfile.mkdtemp(prefix="zoo-bench-hub-"))
    proc = None
    try:
        size = args.size_mb * 1024 * 1024
        seed = work / "seed"
        (seed / "small").mkdir(parents=True)
        _write_random(seed / "big.bin", size)
        names = []
        for i in range(64):
            (seed / "small" / f"f{i:02d}.bin").write_bytes(os.urandom(4096))
            names.append(f"small/f{i:02d}.bin")
        root = work / "root"
        import_folder(root, seed, "bench/data")
        shutil.rmtree(seed)
        blob = next(p for p in (root / "blobs").rglob("*") if p.is_file() and p.stat().st_size == size)
        proc, endpoint = _start_server(root)
        url = f"{endpoint}/bench/data/resolve/main/big.bin"

        cold_disk, cold_raw = [], []
        can_evict = _evict(blob)
        for _ in range(args.repeats if can_evict else 0):
            _evict(blob)
            cold_disk.append(_disk_read_cold(blob))
            _evict(blob)
            cold_raw.append(_raw_read(url, size))
        disk, raw, curl, http, server_cpu = [], [], [], [], []
        with httpx2.Client(timeout=600) as client:
            for _ in range(args.repeats):
                disk.append(_disk_read(blob))
                cpu_before = _cpu_seconds(proc.pid)
                raw.append(_raw_read(url, size))
                cpu_after = _cpu_seconds(proc.pid)
                if cpu_before is not None and cpu_after is not None:
                    server_cpu.append((cpu_after - cpu_before) / (size / 2**30))
                curl_time = _curl_read(url, size)
                if curl_time is not None:
                    curl.append(curl_time)
                http.append(_http_read(client, url, size))
        disk_mbps = args.size_mb / min(disk)
        raw_mbps = args.size_mb / min(raw)
        curl_mbps = args.size_mb / min(curl) if curl else float("nan")
        http_mbps = args.size_mb / min(http)

        from huggingface_hub import hf_hub_download

        t0 = time.perf_counter()
        hf_hub_download("bench/data", "big.bin", endpoint=endpoint, cache_dir=work / "hf-cache")
        hf_mbps = args.size_mb / (time.perf_counter() - t0)
        shutil.rmtree(work / "hf-cache", ignore_errors=True)

        rps, lat, errors = _small_files(endpoint, "bench/data", names, args.clients, args.seconds)
        p50 = statistics.quantiles(lat, n=100)[49] * 1000
        p99 = statistics.quantiles(lat, n=100)[98] * 1000

        def row(label: str, value: float, unit: str, note: str = "", digits: int = 1) -> None:
            print(f"    {label:<30}{value:10.{digits}f} {unit:<6}{note}".rstrip())

        print(f"zoo hub benchmark  (loopback, server in its own process, {os.cpu_count()} CPUs)")
        print(f"large file: {args.size_mb} MB, best of {args.repeats}")
        if cold_disk:
            cold_disk_mbps, cold_raw_mbps = args.size_mb / min(cold_disk), args.size_mb / min(cold_raw)
            print("  cold page cache (file evicted before each read, so the disk is read):")
            row("disk read", cold_disk_mbps, "MB/s")
            row(
                "download, raw socket client",
                cold_raw_mbps,
                "MB/s",
                f"ratio {cold_raw_mbps / cold_disk_mbps:.3f}",
            )
        print("  warm page cache (file in memory; download = 3 memory copies, disk read = 1):")
        row("disk read", disk_mbps, "MB/s")
        row("download, raw socket client", raw_mbps, "MB/s", f"ratio {raw_mbps / disk_mbps:.3f}")
        row("download, curl", curl_mbps, "MB/s", f"ratio {curl_mbps / disk_mbps:.3f}")
        row("download, httpx2 stream", http_mbps, "MB/s", f"ratio {http_mbps / disk_mbps:.3f} (client-bound)")
        row("hf_hub_download (to cache)", hf_mbps, "MB/s", "one run, also writes the file")
        if server_cpu:
            row("server CPU per GB served", min(server_cpu), "s", "raw-socket downloads", digits=2)
        print("  target: download / disk read >= 0.5")
        print(
            f"small files: {args.clients} concurrent clients (keep-alive), 4 KB files, {args.seconds:.0f} s:"
        )
        row("requests/s", rps, "", digits=0)
        row("latency p50", p50, "ms")
        row("latency p99", p99, "ms", f"{len(lat)} requests, {errors} errors")
        if args.xet_mb > 0:
            _xet_bench(work, args.xet_mb)
        return 0 if errors == 0 else 1
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

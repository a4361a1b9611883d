#!/usr/bin/env python3
"""Counts the instructions of each benchmark operation with valgrind's callgrind.

    python3 scripts/instructions.py [--iterations N] [--json FILE] [--top K] [NAME ...]

NAME is a benchmark of `benches/vs_peers.rs` (`verify_query/presign`, `get_doc/floor`, ...);
without one, every benchmark. For each, `benches/instructions.rs` runs the operation N times
(default 2000) through the one function callgrind is told to count, and this prints per
operation: the instructions outside SHA-256's compression function, how many more that is than
the case's floor runs, and the compression instructions. With `--top K`, each benchmark's K costliest functions
(outside compression) follow the table. With `--json FILE`, the counts are saved for
`scripts/benchmarks_table.py --instructions FILE`.

Why: one build counts the same every time (a build elsewhere, in another directory say, can
differ by a few instructions), so counts show a change of one percent that timings on a shared
machine hide, and callgrind says where each instruction ran. They are not time.
Under valgrind SHA-256 runs without SHA-NI (hence its compression is counted apart), and
neither memory nor the processor's overlap of independent work is in them.

Needs valgrind (`apt-get install valgrind`). Python 3 standard library only.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

from benchmarks_table import BENCHMARKS, floor_of

# SHA-256's block function: `sha2` 0.10's `compress256`, 0.11's `soft::unroll::compress`.
COMPRESS = re.compile(r"^sha2::sha256::.*compress")
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(?:\*\s+)?[^:]*:(.+?)(?:\s+\[[^\]]*\])?$")


def build():
    """Builds the instructions bench; returns its executable."""
    out = subprocess.run(
        ["cargo", "bench", "--bench", "instructions", "--no-run", "--message-format=json"],
        check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "instructions" and msg.get("executable"):
            return msg["executable"]
    sys.exit("cargo built no `instructions` bench executable")


def count(executable, name, iterations):
    """Instructions per operation of benchmark `name`: {function: count}."""
    case, implementation = name.split("/")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             "--toggle-collect=instructions::measured*",
             executable, case, implementation, str(iterations)],
            check=True, capture_output=True,
        )
        report = subprocess.run(
            ["callgrind_annotate", "--inclusive=no", "--threshold=100", out],
            check=True, capture_output=True, text=True,
        ).stdout
    functions = collections.Counter()
    for line in report.splitlines():
        if "PROGRAM TOTALS" in line:
            continue
        if "Auto-annotated source" in line:
            break
        m = LINE.match(line)
        if m:
            functions[m.group(2).strip()] += int(m.group(1).replace(",", ""))
    if not functions:
        sys.exit(f"{name}: callgrind counted nothing")
    return {f: c / iterations for f, c in functions.items()}


def split(functions):
    """(outside compression, compression) of a {function: count}."""
    sha = sum(c for f, c in functions.items() if COMPRESS.match(f))
    return sum(functions.values()) - sha, sha


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--top", type=int, default=0, metavar="K")
    args = parser.parse_args()
    names = args.names or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmarks: {', '.join(unknown)}")

    executable = build()
    counts = {}
    for name in names:
        print(f"counting {name}", file=sys.stderr)
        counts[name] = count(executable, name, args.iterations)

    print("| benchmark | instructions outside SHA-256 compression | more than the floor | SHA-256 compression |")
    print("|---|---:|---:|---:|")
    saved = {}
    for name, functions in counts.items():
        outside, sha = split(functions)
        floor_name = floor_of(name)
        floor = split(counts[floor_name])[0] if floor_name in counts else None
        extra = f"{outside - floor:,.0f}" if floor is not None else "–"
        print(f"| `{name}` | {outside:,.0f} | {extra} | {sha:,.0f} |")
        saved[name] = {"outside_sha256": round(outside), "sha256": round(sha)}
    for name, functions in counts.items():
        if args.top:
            print(f"\n`{name}`, costliest functions outside compression:\n")
            rest = [(c, f) for f, c in functions.items() if not COMPRESS.match(f)]
            for c, f in sorted(rest, reverse=True)[: args.top]:
                print(f"- {c:,.0f} `{f}`")
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"iterations": args.iterations, "benchmarks": saved}, f, indent=1)
        print(f"saved {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

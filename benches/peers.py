#!/usr/bin/env python3
"""Side by side: the DuckDB peer and spotlint on the same results table, alternating.

usage: peers.py DATA_DIR PEER_SCRIPT SPOTLINT [--runs N]

DATA_DIR is a data set of `cargo bench --bench scale -- --generate-only` (results.csv,
four-rules.yaml beside it). Each round runs, one after the other: the DuckDB peer
(four per-record rules), spotlint with the same four rules, spotlint with the full
shipped policy. Walls are whole processes (start to exit, report written to /dev/null);
peak memory is the process's maximum resident set. Best of N rounds, and the ratio to
DuckDB's best. A first, untimed round checks that both find the same counts per rule.
"""
import json
import os
import re
import subprocess
import sys
import time

FOUR = ["result-entry-deadline", "result-inspectors-count", "objects-uscc",
        "result-publication-channel"]


def calendar_json(yaml_path, out_path):
    """policies/calendar/cn.yaml as the peer reads it (years, holidays, workdays)."""
    years, lists, current = [], {"holidays": [], "workdays": []}, None
    with open(yaml_path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip()
            m = re.match(r"years:\s*\[(.*)\]", line)
            if m:
                years = [int(y) for y in m.group(1).split(",")]
                continue
            m = re.match(r"(\w+):", line)
            if m:
                current = m.group(1) if m.group(1) in lists else None
                continue
            m = re.match(r"\s+-\s+(\d{4}-\d{2}-\d{2})$", line)
            if m and current:
                lists[current].append(m.group(1))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"years": years, **lists}, f)


def run(argv, out=subprocess.DEVNULL):
    """(wall seconds, peak KiB, stdout bytes or None) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
    captured = proc.stdout.read() if out == subprocess.PIPE else None
    proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv[0]} exited with {proc.returncode}")
    return wall, usage.ru_maxrss, captured


def main():
    args = [a for a in sys.argv[1:]]
    runs = 5
    if "--runs" in args:
        k = args.index("--runs")
        runs = int(args[k + 1])
        del args[k:k + 2]
    data, peer, spotlint = args
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    results = os.path.join(data, "results.csv")
    # Beside the data set, not in it: spotlint would read it as an input.
    calendar = os.path.join(os.path.dirname(os.path.abspath(data)), "calendar.json")
    calendar_json(os.path.join(root, "policies/calendar/cn.yaml"), calendar)
    check = [spotlint, "check", data, "--as-of", "2024-12-31", "--format", "json"]
    runners = {
        "DuckDB, four rules": [sys.executable, peer, results, calendar],
        "spotlint, four rules": check + ["--policy", os.path.join(data, "four-rules.yaml")],
        "spotlint, full policy": check,
    }

    # Same answers first: the peer's counts against spotlint's findings per rule.
    _, _, peer_out = run(runners["DuckDB, four rules"], subprocess.PIPE)
    peer_counts = dict(re.findall(r"count (\S+) (\d+)", peer_out.decode()))
    _, _, report = run(runners["spotlint, four rules"], subprocess.PIPE)
    found = json.loads(report)
    # Every finding, those past the per-rule listing limit too.
    ours = {rule: sum(by_severity.values())
            for rule, by_severity in found["summary"]["by_rule"].items()}
    print(f"size: {os.path.getsize(results) / 1e6:.0f} MB ({results})")
    for rule in FOUR:
        print(f"  {rule}: DuckDB {peer_counts.get(rule, '?')}, spotlint {ours.get(rule, 0)}")

    best = {name: (float("inf"), 0) for name in runners}
    for round_ in range(runs):
        for name, argv in runners.items():
            wall, peak, _ = run(argv)
            print(f"  round {round_ + 1}: {name}: {wall:.2f} s, {peak / 1024:.0f} MiB",
                  flush=True)
            if wall < best[name][0]:
                best[name] = (wall, peak)
    duck = best["DuckDB, four rules"][0]
    print()
    print(f"| run (best of {runs}, alternating) | wall (s) | × DuckDB four rules | peak memory (MiB) |")
    print("|---|---|---|---|")
    for name, (wall, peak) in best.items():
        print(f"| {name} | {wall:.2f} | {wall / duck:.2f} | {peak / 1024:.0f} |")


if __name__ == "__main__":
    main()

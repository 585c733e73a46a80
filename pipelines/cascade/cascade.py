#!/usr/bin/env python3
"""One conference over N processes, linked by L16 RTP through prosodysrc/prosodysink.

Starts N cascade_node processes (one real-time module each, P parties), on
loopback or (--netns) in N network namespaces joined by veth pairs, waits for
their reports and prints who hears whom: for each listener party, the level
of every party's tone relative to what that party sends (dB), its own voice,
and the mouth-to-ear latency per hop (a click found in a listener's output on
the far node, against when the clicking node's own listener heard it).

  cascade.py --nodes 3 --parties 4 [--click-seconds 6] [--check]
  cascade.py ... --model pipeline|hierarchical                   (the other models)
  cascade.py ... --kill 1 --kill-at 5 --restart-at 8 --check     (a fault)
  cascade.py ... --netns --loss 0.05 --jitter-max-ms 20 --check  (a bad network; root)

--check: exit 1 unless every party hears every other within --bound-db of
its level, its own voice at most -60 dB, (with --kill) the killed node's
parties gone within 1 s and back after the restart; exit 77 (skipped) when
--netns cannot make namespaces. CASCADE_NODE names the node program
(default: cascade_node in this folder or on PATH); GST_PLUGIN_PATH must hold
the prosody plugin.
"""
import argparse
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time

SKIP = 77


def parse():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--nodes", type=int, default=3)
    a.add_argument("--parties", type=int, default=4)
    a.add_argument("--talkers", type=int, default=-1, help="parties with a tone per node (default all)")
    a.add_argument("--listeners", type=int, default=-1, help="talkers measured per node (default all)")
    a.add_argument("--seconds", type=float, default=6.0, help="tone phase (levels)")
    a.add_argument("--warmup", type=float, default=2.0, help="start of the tone phase not measured")
    a.add_argument("--click-seconds", type=float, default=0.0, help="click phase (latency)")
    a.add_argument("--base-port", type=int, default=0, help="default: random in 30000..49000")
    a.add_argument("--jitter-ms", type=int, default=60, help="rtpjitterbuffer latency")
    a.add_argument("--sink-latency-ms", type=int, default=40, help="prosodysink latency")
    a.add_argument("--loss", type=float, default=0.0, help="netsim drop probability at each receiver")
    a.add_argument("--jitter-max-ms", type=int, default=0, help="netsim delay uniform in 0..this")
    a.add_argument("--model", default="broadcast", choices=["broadcast", "pipeline", "hierarchical"],
                   help="the application note's model over RTP")
    a.add_argument("--pace", action="store_true", help="identity sync=true before each prosodysink")
    a.add_argument("--netns", action="store_true", help="one network namespace per node (root)")
    a.add_argument("--kill", type=int, default=-1, help="node to SIGKILL in the tone phase")
    a.add_argument("--kill-at", type=float, default=5.0)
    a.add_argument("--restart-at", type=float, default=8.0)
    a.add_argument("--bound-db", type=float, default=1.5, help="--check: heard level within this of sent")
    a.add_argument("--cpu", action="store_true", help="report each node's CPU share (from /proc)")
    a.add_argument("--max-underruns", type=int, default=-1,
                   help="--check: at most this many underruns per link in the measured part (default: no check)")
    a.add_argument("--check", action="store_true")
    a.add_argument("--json", help="write the nodes' reports here")
    return a.parse_args()


def node_program():
    p = os.environ.get("CASCADE_NODE")
    if p:
        return p
    here = os.path.dirname(os.path.abspath(__file__))
    for c in (os.path.join(here, "cascade_node"), shutil.which("cascade_node") or ""):
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("cascade.py: set CASCADE_NODE to the built cascade_node")


class Namespaces:
    """N namespaces, a veth pair between every two: node i reaches node j at
    10.77.<pair>.<1 for the lower index, 2 for the higher>."""

    def __init__(self, n):
        self.names = [f"pcascade{os.getpid()}n{i}" for i in range(n)]
        self.made = []
        self.address = {}  # (i, j): the address node i sends to for node j

    def run(self, *cmd):
        subprocess.run(["ip", *cmd], check=True, capture_output=True)

    def create(self):
        n = len(self.names)
        for name in self.names:
            self.run("netns", "add", name)
            self.made.append(name)
            self.run("-n", name, "link", "set", "lo", "up")
        pair = 0
        for i in range(n):
            for j in range(i + 1, n):
                a, b = f"pc{os.getpid() % 100000}v{pair}a", f"pc{os.getpid() % 100000}v{pair}b"
                self.run("link", "add", a, "netns", self.names[i], "type", "veth", "peer", "name", b, "netns",
                         self.names[j])
                self.run("-n", self.names[i], "addr", "add", f"10.77.{pair}.1/24", "dev", a)
                self.run("-n", self.names[j], "addr", "add", f"10.77.{pair}.2/24", "dev", b)
                self.run("-n", self.names[i], "link", "set", a, "up")
                self.run("-n", self.names[j], "link", "set", b, "up")
                self.address[(i, j)] = f"10.77.{pair}.2"
                self.address[(j, i)] = f"10.77.{pair}.1"
                pair += 1

    def delete(self):
        for name in self.made:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def node_command(args, program, i, start_ns, base_port, ns):
    cmd = [program, "--node", str(i), "--nodes", str(args.nodes), "--parties", str(args.parties),
           "--talkers", str(args.talkers), "--listeners", str(args.listeners), "--base-port", str(base_port),
           "--start-ns", str(start_ns), "--warmup", str(args.warmup), "--tone-seconds", str(args.seconds),
           "--click-seconds", str(args.click_seconds), "--jitter-ms", str(args.jitter_ms),
           "--sink-latency-ms", str(args.sink_latency_ms), "--loss", str(args.loss),
           "--jitter-max-ms", str(args.jitter_max_ms), "--pace", "1" if args.pace else "0",
           "--model", args.model]
    if ns:
        for j in range(args.nodes):
            if j != i:
                cmd += ["--peer", f"{j}={ns.address[(i, j)]}"]
        cmd = ["ip", "netns", "exec", ns.names[i]] + cmd
    return cmd


def table(reports, args):
    """Who hears whom: one row per listener, one column per talker."""
    talkers = args.parties if args.talkers < 0 else args.talkers
    cols = [f"{j}.{q}" for j in range(args.nodes) for q in range(talkers)]
    lines = ["levels heard, dB relative to what the talker sends (node.party; * = own voice, coherent over the "
             "measured part)",
             "listener " + " ".join(f"{c:>7}" for c in cols)]
    for r in reports:
        for lst in r["listeners"]:
            me = f'{r["node"]}.{lst["party"]}'
            cells = []
            for c in cols:
                v = lst["heard_db"].get(c)
                s = "  n/a" if v is None else f"{v:6.1f}"
                cells.append(f"{s}{'*' if c == me else ' '}")
            lines.append(f"{me:>8} " + " ".join(cells))
    return "\n".join(lines)


def check_levels(reports, args, own_only=False):
    """Every talker heard within the bound, own voice <= -60 dB."""
    bad = []
    for r in reports:
        for lst in r["listeners"]:
            me = f'{r["node"]}.{lst["party"]}'
            for src, v in lst["heard_db"].items():
                if src == me:
                    if v is None or v > -60.0:
                        bad.append(f"{me} hears its own voice at {v if v is None else round(v, 1)} dB (bound -60)")
                elif not own_only and (v is None or abs(v) > args.bound_db):
                    bad.append(f"{me} hears {src} at {v if v is None else round(v, 1)} dB (bound +/-{args.bound_db})")
    return bad


def hops(model, i, j):
    """RTP hops from node i to node j in the model."""
    if model == "pipeline":
        return abs(i - j)
    if model == "hierarchical":
        return 1 if i == 0 or j == 0 else 2
    return 1


def hop_latencies(reports, args):
    """Per (talker node, listener node): mouth-to-ear latency of the clicks,
    ms. Node s mod N clicks in second s (from the common start); its own
    listener hears the click in the frame it is said (t0); the latency to
    another node is when that node's listener first hears a click after t0,
    within 500 ms."""
    start = reports[0]["start_ns"]
    clicks = {r["node"]: r["listeners"][0]["clicks_ns"] for r in reports if r["listeners"]}
    lat = {}
    for src, times in clicks.items():
        for t0 in times:
            if ((t0 - start) // 1_000_000_000) % args.nodes != src:
                continue  # another node's click, heard here
            for dst, other in clicks.items():
                if dst == src:
                    continue
                after = [t for t in other if t0 < t <= t0 + 500_000_000]
                if after:
                    lat.setdefault((src, dst), []).append((after[0] - t0) / 1e6)
    return lat


def fault_check(reports, args):
    """The killed node's talkers in the others' first listener: present
    before the kill, silent (below -50 dB) within 1 s of it and staying so
    until the restart (faded, no stuck noise), back within the bound from 3 s
    after the restart; the others' talkers heard all along. "Staying so": the
    median of the windows from 1 s after the kill, and at least three in four
    of them, counting only the windows clear of trouble on the listener's node
    other than the killed node's link (a late frame, another link's concealed
    frame or slip: on a loaded machine such a moment spreads the other tones'
    energy across the spectrum); at least three must be clear."""
    bad, lines = [], []
    for r in reports:
        if r["node"] == args.kill or not r["listeners"]:
            continue
        lst = r["listeners"][0]
        w, step = lst["series_window_ms"] / 1000.0, lst["series_step_ms"] / 1000.0
        t0 = lst["series_t0_ns"]
        margin = 20_000_000  # two frames
        others = [(a, b) for a, b, src in r.get("trouble", []) if src != args.kill]

        def clear(k):
            a, b = t0 + int(k * step * 1e9), t0 + int((k * step + w) * 1e9)
            return all(not (a < y + margin and x - margin < b) for x, y in others)
        for src, series in lst["series"].items():
            node = int(src.split(".")[0])
            if src == f'{r["node"]}.{lst["party"]}':
                continue

            def span(a, b):
                return [v for k, v in enumerate(series) if v is not None and a <= k * step and k * step + w <= b]

            before = span(args.warmup, args.kill_at)
            gone = [v for k, v in enumerate(series) if v is not None and args.kill_at + 1.0 <= k * step
                    and k * step + w <= args.restart_at and clear(k)]
            back = span(args.restart_at + 3.0, args.seconds)
            if node == args.kill:
                # When it went: the start of the first window after the kill below -50 dB.
                k0 = int(args.kill_at / step)
                silent = [k for k in range(k0, len(series)) if series[k] is not None and series[k] <= -50.0]
                gone_after = silent[0] * step - args.kill_at if silent else math.inf
                loud = sum(1 for v in gone if v > -50.0)
                lines.append(f"node {r['node']} hears {src}: before {statistics.median(before):.1f} dB, "
                             f"silent (< -50 dB) {gone_after * 1000:.0f} ms after the kill, while gone median "
                             f"{statistics.median(gone) if gone else math.nan:.1f} dB, max "
                             f"{max(gone) if gone else math.nan:.1f} dB ({loud} of {len(gone)} clear windows "
                             f"above -50 dB), after restart {statistics.median(back):.1f} dB")
                if abs(statistics.median(before)) > args.bound_db:
                    bad.append(f"{r['node']} hears {src} at {statistics.median(before):.1f} dB before the kill")
                if len(gone) < 3 or gone_after > 1.0 or statistics.median(gone) > -50.0 or 4 * loud > len(gone):
                    bad.append(f"{r['node']} still hears {src} after the kill")
                if not back or abs(statistics.median(back)) > args.bound_db:
                    bad.append(f"{r['node']} does not hear {src} again after the restart")
            else:
                during = span(args.kill_at, args.restart_at + 3.0)
                if during and abs(statistics.median(during)) > args.bound_db:
                    bad.append(f"{r['node']} hears {src} at {statistics.median(during):.1f} dB during the fault")
    return bad, lines


def cpu_ticks(pid):
    """utime + stime of a process and of each of its threads, in clock ticks."""
    def ticks(path):
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12]), fields  # utime, stime (stat fields 14, 15)
    total, _ = ticks(f"/proc/{pid}/stat")
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            threads[f"{tid}:{name}"] = ticks(f"/proc/{pid}/task/{tid}/stat")[0]
        except OSError:
            pass
    return total, threads


def cpu_shares(procs, a, b):
    """Between two samples (time, {node: ticks}): each node's CPU in cores,
    its main thread's (the synthetic parties' host-port I/O), and its busiest
    other thread's (the module's real-time thread, which must keep within one
    core: 1 - that share is its headroom)."""
    hz = os.sysconf("SC_CLK_TCK")
    wall = b[0] - a[0]
    out = {}
    for i in b[1]:
        if i not in a[1]:
            continue
        total = (b[1][i][0] - a[1][i][0]) / hz / wall
        share = {t: (b[1][i][1][t] - a[1][i][1].get(t, 0)) / hz / wall for t in b[1][i][1]}
        main = share.pop(f"{procs[i].pid}:" + next((t.split(":", 1)[1] for t in share
                                                   if t.startswith(f"{procs[i].pid}:")), ""), 0.0)
        out[i] = (total, main, max(share.values(), default=0.0))
    return out


def sample_cpu(procs):
    s = {}
    for i, p in procs.items():
        try:
            s[i] = cpu_ticks(p.pid)
        except OSError:
            pass
    return time.monotonic(), s


def main():
    args = parse()
    # A test runner's timeout (SIGTERM, maybe sent twice: to this process
    # and to its group) still ends the nodes and deletes the namespaces.
    def terminate(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(1)

    signal.signal(signal.SIGTERM, terminate)
    program = node_program()
    base_port = args.base_port or random.randrange(30000, 49000, 100)
    ns = None
    if args.netns:
        if os.geteuid() != 0 or not shutil.which("ip"):
            print("SKIP: --netns needs root and iproute2")
            return SKIP
        ns = Namespaces(args.nodes)
        try:
            ns.create()
        except subprocess.CalledProcessError as e:
            print(f"SKIP: cannot make network namespaces: {e.stderr.decode().strip()}")
            ns.delete()
            return SKIP
        except BaseException:  # a SIGTERM while they are made
            ns.delete()
            raise
    start_ns = time.monotonic_ns() + 2_000_000_000  # time for every node to start
    total = args.seconds + args.click_seconds
    procs = {}
    try:
        for i in range(args.nodes):
            procs[i] = subprocess.Popen(node_command(args, program, i, start_ns, base_port, ns),
                                        stdout=subprocess.PIPE, text=True)
        cpu = None
        if args.kill < 0 and args.cpu:
            # CPU over the measured part of the tone phase.
            time.sleep(max(0.0, (start_ns - time.monotonic_ns()) / 1e9 + args.warmup))
            first = sample_cpu(procs)
            time.sleep(max(0.0, (start_ns - time.monotonic_ns()) / 1e9 + args.seconds - 0.2))
            cpu = cpu_shares(procs, first, sample_cpu(procs))
        if args.kill >= 0:
            time.sleep(max(0.0, (start_ns - time.monotonic_ns()) / 1e9 + args.kill_at))
            procs[args.kill].send_signal(signal.SIGKILL)
            procs[args.kill].wait()
            time.sleep(max(0.0, (start_ns - time.monotonic_ns()) / 1e9 + args.restart_at))
            procs[args.kill] = subprocess.Popen(node_command(args, program, args.kill, start_ns, base_port, ns),
                                                stdout=subprocess.PIPE, text=True)
        reports, failed = [], []
        for i in range(args.nodes):
            try:
                out, _ = procs[i].communicate(timeout=total + 60)
            except subprocess.TimeoutExpired:
                procs[i].kill()
                out, _ = procs[i].communicate()
            if procs[i].returncode != 0 or not out.strip():
                failed.append(f"node {i} exited with {procs[i].returncode}")
                continue
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        if ns:
            ns.delete()

    if args.json:
        with open(args.json, "w") as f:
            json.dump(reports, f)
    print(f"{args.model}: {args.nodes} nodes x {args.parties} parties, L16 RTP, jitter buffer {args.jitter_ms} ms, "
          f"prosodysink latency {args.sink_latency_ms} ms" +
          (f", netns, loss {args.loss:.0%}, jitter 0..{args.jitter_max_ms} ms" if ns else ", loopback"))
    bad = list(failed)
    if reports:
        print(table(reports, args))
        for r in reports:
            imports = ", ".join(f"from {j}: {s['sink'].get('underruns')} underruns "
                                f"({s.get('measured_underruns', '-')} measured), {s['frames_concealed']} frames "
                                f"concealed ({s.get('measured_concealed', '-')} measured), "
                                f"{s['sink'].get('drift-dropped', 0) + s['sink'].get('drift-repeated', 0)} samples "
                                f"dropped or repeated ({s.get('measured_corrections', '-')} measured), "
                                f"{s['sink'].get('frames-in')} frames in"
                                for j, s in r["imports"].items())
            print(f"node {r['node']}: late frames {r['late_frames']} ({r['measured_late_frames']} measured); {imports}")
            if args.check and args.max_underruns >= 0:
                for j, s in r["imports"].items():
                    if s.get("measured_underruns", 0) > args.max_underruns:
                        bad.append(f"node {r['node']}: {s['measured_underruns']} underruns on the link from {j}")
        for i, (total, main, busiest) in sorted((cpu or {}).items()):
            print(f"node {i}: CPU {total:.2f} cores; main thread (host-port I/O) {main:.0%} of a core; busiest "
                  f"other thread (the module's) {busiest:.0%} (headroom {1 - busiest:.0%}, "
                  f"real time x{1 / busiest if busiest > 0 else float('inf'):.1f})")
        lat = hop_latencies(reports, args)
        for (src, dst), v in sorted(lat.items()):
            print(f"latency node {src} -> node {dst} ({hops(args.model, src, dst)} hops): median {statistics.median(v):.1f} ms "
                  f"(min {min(v):.1f}, max {max(v):.1f}, {len(v)} clicks)")
        if args.click_seconds > 0 and args.check and args.kill < 0:
            # A hop costs at least a frame, and normally the sink's latency
            # (plus the jitter buffer's when paced) and one to two frames; on
            # a loaded machine the sink's drift control and overruns can take
            # it lower, stalls higher: 100 ms of slack above.
            per_hop = args.sink_latency_ms + (args.jitter_ms if args.pace else 0) + 20
            for i in range(args.nodes):
                for j in range(args.nodes):
                    if i == j:
                        continue
                    n = hops(args.model, i, j)
                    if (i, j) not in lat:
                        bad.append(f"no click from node {i} found at node {j}")
                    elif not 10 * n <= statistics.median(lat[(i, j)]) <= n * per_hop + 100:
                        bad.append(f"latency node {i} -> node {j} ({n} hops) {statistics.median(lat[(i, j)]):.1f} ms, "
                                   f"not within {10 * n}..{n * per_hop + 100} ms")
        if args.kill >= 0:
            fbad, lines = fault_check(reports, args)
            print("\n".join(lines))
            bad += fbad
            # Levels over the whole phase include the outage: own voice only.
            bad += check_levels(reports, args, own_only=True)
        else:
            bad += check_levels(reports, args)
    if args.check:
        for b in bad:
            print("FAIL:", b)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

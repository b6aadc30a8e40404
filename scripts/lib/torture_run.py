#!/usr/bin/env python3
"""The leader-safety torture run behind scripts/torture.sh (Python 3 stdlib only).

A 3-member etcd cluster and five ha_daemon members (with --trace) run for --duration seconds while
faults chosen by a seeded RNG hit them; then every fault is healed and a quiet period follows.
Recorded in the run directory:
  history.jsonl   etcd's own history of every key from the start revision (etcd_cluster.HistoryWatcher)
  events/<m>.jsonl  each member's JSON lines, with a "process_start" line before every (re)start
  faults.jsonl    every fault injected and healed, with times
  meta.json       seed, timings, the daemons' ttl / loop_wait / retry_timeout, when faults ended
  summary.txt     the checker's report (torture_check.py)
The same seed gives the same fault schedule (the timing of the processes themselves varies).
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import etcd_cluster  # noqa: E402
import torture_check  # noqa: E402

SCOPE = "torture"
MEMBERS = [f"n{i}" for i in range(1, 6)]


class Daemon:
    def __init__(self, name, binary, hosts, run_dir, timing):
        self.name = name
        self.binary = binary
        self.hosts = hosts
        self.events = os.path.join(run_dir, "events", name + ".jsonl")
        self.log = os.path.join(run_dir, "logs", name + ".log")
        self.timing = timing
        self.proc = None
        self.frozen = False

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        n = self.name[1:]
        with open(self.events, "a") as f:
            f.write(json.dumps({"ts": time.time(), "member": self.name, "event": "process_start"}) + "\n")
        out = open(self.events, "ab")
        err = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--hosts", self.hosts, "--scope", SCOPE, "--name", self.name,
             "--ttl", str(self.timing["ttl"]), "--loop-wait", str(self.timing["loop_wait"]),
             "--retry-timeout", str(self.timing["retry_timeout"]), "--trace",
             "--conn-url", f"postgres://127.0.0.{n}:5432/postgres", "--api-url", f"http://127.0.0.{n}:8008/patroni"],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        out.close()
        err.close()
        self.frozen = False

    def signal(self, sig):
        if self.running:
            self.proc.send_signal(sig)

    def kill(self):
        if self.running:
            self.proc.kill()
            self.proc.wait()
        self.frozen = False

    def terminate(self):
        if self.running:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.frozen = False


class Torture:
    # Relative weights of the fault kinds.
    KINDS = {
        "etcd_kill": 1.0,        # SIGKILL one etcd member, restart it later
        "etcd_freeze": 1.0,      # SIGSTOP one etcd member, SIGCONT later
        "etcd_restart": 0.6,     # SIGTERM + start again at once
        "quorum_loss": 0.6,      # SIGKILL or SIGSTOP two of three members, heal both later
        "daemon_kill": 1.0,      # SIGKILL a daemon (the leader half of the time), restart later
        "daemon_freeze": 0.8,    # SIGSTOP a daemon for a while
        "daemon_restart": 0.5,   # SIGTERM + start again (a leader releases its key)
        "clock_pause": 1.4,      # SIGSTOP/SIGCONT of the leader (mostly) for 0.3..2.5 x ttl
        "switchover": 0.8,       # a switchover request (the failover key) from the leader to a member
    }
    # Besides: "pause_after_acquire", the worst moment for a pause. When the watch sees a new
    # leader key, its holder is frozen at once, half of the time, for 1.2..2 x ttl, so the others
    # take over right when its lease runs out. Drawn from a second RNG (seed + 1) because when
    # elections happen depends on timing; the main schedule stays the seed's alone.

    def __init__(self, args, run_dir):
        self.args = args
        self.run_dir = run_dir
        self.rng = random.Random(args.seed)
        self.timing = {"ttl": args.ttl, "loop_wait": args.loop_wait, "retry_timeout": args.retry_timeout}
        self.faults = open(os.path.join(run_dir, "faults.jsonl"), "a", buffering=1)
        self.pending = []  # (time, description, heal callable)
        self.etcd_down = set()
        self.daemons_down = set()
        self.injected = 0
        self.reactive_rng = random.Random(args.seed + 1)
        self.new_leaders = []  # filled by the watcher's thread (list.append is atomic)

    def record(self, kind, target, action, **extra):
        line = {"ts": time.time(), "kind": kind, "target": target, "action": action}
        line.update(extra)
        self.faults.write(json.dumps(line) + "\n")
        if self.args.verbose:
            print(f"[{line['ts'] - self.started:7.1f}] {action} {kind} {target} {extra or ''}", flush=True)

    def schedule(self, delay, kind, target, heal):
        self.pending.append((time.time() + delay, kind, target, heal))

    def run_heals(self, everything=False):
        now = time.time()
        due = [p for p in self.pending if everything or p[0] <= now]
        self.pending = [p for p in self.pending if p not in due]
        for _, kind, target, heal in sorted(due, key=lambda p: p[0]):
            heal()
            self.record(kind, target, "heal")

    FAILOVER_KEY = f"/service/{SCOPE}/failover"

    def request_switchover(self, leader, candidate):
        """Writes Patroni's switchover request; False when etcd did not take it at once."""
        value = json.dumps({"leader": leader, "member": candidate}, separators=(",", ":"))
        try:
            self.cluster.any_request("/v3/kv/put", {"key": etcd_cluster.b64(self.FAILOVER_KEY),
                                                    "value": etcd_cluster.b64(value)}, timeout=0.5, attempts=1)
            return True
        except Exception:  # noqa: BLE001 - quorum lost: no request this time
            return False

    def clear_switchover(self, attempts=1):
        """Deletes a switchover request nobody acted on (the leader normally clears it)."""
        try:
            self.cluster.any_request("/v3/kv/deleterange", {"key": etcd_cluster.b64(self.FAILOVER_KEY)},
                                     timeout=0.5 if attempts == 1 else 2, attempts=attempts)
        except Exception:  # noqa: BLE001 - during faults: the final clean-up tries again
            pass

    def current_leader(self):
        try:
            answer = self.cluster.any_request(
                "/v3/kv/range", {"key": etcd_cluster.b64(f"/service/{SCOPE}/leader"), "serializable": True},
                timeout=0.5, attempts=1)
            kvs = answer.get("kvs") or []
            return etcd_cluster.unb64(kvs[0]["value"]) if kvs else None
        except Exception:  # noqa: BLE001 - during quorum loss nobody may know
            return None

    # --- faults -------------------------------------------------------------------------------

    def inject(self):
        rng = self.rng
        kinds = list(self.KINDS)
        kind = rng.choices(kinds, weights=[self.KINDS[k] for k in kinds])[0]
        ttl = self.timing["ttl"]
        # Draw every random number up front so the schedule depends on the seed alone.
        duration = rng.uniform(1.0, 2.0 * ttl)
        pick = rng.random()
        choice_e = rng.randrange(3)
        choice_d = rng.randrange(5)
        how = rng.choice(["kill", "freeze"])
        etcd_up = [m.name for m in self.cluster.members if m.name not in self.etcd_down]
        daemons_up = [d for d in MEMBERS if d not in self.daemons_down]
        if kind.startswith("etcd") or kind == "quorum_loss":
            if self.etcd_down:
                return False  # one etcd fault at a time; quorum loss is its own kind
            if kind == "quorum_loss":
                targets = [etcd_up[choice_e], etcd_up[(choice_e + 1) % 3]]
                for t in targets:
                    (self.cluster.kill if how == "kill" else self.cluster.freeze)(t)
                    self.etcd_down.add(t)
                duration = rng.uniform(1.0, 1.5 * ttl)
                self.record(kind, ",".join(targets), "inject", how=how, duration=round(duration, 2))

                def heal(targets=targets, how=how):
                    for t in targets:
                        if how == "kill":
                            self.cluster.restart(t)
                        else:
                            self.cluster.thaw(t)
                        self.etcd_down.discard(t)
                self.schedule(duration, kind, ",".join(targets), heal)
                return True
            target = etcd_up[choice_e]
            if kind == "etcd_restart":
                self.record(kind, target, "inject", duration=0)
                self.cluster.restart(target, graceful=True)
                self.record(kind, target, "heal")
                return True
            if kind == "etcd_kill":
                self.cluster.kill(target)
                heal_fn = lambda t=target: (self.cluster.restart(t), self.etcd_down.discard(t))  # noqa: E731
            else:
                self.cluster.freeze(target)
                heal_fn = lambda t=target: (self.cluster.thaw(t), self.etcd_down.discard(t))  # noqa: E731
            self.etcd_down.add(target)
            self.record(kind, target, "inject", duration=round(duration, 2))
            self.schedule(duration, kind, target, heal_fn)
            return True

        if kind == "switchover":
            # The leader hands over to a member that is up; it demotes itself (delete_leader) and
            # the candidate takes the key, or the leader refuses and clears the request.
            leader = self.current_leader()
            candidates = [d for d in daemons_up if d != leader]
            if leader not in daemons_up or not candidates:
                return False
            candidate = candidates[choice_d % len(candidates)]
            if not self.request_switchover(leader, candidate):
                return False
            self.record(kind, candidate, "inject", duration=round(duration, 2), leader=leader)
            self.schedule(duration, kind, candidate, self.clear_switchover)
            return True

        if len(self.daemons_down) >= 2:
            return False
        leader = self.current_leader()
        target = daemons_up[choice_d % len(daemons_up)]
        if leader in daemons_up and (kind == "clock_pause" and pick < 0.7 or kind == "daemon_kill" and pick < 0.5):
            target = leader
        d = self.daemons[target]
        if kind == "daemon_restart":
            self.record(kind, target, "inject", duration=0, leader=leader)
            d.terminate()
            d.start()
            self.record(kind, target, "heal")
            return True
        if kind == "clock_pause":
            duration = ttl * rng.uniform(0.3, 2.5)
        self.daemons_down.add(target)
        if kind == "daemon_kill":
            d.kill()
            heal_fn = lambda d=d: (d.start(), self.daemons_down.discard(d.name))  # noqa: E731
        else:
            d.signal(signal.SIGSTOP)
            d.frozen = True
            heal_fn = lambda d=d: (d.signal(signal.SIGCONT), setattr(d, "frozen", False),  # noqa: E731
                                   self.daemons_down.discard(d.name))
        self.record(kind, target, "inject", duration=round(duration, 2), leader=leader)
        self.schedule(duration, kind, target, heal_fn)
        return True

    def on_history(self, record):
        if record["key"] == f"/service/{SCOPE}/leader" and record["type"] != "DELETE" \
                and record["rev"] == record["create_revision"]:
            self.new_leaders.append(record["value"])

    def pause_after_acquire(self):
        while self.new_leaders:
            holder = self.new_leaders.pop(0)
            d = self.daemons.get(holder)
            if d is None or holder in self.daemons_down or len(self.daemons_down) >= 2 or not d.running:
                continue
            if self.reactive_rng.random() >= 0.5:
                continue
            duration = self.timing["ttl"] * self.reactive_rng.uniform(1.2, 2.0)
            self.daemons_down.add(holder)
            d.signal(signal.SIGSTOP)
            self.record("pause_after_acquire", holder, "inject", duration=round(duration, 2), leader=holder)
            self.injected += 1
            self.schedule(duration, "pause_after_acquire", holder,
                          lambda d=d: (d.signal(signal.SIGCONT), self.daemons_down.discard(d.name)))

    # --- the run ------------------------------------------------------------------------------

    def run(self):
        args = self.args
        self.started = time.time()
        os.makedirs(os.path.join(self.run_dir, "events"), exist_ok=True)
        os.makedirs(os.path.join(self.run_dir, "logs"), exist_ok=True)
        self.cluster = etcd_cluster.EtcdCluster(os.path.join(self.run_dir, "etcd"))
        self.daemons = {}
        self.watcher = None
        try:
            os.makedirs(self.cluster.directory, exist_ok=True)
            self.cluster.start()
            start_revision = self.cluster.put("torture/start", "1")
            self.watcher = etcd_cluster.HistoryWatcher(
                self.cluster, start_revision, os.path.join(self.run_dir, "history.jsonl"), on_event=self.on_history)
            self.watcher.start()
            hosts = ",".join(u.replace("http://", "") for u in self.cluster.endpoints)
            for name in MEMBERS:
                self.daemons[name] = Daemon(name, args.bin, hosts, self.run_dir, self.timing)
                self.daemons[name].start()
            t_start = time.time()
            quiet = max(20.0, args.ttl + args.loop_wait + args.slack + 10)
            fault_end = t_start + max(5.0, args.duration - quiet)
            # Let the cluster bootstrap before the first fault.
            next_fault = t_start + min(10.0, max(2.0, (fault_end - t_start) / 4))
            while time.time() < fault_end:
                self.run_heals()
                if time.time() > t_start + 5:
                    self.pause_after_acquire()
                else:
                    self.new_leaders.clear()  # the bootstrap is not a takeover
                if time.time() >= next_fault:
                    if self.inject():
                        self.injected += 1
                    next_fault = time.time() + self.rng.uniform(1.0, 5.0)
                for d in self.daemons.values():  # a daemon that exited on its own is a finding
                    if d.proc is not None and d.proc.poll() not in (None, -9, -15) and d.name not in self.daemons_down:
                        self.record("daemon_exit", d.name, "observed", code=d.proc.returncode)
                        d.proc = None
                time.sleep(0.05)
            self.run_heals(everything=True)
            # A request still pending would move the leader during the quiet period.
            self.clear_switchover(attempts=20)
            t_heal = time.time()
            if args.verbose:
                print(f"[{t_heal - self.started:7.1f}] every fault healed; quiet period of {quiet:.0f} s", flush=True)
            time.sleep(max(0.0, t_start + args.duration - time.time()))
            t_end = time.time()
            for d in self.daemons.values():
                d.terminate()
            self.cluster.wait_healthy(60)
            self.cluster.put("torture/end", "1")
            complete = self.watcher.until("torture/end", 60)
            meta = {
                "seed": args.seed, "duration": args.duration, "scope": SCOPE, "members": MEMBERS,
                "ttl": args.ttl, "loop_wait": args.loop_wait, "retry_timeout": args.retry_timeout,
                "slack": args.slack, "t_start": t_start, "t_heal": t_heal, "t_end": t_end,
                "faults": self.injected, "history_complete": complete, "watch_reconnects": self.watcher.reconnects,
            }
            with open(os.path.join(self.run_dir, "meta.json"), "w") as f:
                json.dump(meta, f, indent=1)
        finally:
            for d in self.daemons.values():
                d.terminate()
            if self.watcher:
                self.watcher.stop()
            self.cluster.stop()
            self.faults.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--bin", required=True, help="the ha_daemon binary")
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--ttl", type=int, default=6)
    parser.add_argument("--loop-wait", type=int, default=1)
    parser.add_argument("--retry-timeout", type=int, default=2)
    parser.add_argument("--slack", type=float, default=torture_check.DEFAULT_SLACK,
                        help="allowance for check 3 (liveness) on a loaded machine, seconds")
    parser.add_argument("--keep", action="store_true", help="keep etcd data and daemon logs on success")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    run_dir = args.run_dir or f"/tmp/libdcs-torture.{time.strftime('%Y%m%d-%H%M%S')}.seed{args.seed}"
    os.makedirs(run_dir, exist_ok=True)
    print(f"torture: seed {args.seed}, {args.duration:.0f} s, run directory {run_dir}", flush=True)
    Torture(args, run_dir).run()
    report = torture_check.check_run(run_dir)
    text = report.render()
    with open(os.path.join(run_dir, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(text, flush=True)
    if not args.keep:
        # etcd's data (preallocated WAL files, 64 MiB a member) says nothing its history does not.
        for m in ("m1", "m2", "m3"):
            shutil.rmtree(os.path.join(run_dir, "etcd", m + ".data"), ignore_errors=True)
    if report.violations == 0 and report.etcd_early_revocations == 0 and not args.keep:
        # Keep what a replay or a reader needs; drop the chatty logs of etcd and the daemons.
        shutil.rmtree(os.path.join(run_dir, "etcd"), ignore_errors=True)
        shutil.rmtree(os.path.join(run_dir, "logs"), ignore_errors=True)
    else:
        print(f"torture: logs kept in {run_dir}; replay with --seed {args.seed}", flush=True)
    return 0 if report.violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

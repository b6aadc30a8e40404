#!/usr/bin/env python3
"""Checker of a scripts/torture.sh run (Python 3 stdlib only): torture_check.py RUN_DIR.

Inputs (see torture_run.py): meta.json, faults.jsonl, history.jsonl (etcd's own history, each
event with the time the recording watch received it) and events/<member>.jsonl (ha_daemon --trace
lines, "process_start" before every start). All times are one machine's wall clock.

Rules (a violation of any is reported and makes the exit status 1):

1. Leader safety. A member's *belief* that it leads opens when it reports the key won
   ("race_won" / "acquired" at `won_at`, or a "renewed" with none open, at its time) and lasts
   until min(its next "renewed_failed" / "demoted" / "released" line or the start of a new
   process, F + ttl), where F is the `since` of its last successful renewal or acquisition: the
   moment the DCS call started, before which etcd cannot have seen the keepalive, so its lease
   lives at least until F + ttl. No slack: two members' beliefs may not overlap at all.
2. Every leadership in etcd's history (a leader-key create .. its delete; an overwrite by another
   member without a delete is itself a violation) was seen by its holder: a "renewed" /
   "acquired" line carrying one of the key's revisions, or a "race_won" / "acquired" /
   "race_error" call whose [since, time + W] holds the key's creation as the watch saw it
   (W = WATCH_LAG, how late the recording watch may see an event). A holder whose daemon was
   killed, frozen, paused or restarted from W before the creation to its end is excused (counted).
3. Liveness: after the last fault healed (t_heal), one leader is in place by
   t_heal + ttl + loop_wait + slack (slack: see DEFAULT_SLACK) and stays until the end: etcd's
   last leadership began by then and lasts to the end, its holder believes from then to the end,
   and no other member believes or takes the key after then.
4. No lost write: every "member_written" / "config_written" (acknowledged by etcd) appears as a
   put of the same key with the same JSON value in etcd's history.
Also: a daemon that exits by itself, or a history whose end sentinel was not seen, is a violation.

Switchovers (fault kind "switchover": the runner writes the failover key) are counted, not judged:
a request is "completed" when its candidate created the leader key within 2 x ttl of it. Other
faults may rightly stop one (its candidate frozen, quorum lost); the four rules above still hold.

etcd's own lease bug. etcd before 3.4.28 / 3.5.11 lets a raft leader that was frozen, once it runs
again, revoke leases that the new leader kept renewing meanwhile (etcd-io/etcd#15247 and #12528,
fixed by #16822). A member then loses its key before its lease bound and another member rightly
takes it, and rule 1 sees an overlap no client can prevent. Such an overlap is reported on its own
line and counted as `etcd_early_revocations`, not as a violation, only when it is proven from the
records: the earlier member's leader key was deleted together with its member key (a lease
expiry, not a release) at a time the watch saw it, t, and the member had a renewal of that key
that started at F and was answered before t, with t < F + ttl: etcd dropped a lease less than a
ttl after it confirmed a keepalive. Anything short of that proof stays a violation.

The last line of the report: faults=F elections=E violations=V (E: leaderships in etcd's history).
"""

import json
import os
import sys

# Check 3 only: time for etcd to elect a raft leader after the last heal (1-3 s), for a restarted
# daemon to start and list the keys, and for CPU contention on a shared CI machine. The safety
# checks (1, 2, 4) have no slack.
DEFAULT_SLACK = 10.0
# How late the recording watch may receive an event (it re-opens after 3 s of silence).
WATCH_LAG = 10.0
END_EVENTS = ("renewed_failed", "demoted", "released")
DOWN_FAULTS = ("daemon_kill", "daemon_freeze", "daemon_restart", "clock_pause", "pause_after_acquire")


def read_jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line cut short by SIGKILL
    return out


def canonical(value):
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Report:
    def __init__(self):
        self.violations = 0
        self.etcd_early_revocations = 0
        self.lines = []
        self.faults = 0
        self.elections = 0

    def violation(self, rule, text):
        self.violations += 1
        self.lines.append(f"VIOLATION ({rule}): {text}")

    def note(self, text):
        self.lines.append(text)

    def render(self):
        extra = [f"etcd_early_revocations={self.etcd_early_revocations} (etcd-io/etcd#15247, not a "
                 f"libdcs fault)"] if self.etcd_early_revocations else []
        return "\n".join(self.lines + extra + [f"faults={self.faults} elections={self.elections} violations={self.violations}"])


def beliefs_of(member, lines, ttl_default):
    """The member's leadership beliefs: dicts {member, start, end, floor}."""
    out, cur = [], None

    def close(at):
        nonlocal cur
        end = cur["floor"] + cur["ttl"]
        if at is not None:
            end = min(end, at)
        cur["end"] = end
        out.append(cur)
        cur = None

    for line in lines:
        event = line.get("event")
        ts = float(line.get("ts", 0))
        if event == "process_start":
            if cur:
                close(None)  # the old process's lease bound, whatever happened to it
        elif event in ("race_won", "acquired", "renewed"):
            since = float(line.get("since", ts))
            ttl = float(line.get("ttl", ttl_default))
            if cur is None:
                start = float(line.get("won_at", ts))
                cur = {"member": member, "start": start, "floor": since, "ttl": ttl, "opened_by": event}
            else:
                cur["floor"] = max(cur["floor"], since)
                cur["ttl"] = ttl
        elif event in END_EVENTS:
            if cur:
                close(ts)
    if cur:
        close(None)
    return out


def leaderships_of(history, leader_key, report):
    out, cur = [], None
    for ev in sorted(history, key=lambda e: e["rev"]):
        if ev["key"] != leader_key:
            continue
        if ev["type"] == "DELETE":
            if cur:
                cur["end_ts"] = ev["ts"]
                out.append(cur)
                cur = None
            continue
        if cur and cur["create"] == ev["create_revision"] and cur["holder"] == ev["value"]:
            cur["revs"].add(ev["rev"])
            continue
        if cur:
            report.violation(2, f"leader key overwritten without a delete at revision {ev['rev']}: "
                                f"{cur['holder']} -> {ev['value']}")
            cur["end_ts"] = ev["ts"]
            out.append(cur)
        cur = {"holder": ev["value"], "create": ev["create_revision"], "revs": {ev["rev"]},
               "start_ts": ev["ts"], "end_ts": None, "start_rev": ev["rev"]}
    if cur:
        out.append(cur)
    return out


def early_revocations(history, events, meta):
    """Leader keys etcd provably revoked less than a ttl after confirming a keepalive of their
    lease (see the module comment): {member: [deletion time seen by the watch, ...]}."""
    prefix = f"/service/{meta['scope']}/"
    deleted_at = {}
    for ev in history:
        if ev["type"] == "DELETE":
            deleted_at.setdefault(ev["rev"], set()).add(ev["key"])
    found = {}
    member, revs = None, set()
    for ev in sorted(history, key=lambda e: e["rev"]):
        if ev["key"] != prefix + "leader":
            continue
        if ev["type"] != "DELETE":
            if ev["value"] != member:
                revs = set()
            member = ev["value"]
            revs.add(ev["rev"])
            continue
        if member is not None and prefix + "members/" + member in deleted_at[ev["rev"]]:
            t = ev["ts"]
            # Renewals of this very key (its revisions), answered before the watch saw the delete.
            proven = [float(l["since"]) for l in events.get(member, [])
                      if l.get("event") == "renewed" and l.get("revision") in revs and float(l["ts"]) < t]
            if proven and t < max(proven) + float(meta["ttl"]):
                found.setdefault(member, []).append(t)
        member, revs = None, set()
    return found


def check_safety(beliefs, report, revoked=None):
    revoked = revoked or {}
    ordered = sorted(beliefs, key=lambda b: b["start"])
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b["start"] >= a["end"]:
                continue  # cannot break: a later `a` may still end later; cheap enough
            if a["member"] == b["member"]:
                continue
            overlap = min(a["end"], b["end"]) - max(a["start"], b["start"])
            if overlap > 0:
                first, second = (a, b) if a["start"] <= b["start"] else (b, a)
                cause = [t for t in revoked.get(first["member"], []) if first["start"] <= t <= second["start"]]
                if cause:
                    report.etcd_early_revocations += 1
                    report.note(f"etcd revoked {first['member']}'s renewed lease early at {cause[0]:.3f} "
                                f"(etcd-io/etcd#15247); {second['member']} took over at {second['start']:.3f}: "
                                f"{overlap:.3f} s overlap not counted as a violation")
                    continue
                report.violation(1, f"{a['member']} believed it led {a['start']:.3f}..{a['end']:.3f} and "
                                    f"{b['member']} {b['start']:.3f}..{b['end']:.3f}: {overlap:.3f} s overlap")


def check_seen(leaderships, events, faults, report):
    seen = excused = 0
    for ls in leaderships:
        lines = events.get(ls["holder"], [])
        start = ls["start_ts"]
        end = ls["end_ts"] if ls["end_ts"] is not None else float("inf")
        ok = any(l.get("event") in ("renewed", "acquired") and l.get("revision") in ls["revs"] for l in lines)
        ok = ok or any(l.get("event") in ("race_won", "acquired", "race_error")
                       and float(l.get("since", l["ts"])) <= start <= float(l["ts"]) + WATCH_LAG for l in lines)
        if ok:
            seen += 1
            continue
        down = any(f["action"] == "inject" and f["kind"] in DOWN_FAULTS and f["target"] == ls["holder"]
                   and start - WATCH_LAG <= f["ts"] <= end for f in faults)
        if down:
            excused += 1
            continue
        report.violation(2, f"leadership of {ls['holder']} from revision {ls['start_rev']} "
                            f"(seen by the watch at {start:.3f}) was never seen by its holder")
    report.note(f"check 2: {len(leaderships)} leaderships, {seen} seen by their holder, "
                f"{excused} excused (holder killed / frozen / paused)")


def check_liveness(meta, leaderships, beliefs, report):
    t_heal, t_end = meta["t_heal"], meta["t_end"]
    deadline = t_heal + meta["ttl"] + meta["loop_wait"] + meta["slack"]
    bound = f"t_heal + ttl + loop_wait + slack = +{deadline - t_heal:.0f} s"
    if deadline >= t_end:
        report.violation(3, f"the quiet period ends before {bound}: run longer")
        return
    final = [l for l in leaderships if l["end_ts"] is None or l["end_ts"] > t_end]
    if not final:
        report.violation(3, "no leader key at the end of the run")
        return
    final = final[-1]
    holder = final["holder"]
    if final["start_ts"] > deadline:
        report.violation(3, f"{holder} took the key {final['start_ts'] - t_heal:.1f} s after the last heal, later than {bound}")
    later = [l for l in leaderships if l is not final and l["start_ts"] > deadline]
    for l in later:
        report.violation(3, f"{l['holder']} took the key {l['start_ts'] - t_heal:.1f} s after the last heal ({bound})")
    if not any(b["member"] == holder and b["start"] <= max(deadline, final["start_ts"]) and b["end"] >= t_end
               for b in beliefs):
        report.violation(3, f"{holder} holds the key but did not believe it led from {bound} to the end")
    for b in beliefs:
        if b["member"] != holder and b["end"] > deadline and b["start"] < t_end:
            report.violation(3, f"{b['member']} believed it led at {b['start'] - t_heal:+.1f}..{b['end'] - t_heal:+.1f} s "
                                f"after the last heal, past {bound}")
    took = max(0.0, final["start_ts"] - t_heal)
    report.note(f"check 3: {holder} leads {took:.1f} s after the last heal (bound {deadline - t_heal:.0f} s) until the end")


def check_writes(meta, history, events, report):
    prefix = f"/service/{meta['scope']}/"
    puts = {}
    for ev in history:
        if ev["type"] != "DELETE":
            puts.setdefault(ev["key"], set()).add(canonical(ev["value"]))
    acked = 0
    for member, lines in events.items():
        for l in lines:
            if l.get("event") == "member_written":
                key, value = prefix + "members/" + member, l.get("data")
            elif l.get("event") == "config_written":
                key, value = prefix + "config", l.get("value")
            else:
                continue
            acked += 1
            if canonical(value) not in puts.get(key, ()):
                report.violation(4, f"{member}'s write of {key} acknowledged at {l['ts']:.3f} is not in etcd's history")
    report.note(f"check 4: {acked} acknowledged member / config writes, all checked against etcd's history")


def count_switchovers(meta, faults, leaderships, report):
    requests = [f for f in faults if f["kind"] == "switchover" and f["action"] == "inject"]
    if not requests:
        return
    window = 2 * meta["ttl"]
    completed = sum(1 for f in requests
                    if any(l["holder"] == f["target"] and f["ts"] <= l["start_ts"] <= f["ts"] + window for l in leaderships))
    report.note(f"switchovers: {len(requests)} requested, {completed} completed (the candidate took the leader key "
                f"within {window} s)")


def check_run(run_dir):
    report = Report()
    meta_path = os.path.join(run_dir, "meta.json")
    if not os.path.exists(meta_path):
        report.violation(0, "no meta.json: the run did not finish")
        return report
    with open(meta_path) as f:
        meta = json.load(f)
    faults = read_jsonl(os.path.join(run_dir, "faults.jsonl"))
    history = read_jsonl(os.path.join(run_dir, "history.jsonl"))
    events = {m: read_jsonl(os.path.join(run_dir, "events", m + ".jsonl")) for m in meta["members"]}
    report.faults = sum(1 for f in faults if f["action"] == "inject")
    if not meta.get("history_complete", False):
        report.violation(0, "the recorded etcd history does not reach the end sentinel")
    for f in faults:
        if f["action"] == "observed":
            report.violation(0, f"{f['target']} exited by itself with status {f.get('code')}")

    beliefs = []
    for member, lines in events.items():
        beliefs += beliefs_of(member, lines, meta["ttl"])
    leaderships = leaderships_of(history, f"/service/{meta['scope']}/leader", report)
    report.elections = len(leaderships)
    check_safety(beliefs, report, early_revocations(history, events, meta))
    report.note(f"check 1: {len(beliefs)} leadership beliefs, none may overlap")
    check_seen(leaderships, events, faults, report)
    check_liveness(meta, leaderships, beliefs, report)
    check_writes(meta, history, events, report)
    count_switchovers(meta, faults, leaderships, report)
    return report


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    report = check_run(argv[1])
    print(report.render())
    return 0 if report.violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Tests of torture_check.py on crafted runs: logs that must pass and logs that must fail.
Run: python3 scripts/lib/torture_check_test.py (also ctest's torture_check_test)."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torture_check  # noqa: E402

LEADER = "/service/torture/leader"
TTL = 6


def line(ts, member, event, **extra):
    d = {"ts": ts, "member": member, "event": event, "role": "primary", "timeline": 1}
    d.update(extra)
    return d


def put(ts, rev, key, value, create=None):
    return {"ts": ts, "rev": rev, "type": "PUT", "key": key, "value": value, "lease": 7,
            "create_revision": create if create is not None else rev}


def delete(ts, rev, key):
    return {"ts": ts, "rev": rev, "type": "DELETE", "key": key, "value": "", "lease": 0, "create_revision": 0}


class Scenario:
    """A healthy baseline: n1 leads from t=100 (revision 10), renewing every second until the
    end at 160; faults healed at 110; n2 follows and writes its member key."""

    def __init__(self):
        self.events = {"n1": [line(99.0, "n1", "process_start")], "n2": [line(99.0, "n2", "process_start")]}
        self.history = [put(100.05, 10, LEADER, "n1")]
        self.faults = [{"ts": 105.0, "kind": "etcd_kill", "target": "m1", "action": "inject"},
                       {"ts": 110.0, "kind": "etcd_kill", "target": "m1", "action": "heal"}]
        self.meta = {"seed": 1, "duration": 60, "scope": "torture", "members": ["n1", "n2"], "ttl": TTL,
                     "loop_wait": 1, "retry_timeout": 2, "slack": 10.0, "t_start": 99.0, "t_heal": 110.0,
                     "t_end": 160.0, "faults": 1, "history_complete": True}
        self.leads("n1", 100.0, 160.0, revision=10)
        data = {"state": "running", "role": "replica"}
        self.events["n2"].append(line(101.0, "n2", "member_written", data=data))
        self.history.append(put(101.01, 11, "/service/torture/members/n2", json.dumps(data)))

    def leads(self, member, start, end, revision, since=None):
        since = start - 0.05 if since is None else since
        self.events[member].append(line(start, member, "race_won", since=since, won_at=start, ttl=TTL))
        self.events[member].append(line(start + 0.01, member, "acquired", since=since, won_at=start, ttl=TTL,
                                        revision=revision))
        t = start + 1
        while t < end:
            self.events[member].append(line(t + 0.01, member, "renewed", since=t, ttl=TTL, revision=revision))
            t += 1

    def write(self, directory):
        os.makedirs(os.path.join(directory, "events"))
        for m, lines in self.events.items():
            with open(os.path.join(directory, "events", m + ".jsonl"), "w") as f:
                f.writelines(json.dumps(x) + "\n" for x in sorted(lines, key=lambda x: x["ts"]))
        with open(os.path.join(directory, "history.jsonl"), "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in self.history)
        with open(os.path.join(directory, "faults.jsonl"), "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in self.faults)
        with open(os.path.join(directory, "meta.json"), "w") as f:
            json.dump(self.meta, f)

    def check(self):
        with tempfile.TemporaryDirectory() as d:
            self.write(d)
            return torture_check.check_run(d)


def cut(events, member, after):
    """Drops the member's lines after `after` (it stopped renewing: frozen or killed)."""
    events[member] = [x for x in events[member] if x["ts"] <= after]


class CheckerTest(unittest.TestCase):
    def assertClean(self, report):
        self.assertEqual(report.violations, 0, report.render())

    def assertViolates(self, report, rule):
        self.assertGreater(report.violations, 0, report.render())
        self.assertIn(f"VIOLATION ({rule})", report.render())

    def test_a_healthy_run_passes_and_ends_with_the_summary_line(self):
        report = Scenario().check()
        self.assertClean(report)
        self.assertEqual(report.render().splitlines()[-1], "faults=1 elections=1 violations=0")

    def test_switchovers_are_counted_and_a_clean_handover_passes(self):
        s = Scenario()
        # n1 hands over to n2 at 120: it releases the key (a demotion line ends its belief) and
        # n2 takes it; a second request, to n3, is never acted on.
        s.faults += [{"ts": 120.0, "kind": "switchover", "target": "n2", "action": "inject", "leader": "n1"},
                     {"ts": 125.0, "kind": "switchover", "target": "n2", "action": "heal"},
                     {"ts": 130.0, "kind": "switchover", "target": "n3", "action": "inject", "leader": "n2"}]
        cut(s.events, "n1", 121.5)
        s.events["n1"].append(line(121.6, "n1", "released"))
        s.history += [delete(121.7, 20, LEADER), put(121.9, 21, LEADER, "n2")]
        s.leads("n2", 121.9, 160.0, revision=21)
        s.meta["t_heal"] = 131.0
        report = s.check()
        self.assertClean(report)
        self.assertIn("switchovers: 2 requested, 1 completed", report.render())
        self.assertEqual(report.render().splitlines()[-1], "faults=3 elections=2 violations=0")

    def test_a_takeover_after_the_old_leases_ttl_passes(self):
        s = Scenario()
        cut(s.events, "n1", 120.5)  # last renewal started at 120: lease safe until 126
        s.history += [delete(126.3, 20, LEADER), put(126.4, 21, LEADER, "n2")]
        s.leads("n2", 126.4, 160.0, revision=21)
        s.meta["t_heal"] = 121.0
        s.faults.append({"ts": 120.6, "kind": "clock_pause", "target": "n1", "action": "inject"})
        report = s.check()
        self.assertClean(report)
        self.assertEqual(report.elections, 2)

    def test_overlapping_beliefs_fail_without_slack(self):
        s = Scenario()
        cut(s.events, "n1", 120.5)  # believes until 126 at least
        s.history += [delete(125.8, 20, LEADER), put(125.9, 21, LEADER, "n2")]
        s.leads("n2", 125.95, 160.0, revision=21)  # 0.05 s before n1's bound
        report = s.check()
        self.assertViolates(report, 1)

    def test_a_demotion_line_ends_the_belief_before_the_ttl(self):
        s = Scenario()
        cut(s.events, "n1", 120.5)
        s.events["n1"].append(line(121.0, "n1", "renewed_failed", role="replica"))
        s.history += [delete(121.2, 20, LEADER), put(121.3, 21, LEADER, "n2")]
        s.leads("n2", 121.3, 160.0, revision=21)
        self.assertClean(s.check())

    def test_a_renewal_counts_from_the_start_of_its_call(self):
        s = Scenario()
        cut(s.events, "n1", 119.5)
        # The call started at 119.9 but answered at 121.5: the lease is only safe until 125.9.
        s.events["n1"].append(line(121.5, "n1", "renewed", since=119.9, ttl=TTL, revision=10))
        s.history += [delete(126.0, 20, LEADER), put(126.1, 21, LEADER, "n2")]
        s.leads("n2", 126.1, 160.0, revision=21)
        s.faults.append({"ts": 121.6, "kind": "clock_pause", "target": "n1", "action": "inject"})
        self.assertClean(s.check())
        s.leads("n2", 125.8, 126.0, revision=21)  # a belief inside the bound fails
        self.assertViolates(s.check(), 1)

    def test_a_restarted_process_ends_the_old_belief_at_its_lease_bound(self):
        s = Scenario()
        cut(s.events, "n1", 120.5)
        s.events["n1"].append(line(121.0, "n1", "process_start"))
        s.history += [delete(126.3, 20, LEADER), put(126.4, 21, LEADER, "n2")]
        s.leads("n2", 126.4, 160.0, revision=21)
        s.faults.append({"ts": 120.9, "kind": "daemon_kill", "target": "n1", "action": "inject"})
        self.assertClean(s.check())

    def test_a_leadership_its_holder_never_saw_fails(self):
        s = Scenario()
        s.history += [delete(130.0, 20, LEADER), put(131.0, 21, LEADER, "n2"), delete(138.0, 22, LEADER),
                      put(138.1, 23, LEADER, "n1", create=23)]
        cut(s.events, "n1", 129.0)
        s.leads("n1", 138.1, 160.0, revision=23)
        report = s.check()
        self.assertViolates(report, 2)

    def test_an_unseen_leadership_of_a_killed_holder_is_excused(self):
        s = Scenario()
        s.history += [delete(130.0, 20, LEADER), put(131.0, 21, LEADER, "n2"), delete(138.0, 22, LEADER),
                      put(138.1, 23, LEADER, "n1", create=23)]
        cut(s.events, "n1", 129.0)
        s.leads("n1", 138.1, 160.0, revision=23)
        s.faults.append({"ts": 131.05, "kind": "daemon_kill", "target": "n2", "action": "inject"})
        s.meta["t_heal"] = 138.2
        report = s.check()
        self.assertClean(report)
        self.assertIn("1 excused", report.render())

    def test_a_race_with_an_unknown_outcome_explains_a_leadership(self):
        s = Scenario()
        s.history += [delete(130.0, 20, LEADER), put(131.0, 21, LEADER, "n2"), delete(138.0, 22, LEADER),
                      put(138.1, 23, LEADER, "n1", create=23)]
        cut(s.events, "n1", 129.0)
        s.leads("n1", 138.1, 160.0, revision=23)
        s.events["n2"].append(line(132.0, "n2", "race_error", since=130.9, role="replica"))
        s.meta["t_heal"] = 138.2
        self.assertClean(s.check())

    def test_an_overwritten_leader_key_fails(self):
        s = Scenario()
        s.history.append(put(130.0, 20, LEADER, "n2", create=10))
        self.assertViolates(s.check(), 2)

    def test_no_leader_after_the_last_heal_fails(self):
        s = Scenario()
        cut(s.events, "n1", 120.5)
        s.history.append(delete(126.2, 20, LEADER))
        s.faults.append({"ts": 120.6, "kind": "daemon_kill", "target": "n1", "action": "inject"})
        self.assertViolates(s.check(), 3)

    def test_a_leader_elected_after_ttl_plus_loop_wait_plus_slack_fails(self):
        s = Scenario()
        cut(s.events, "n1", 109.5)
        s.history += [delete(115.3, 20, LEADER), put(128.0, 21, LEADER, "n2")]  # heal 110, bound 127
        s.leads("n2", 128.0, 160.0, revision=21)
        s.faults.append({"ts": 109.6, "kind": "daemon_kill", "target": "n1", "action": "inject"})
        self.assertViolates(s.check(), 3)
        s.history[-1]["ts"] = 126.0  # within the bound
        s.events["n2"] = [x for x in s.events["n2"] if x["event"] not in ("race_won", "acquired", "renewed")]
        s.leads("n2", 126.0, 160.0, revision=21)
        self.assertClean(s.check())

    def test_a_second_election_after_the_bound_fails(self):
        s = Scenario()
        cut(s.events, "n1", 140.5)
        s.events["n1"].append(line(141.0, "n1", "released", role="replica"))
        s.history += [delete(141.1, 20, LEADER), put(141.2, 21, LEADER, "n2")]
        s.leads("n2", 141.2, 160.0, revision=21)
        self.assertViolates(s.check(), 3)

    def early_revocation(self, with_member_key=True, last_renewal=120.5):
        """n1 renews until `last_renewal`; at 121.0 etcd drops its lease; n2 takes over at 121.2."""
        s = Scenario()
        cut(s.events, "n1", last_renewal)
        s.history.append(delete(121.0, 20, LEADER))
        if with_member_key:
            s.history.append(delete(121.0, 20, "/service/torture/members/n1"))
        s.history.append(put(121.15, 21, LEADER, "n2"))
        s.leads("n2", 121.2, 160.0, revision=21)
        return s

    def test_a_lease_etcd_provably_dropped_early_is_reported_apart_from_violations(self):
        # etcd-io/etcd#15247: a thawed stale etcd leader revokes a lease the new leader renewed.
        report = self.early_revocation().check()
        self.assertClean(report)
        self.assertEqual(report.etcd_early_revocations, 1)
        self.assertIn("etcd_early_revocations=1", report.render())
        self.assertTrue(report.render().splitlines()[-1].startswith("faults="))

    def test_without_proof_of_an_early_lease_expiry_the_overlap_stays_a_violation(self):
        # Only the leader key went: a delete, not a lease expiry.
        self.assertViolates(self.early_revocation(with_member_key=False).check(), 1)
        # The last renewal answered before the delete is more than a ttl old.
        s = self.early_revocation(last_renewal=110.5)
        s.events["n1"].append(line(121.1, "n1", "renewed", since=120.9, ttl=TTL, revision=10))
        self.assertViolates(s.check(), 1)

    def test_a_lost_member_write_fails(self):
        s = Scenario()
        s.events["n2"].append(line(102.0, "n2", "member_written", data={"state": "running", "xlog_location": 5}))
        self.assertViolates(s.check(), 4)

    def test_a_config_write_is_found_by_its_json_value(self):
        s = Scenario()
        s.events["n1"].append(line(100.5, "n1", "config_written", value={"ttl": 6, "loop_wait": 1}))
        s.history.append(put(100.6, 12, "/service/torture/config", '{"loop_wait":1,"ttl":6}'))
        self.assertClean(s.check())
        s.history.pop()
        self.assertViolates(s.check(), 4)

    def test_an_incomplete_history_or_a_crash_fails(self):
        s = Scenario()
        s.meta["history_complete"] = False
        self.assertViolates(s.check(), 0)
        s = Scenario()
        s.faults.append({"ts": 130.0, "kind": "daemon_exit", "target": "n2", "action": "observed", "code": 2})
        self.assertViolates(s.check(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=1)

#!/usr/bin/python3
"""Drives real Patroni 3.0.2's etcd v3 DCS class for libdcs's interoperability tests.

Usage: patroni_peer.py COMMAND < request.json > answer.json

Commands (the request and the answer are JSON documents):

  version        no request; answers {"patroni": "3.0.2", "python": "3.11.2"}.

  write-state    request {"config": CONFIG, "state": STATE}, or a list of those (run in order, e.g.
                 one per Citus group). Every member of STATE gets an Etcd3 object of its own (own
                 lease, own watcher), and the leader goes through the steps Patroni's HA loop takes
                 when it bootstraps a cluster. Answers {"jobs": [{"ops": [...], "leases": {...},
                 "cluster": DUMP}]}: each step's result, every member's lease id and the cluster
                 as the leader's own (watcher-cached) view sees it afterwards.

  dump-cluster   request {"config": CONFIG, "patronictl": true}; reads the cluster with get_cluster
                 (a Citus coordinator also reads every worker group) and answers DUMP. With
                 "patronictl" true (the default) the read goes straight to etcd, as patronictl's
                 does; false builds the watcher cache first, as a running Patroni does.

CONFIG is a Patroni 3.0.2 configuration: top-level scope, namespace, name, ttl, loop_wait,
retry_timeout, optional citus {group, database} and an etcd3 section ({"hosts": ...}). As
patroni.dcs.get_dcs does, the top-level settings and the citus section are copied into the etcd3
section before it is handed to Etcd3.

STATE: {"initialize": sysid, "config": {...}, "leader": name,
        "members": [{"name": ..., "data": {...}}, ...], "last_lsn": int, "slots": {...},
        "failsafe": {...}, "sync": {"leader": ..., "sync_standby": [...]},
        "history": [[...], ...], "failover": {"leader": ..., "member": ..., "scheduled_at": iso}}
Every part is optional; "leader" must name one of "members".

DUMP: every field of Patroni's Cluster as JSON: versions and sessions exactly as Patroni keeps
them (mod_revision and lease id strings), failover.scheduled_at rendered back with isoformat(),
plus the derived timeline and min_version, and "workers": {"<group>": DUMP} for a coordinator.

Patroni logs to stderr (warnings and above unless PATRONI_PEER_LOGLEVEL says otherwise). The
process leaves with os._exit once the answer is flushed: Patroni's watcher and DNS threads are
daemons blocked in network calls, and waiting for the interpreter to tear them down only costs
time. SIGALRM after PATRONI_PEER_TIMEOUT seconds (default 60) ends a peer that Patroni keeps
"waiting on etcd" forever.
"""

import copy
import json
import logging
import os
import signal
import sys
import time
import traceback

# What patroni.dcs.get_dcs copies from the top level of the configuration into the DCS section.
_PROPAGATED = ('namespace', 'name', 'scope', 'loop_wait', 'patronictl', 'ttl', 'retry_timeout')


def dcs_section(config, name=None, patronictl=None):
    """The dict Patroni 3.0.2 would hand to Etcd3: the etcd3 section plus the global settings."""
    section = copy.deepcopy(config.get('etcd3') or {})
    for key in _PROPAGATED:
        if key in config:
            section[key] = copy.deepcopy(config[key])
    if isinstance(config.get('citus'), dict):
        section.update(copy.deepcopy(config['citus']))
    if name is not None:
        section['name'] = name
    if patronictl is not None:
        section['patronictl'] = patronictl
    return section


def compact(value):
    """How Patroni's HA loop serialises config and history before handing them to the DCS."""
    return json.dumps(value, separators=(',', ':'))


def dump_member(member):
    return {'name': member.name, 'version': member.index, 'session': member.session, 'data': member.data}


def unless_none(value, render):
    # An explicit None check: an empty Failover is falsy (its length counts leader and candidate).
    return None if value is None else render(value)


def dump_cluster(cluster):
    out = {'initialize': cluster.initialize}
    out['config'] = unless_none(cluster.config, lambda c: {
        'version': c.index, 'data': c.data, 'modify_version': c.modify_index})
    out['leader'] = unless_none(cluster.leader, lambda leader: {
        'name': leader.name, 'version': leader.index, 'session': leader.session,
        'member': dump_member(leader.member)})
    out['members'] = [dump_member(m) for m in cluster.members]
    out['failover'] = unless_none(cluster.failover, lambda f: {
        'version': f.index, 'leader': f.leader, 'member': f.candidate,
        'scheduled_at': f.scheduled_at and f.scheduled_at.isoformat()})
    out['sync'] = unless_none(cluster.sync, lambda s: {
        'version': s.index, 'leader': s.leader, 'sync_standby': s.sync_standby, 'members': s.members})
    out['history'] = unless_none(cluster.history, lambda h: {
        'version': h.index, 'value': h.value, 'lines': h.lines})
    out['last_lsn'] = cluster.last_lsn
    out['slots'] = cluster.slots
    out['failsafe'] = cluster.failsafe
    out['timeline'] = cluster.timeline
    min_version = cluster.min_version
    out['min_version'] = list(min_version) if min_version else None
    out['workers'] = {str(group): dump_cluster(worker) for group, worker in sorted(cluster.workers.items())}
    return out


def make_etcd3(config, name=None, patronictl=None):
    from patroni.dcs.etcd3 import Etcd3
    return Etcd3(dcs_section(config, name, patronictl))


def wait_for_members(dcs, names, bound=10.0):
    """get_cluster until the watcher cache shows every member in `names` (the other members'
    keys reach it through watch events, asynchronously)."""
    deadline = time.time() + bound
    while True:
        cluster = dcs.get_cluster()
        if all(cluster.has_member(n) for n in names) or time.time() > deadline:
            return cluster
        time.sleep(0.05)


def write_state(job):
    import dateutil.parser

    config, state = job['config'], job.get('state') or {}
    members = state.get('members') or []
    leader_name = state.get('leader') or (members[0]['name'] if members else config['name'])
    names = [m['name'] for m in members] or [leader_name]

    # One Etcd3 per member: its own lease, as separate Patroni processes would have.
    dcs = {name: make_etcd3(config, name, False) for name in names}
    leader = dcs[leader_name]
    ops = []

    def record(op, member, result):
        ops.append({'op': op, 'member': member, 'result': bool(result)})

    leader.get_cluster()
    # The bootstrap race writes an empty initialize key; the system id follows once initdb ran.
    record('initialize', leader_name, leader.initialize(create_new=True, sysid=''))
    if state.get('initialize'):
        record('initialize_sysid', leader_name, leader.initialize(create_new=False, sysid=state['initialize']))
    if 'config' in state:
        record('set_config_value', leader_name, leader.set_config_value(compact(state['config'])))
    record('attempt_to_acquire_leader', leader_name, leader.attempt_to_acquire_leader())
    for member in members:
        record('touch_member', member['name'], dcs[member['name']].touch_member(member['data']))

    # As the HA loop does before update_lock: the cached view then holds our own leader key (so
    # _update_leader only sends a keepalive) and every member (write_status looks at min_version).
    wait_for_members(leader, names)
    if state.get('last_lsn') is not None or state.get('failsafe') is not None:
        record('update_leader', leader_name,
               leader.update_leader(state.get('last_lsn'), state.get('slots'), state.get('failsafe')))
    if 'sync' in state:
        sync = state['sync']
        record('write_sync_state', leader_name, leader.write_sync_state(sync.get('leader'), sync.get('sync_standby')))
    if 'history' in state:
        record('set_history_value', leader_name, leader.set_history_value(compact(state['history'])))
    if 'failover' in state:
        failover = state['failover']
        scheduled_at = failover.get('scheduled_at')
        scheduled_at = scheduled_at and dateutil.parser.parse(scheduled_at)
        record('manual_failover', leader_name,
               leader.manual_failover(failover.get('leader'), failover.get('member'), scheduled_at))

    leases = {name: d._lease for name, d in dcs.items()}
    return {'ops': ops, 'leases': leases, 'cluster': dump_cluster(wait_for_members(leader, names))}


def cmd_version(_request):
    from patroni.version import __version__
    return {'patroni': __version__, 'python': '.'.join(map(str, sys.version_info[:3]))}


def cmd_write_state(request):
    jobs = request if isinstance(request, list) else [request]
    return {'jobs': [write_state(job) for job in jobs]}


def cmd_dump_cluster(request):
    patronictl = request.get('patronictl', True)
    dcs = make_etcd3(request['config'], patronictl=patronictl)
    return dump_cluster(dcs.get_cluster())


COMMANDS = {'version': cmd_version, 'write-state': cmd_write_state, 'dump-cluster': cmd_dump_cluster}


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        sys.stderr.write('usage: {0} {{{1}}} < request.json\n'.format(argv[0], ','.join(sorted(COMMANDS))))
        return 2
    signal.alarm(int(os.environ.get('PATRONI_PEER_TIMEOUT', '60')))
    logging.basicConfig(stream=sys.stderr, level=os.environ.get('PATRONI_PEER_LOGLEVEL', 'WARNING'),
                        format='patroni_peer %(levelname)s %(name)s: %(message)s')
    try:
        text = sys.stdin.read() if argv[1] != 'version' else ''
        answer = COMMANDS[argv[1]](json.loads(text) if text.strip() else {})
        sys.stdout.write(json.dumps(answer))
        sys.stdout.write('\n')
        return 0
    except Exception:
        traceback.print_exc()
        return 1


if __name__ == '__main__':
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

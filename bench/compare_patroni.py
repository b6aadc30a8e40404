#!/usr/bin/python3
"""Patroni 3.0.2's side of bench/compare.sh: drives Debian's patroni.dcs.etcd3.Etcd3 (the DCS layer
a Patroni daemon uses) through the same operations dcs_bench times for libdcs, against the same etcd,
and prints one JSON object (also written to --out).

  compare_patroni.py ops      --hosts URL [--scale F] [--tcp nodelay|shipped]
  compare_patroni.py hacycle  --hosts URL [--cycles N]          (run in a fresh process: CPU + memory)
  compare_patroni.py watch    --hosts URL [--changes N] [--members 3,100]
  compare_patroni.py failover --hosts URL,URL,URL --cluster-dir DIR [--modes kill,stop] [--rounds N]
                              [--targets follower,leader]

Every section uses Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10, namespace /service/)
and a scope of its own (removed afterwards).

TCP: Patroni 3.0.2's Etcd3.set_socket_options() replaces urllib3's socket options, TCP_NODELAY
included, with keepalive settings; http.client writes a request's head and body separately, so every
request with a body waits for etcd's delayed ACK (about 40 ms on Linux). `--tcp nodelay` (the default
here) wraps that method in this process only so that TCP_NODELAY is set as well: what is then measured
is Patroni's own code, not the Nagle stall. `--tcp shipped` measures the package unchanged.

Must run under Debian's /usr/bin/python3 (where the patroni package lives).
"""
import argparse
import base64
import http.client
import json
import logging
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

NAMESPACE = '/service/'
HERE = os.path.dirname(os.path.abspath(__file__))


# --- measuring helpers -----------------------------------------------------------------------------

def now_ns():
    return time.monotonic_ns()  # CLOCK_MONOTONIC: comparable across processes (the watch writer)


def summary(samples_us, failures=0):
    """n / min / median / p99 (nearest rank) / max, as dcs_bench reports them."""
    v = sorted(samples_us)
    if not v:
        return {'n': 0, 'failures': failures}
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    p99 = v[max(1, -(-99 * n // 100)) - 1]
    return {'n': n, 'min_us': v[0], 'median_us': median, 'p99_us': p99, 'max_us': v[-1], 'failures': failures}


def timed(fn, n, before=None, warmup=10):
    """Times fn() n times (after `warmup` untimed calls); before() runs untimed ahead of each call.
    A call that returns something false or raises counts as a failure."""
    samples, failures = [], 0
    for i in range(-warmup, n):
        if before:
            before()
        t0 = now_ns()
        try:
            ok = fn()
        except Exception:
            ok = False
        t1 = now_ns()
        if i >= 0:
            samples.append((t1 - t0) / 1000.0)
            failures += not ok
    return summary(samples, failures)


def proc_status():
    out = {}
    with open('/proc/self/status') as f:
        for line in f:
            key, _, rest = line.partition(':')
            if key in ('VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'VmHWM', 'Threads'):
                out[key + ('' if key == 'Threads' else '_kB')] = int(rest.split()[0])
    return out


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process (the KVCache's too)
    return ru.ru_utime, ru.ru_stime


# --- a small etcd admin client (set-up only, never timed) --------------------------------------------

def b64(s):
    return base64.b64encode(s.encode()).decode()


class Admin(object):
    def __init__(self, url):
        u = urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def call(self, path, body):
        payload = json.dumps(body)
        for attempt in (1, 2):
            try:
                self.conn.request('POST', path, body=payload, headers={'Content-Type': 'application/json'})
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                if attempt == 2:
                    raise
        if resp.status != 200:
            raise RuntimeError('etcd {} answered {}: {}'.format(path, resp.status, data[:200]))
        return json.loads(data)

    def put(self, key, value, lease=None):
        body = {'key': b64(key), 'value': b64(value)}
        if lease:
            body['lease'] = lease
        return self.call('/v3/kv/put', body)

    def remove(self, key):
        self.call('/v3/kv/deleterange', {'key': b64(key)})

    def remove_prefix(self, prefix):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        self.call('/v3/kv/deleterange', {'key': b64(prefix), 'range_end': b64(end)})

    def lease_grant(self, ttl):
        return int(self.call('/v3/lease/grant', {'TTL': ttl})['ID'])


def member_data(i, role, lsn):
    """The member value a Patroni 3.0.2 member writes (the same fields dcs_bench uses)."""
    return {'conn_url': 'postgres://127.0.0.1:{}/postgres'.format(5432 + i),
            'api_url': 'http://127.0.0.1:{}/patroni'.format(8008 + i), 'state': 'running', 'role': role,
            'version': '3.0.2', 'xlog_location': lsn, 'timeline': 1}


def compact(obj):
    return json.dumps(obj, separators=(',', ':'))


DYNAMIC_CONFIG = {'ttl': 30, 'loop_wait': 10, 'retry_timeout': 10, 'maximum_lag_on_failover': 1048576,
                  'synchronous_mode': True, 'failsafe_mode': True,
                  'postgresql': {'use_pg_rewind': True, 'use_slots': True,
                                 'parameters': {'max_connections': 100, 'wal_level': 'replica',
                                                'hot_standby': 'on', 'max_wal_senders': 10,
                                                'max_replication_slots': 10, 'wal_log_hints': 'on'}}}


def populate(admin, scope, members, lease):
    """A cluster of `members` members with every key a running Patroni cluster has (as dcs_bench's
    EtcdAdmin::populate_cluster writes it). Returns the member names; the first one leads."""
    p = NAMESPACE + scope + '/'
    admin.remove_prefix(p)
    names = [('node{}' if members <= 9 else 'node{:04d}').format(i) for i in range(1, members + 1)]
    admin.put(p + 'initialize', '7234567890123456789')
    admin.put(p + 'config', compact(DYNAMIC_CONFIG))
    for i, name in enumerate(names, 1):
        admin.put(p + 'members/' + name, compact(member_data(i, 'master' if i == 1 else 'replica', 67108960)), lease)
    admin.put(p + 'leader', names[0], lease)
    admin.put(p + 'status', '{"optime":67108960,"slots":{"node2":67108960}}')
    admin.put(p + 'sync', compact({'leader': names[0], 'sync_standby': names[1] if members > 1 else None}))
    admin.put(p + 'history', compact([[1, 25165984, 'no recovery target specified',
                                       '2024-05-01T10:00:00.123456+00:00', names[0]]]))
    admin.put(p + 'failsafe', compact({n: 'http://127.0.0.1:{}/patroni'.format(8009 + i)
                                       for i, n in enumerate(names[:3])}))
    return names


# --- Patroni -----------------------------------------------------------------------------------------

def use_tcp_mode(mode):
    """See the module docstring: 'nodelay' adds TCP_NODELAY to the sockets Patroni configures."""
    from patroni.dcs.etcd3 import Etcd3
    if mode != 'nodelay' or getattr(Etcd3, '_compare_nodelay', False):
        return
    keepalive_only = Etcd3.set_socket_options

    def with_nodelay(self, sock, socket_options):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        keepalive_only(self, sock, socket_options)
    Etcd3.set_socket_options = with_nodelay
    Etcd3._compare_nodelay = True


def make_etcd3(hosts, scope, name, ctl=False):
    """Etcd3 built from the config dict Patroni's get_dcs() would hand it (etcd3 section plus the
    propagated top-level keys). `hosts` are URLs; Patroni wants host:port."""
    from patroni.dcs.etcd3 import Etcd3
    cfg = {'hosts': [urlparse(h).netloc for h in hosts], 'scope': scope, 'name': name, 'namespace': NAMESPACE,
           'ttl': 30, 'loop_wait': 10, 'retry_timeout': 10}
    if ctl:
        cfg['patronictl'] = True
    dcs = Etcd3(cfg)
    if not ctl:
        dcs.get_cluster()  # waits for the KVCache's first list
    return dcs


def scope_name(what):
    return 'compare-pat-{}-{}'.format(what, os.getpid())


# --- sections ----------------------------------------------------------------------------------------

def section_ops(args):
    host = args.hosts[0]
    admin = Admin(host)
    n = lambda base: max(5, int(base * args.scale))  # noqa: E731
    out = {'ops': {}, 'getcluster': {}, 'cached': {}}

    # Direct reads, as patronictl does them (no cache: one range over the cluster prefix).
    lease = admin.lease_grant(3600)
    for members, base in ((3, 2000), (100, 500), (1000, 100)):
        scope = scope_name('gc{}'.format(members))
        populate(admin, scope, members, lease)
        ctl = make_etcd3([host], scope, 'compare-ctl', ctl=True)
        want = members
        out['getcluster'][str(members)] = timed(lambda: len(ctl.get_cluster().members) == want, n(base))
        # The same cluster read from a member's KVCache (what Patroni's HA loop calls).
        member = make_etcd3([host], scope, 'compare-replica')
        out['cached'][str(members)] = timed(lambda: len(member.get_cluster().members) == want,
                                            n({3: 2000, 100: 500, 1000: 60}[members]))
        admin.remove_prefix(NAMESPACE + scope + '/')

    scope = scope_name('ops')
    prefix = NAMESPACE + scope + '/'
    admin.remove_prefix(prefix)
    dcs = make_etcd3([host], scope, 'node1')
    lsn = [100000000]

    def next_lsn():
        lsn[0] += 1024
        return lsn[0]
    data = {}

    def new_data():
        data['d'] = member_data(1, 'master', next_lsn())
    ops = out['ops']
    count = n(1000)
    ops['touch_member_changed'] = timed(lambda: dcs.touch_member(data['d']), count, before=new_data)
    same = member_data(1, 'master', next_lsn())
    dcs.touch_member(same)
    dcs.get_cluster()
    ops['touch_member_unchanged'] = timed(lambda: dcs.touch_member(same), count)
    ops['attempt_to_acquire_leader'] = timed(dcs.attempt_to_acquire_leader, count,
                                             before=lambda: admin.remove(prefix + 'leader'))
    dcs.get_cluster()  # the view update_leader compares the leader key's lease with
    ops['update_leader'] = timed(lambda: dcs.update_leader(None), count)
    ops['update_leader_status'] = timed(lambda: dcs.update_leader(next_lsn()), count)

    def cycle():
        dcs.get_cluster()
        touched = dcs.touch_member(data['d'])
        return dcs.update_leader(data['d']['xlog_location']) and touched
    ops['ha_cycle'] = timed(cycle, count, before=new_data)
    admin.remove_prefix(prefix)
    return out


def section_hacycle(args):
    """CPU per busy HA cycle and the memory of a process that ran them; meant for a fresh process
    (nothing else measured before it)."""
    at_start = proc_status()  # interpreter + Patroni's modules imported, nothing constructed
    host = args.hosts[0]
    admin = Admin(host)
    scope = scope_name('ha')
    prefix = NAMESPACE + scope + '/'
    admin.remove_prefix(prefix)
    dcs = make_etcd3([host], scope, 'node1')
    lsn = 300000000
    dcs.touch_member(member_data(1, 'master', lsn))
    if not dcs.attempt_to_acquire_leader():
        raise RuntimeError('hacycle: cannot take the leader key')
    after_construct = proc_status()

    def cycle(lsn):
        dcs.get_cluster()
        touched = dcs.touch_member(member_data(1, 'master', lsn))
        return dcs.update_leader(lsn) and touched
    for _ in range(20):
        lsn += 1024
        cycle(lsn)
    walls, failures = [], 0
    u0, s0 = cpu_seconds()
    for _ in range(args.cycles):
        lsn += 1024
        t0 = now_ns()
        failures += not cycle(lsn)
        walls.append((now_ns() - t0) / 1000.0)
    u1, s1 = cpu_seconds()
    after = proc_status()
    admin.remove_prefix(prefix)
    per = 1e6 / args.cycles
    return {'cycles': args.cycles, 'cpu_us_per_cycle': (u1 - u0 + s1 - s0) * per, 'cpu_user_us_per_cycle': (u1 - u0) * per,
            'cpu_sys_us_per_cycle': (s1 - s0) * per, 'wall': summary(walls), 'failures': failures,
            'memory': {'at_start': at_start, 'after_construct': after_construct, 'after_cycles': after}}


def section_watch(args):
    """put by another process (own connection, random 10-30 ms gaps) -> Patroni's watch() returns,
    with the HA thread looping on watch(None, 0.5) as a replica's HA loop waits between cycles."""
    host = args.hosts[0]
    admin = Admin(host)
    lease = admin.lease_grant(3600)
    out = {}
    for members in args.members:
        scope = scope_name('w{}'.format(members))
        prefix = NAMESPACE + scope + '/'
        populate(admin, scope, members, lease)
        dcs = make_etcd3([host], scope, 'compare-replica')
        kv = dcs._client._kv_cache  # read the leader value without rebuilding a Cluster per wake-up
        leader_key = b64(prefix + 'leader')
        log_path = '/tmp/compare-watch-writer-{}-{}.json'.format(os.getpid(), members)
        writer = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'watch-writer', '--hosts', host,
                                   '--key', prefix + 'leader', '--changes', str(args.changes), '--out', log_path],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == 'READY'
        writer.stdin.write('GO\n')
        writer.stdin.flush()
        first_seen = {}
        returns = 0
        while True:
            woke = dcs.watch(None, 0.5)
            t = now_ns()
            if woke:
                returns += 1
                node = kv.get(leader_key)
                value = base64.b64decode(node['value']).decode() if node and node.get('value') else ''
                first_seen.setdefault(value, t)
            if writer.poll() is not None:
                break
        # A last half-second for a wake-up still on its way.
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            if dcs.watch(None, 0.1):
                node = kv.get(leader_key)
                if node and node.get('value'):
                    first_seen.setdefault(base64.b64decode(node['value']).decode(), now_ns())
        writer.wait()
        with open(log_path) as f:
            log = json.load(f)
        os.unlink(log_path)
        sent, acked, missed = [], [], 0
        for value, t_sent, t_acked in log:
            t = first_seen.get(value)
            if t is None:
                missed += 1
                continue
            sent.append((t - t_sent) / 1000.0)
            acked.append((t - t_acked) / 1000.0)
        out[str(members)] = {'changes': len(log), 'changes_not_seen': missed, 'watch_returns': returns,
                             'since_put_sent': summary(sent), 'since_put_ack': summary(acked)}
        admin.remove_prefix(prefix)
    return {'watch': out}


def watch_writer(args):
    admin = Admin(args.hosts[0])
    admin.put(args.key, 'start')
    rnd = random.Random(42)
    print('READY', flush=True)
    sys.stdin.readline()
    log = []
    for i in range(args.changes):
        time.sleep(rnd.uniform(0.010, 0.030))
        value = 'w{}'.format(i)
        t0 = now_ns()
        admin.put(args.key, value)
        log.append((value, t0, now_ns()))
    with open(args.out, 'w') as f:  # a file, not the pipe: a long log would fill it
        json.dump(log, f)


def member_status(url):
    """(member id, raft leader id) of one etcd member, or None when it does not answer."""
    try:
        return Admin(url).call('/v3/maintenance/status', {})
    except Exception:
        return None


def quietly(fn, *args):
    """fn(*args), with an exception (Patroni raises Etcd3Error once its retries are spent) as False."""
    try:
        return fn(*args)
    except Exception:
        return False


def raft_roles(hosts):
    """{member index (1-based): 'leader' | 'follower'} of the members that answer."""
    roles = {}
    for i, h in enumerate(hosts, 1):
        st = member_status(h)
        if st and st.get('leader'):
            roles[i] = 'leader' if st['leader'] == dig_member_id(st) else 'follower'
    return roles


def dig_member_id(status):
    return (status.get('header') or {}).get('member_id')


def section_failover(args):
    """SIGKILL / SIGSTOP of the etcd member Patroni's client talks to -> the first update_leader
    (lease keepalive) that succeeds, with Patroni's own retry (retry_timeout 10 s) and endpoint
    switching; the member is healed (restarted / SIGCONT) between rounds. Before each round the
    client is pointed at a member of the wanted raft role (follower / leader) with the client's own
    set_base_uri(), as failover_bench --target does for libdcs; 'in-use' leaves it where it is."""
    launcher = os.path.join(HERE, 'lib', 'etcd3node.sh')
    admin = Admin(args.hosts[0])
    scope = scope_name('fo')
    prefix = NAMESPACE + scope + '/'
    admin.remove_prefix(prefix)
    dcs = make_etcd3(args.hosts, scope, 'node1')
    dcs.touch_member(member_data(1, 'master', 1))
    if not dcs.attempt_to_acquire_leader():
        raise RuntimeError('failover: cannot take the leader key')
    ports = {urlparse(h).port: i for i, h in enumerate(args.hosts, 1)}
    rnd = random.Random(args.seed)
    out = {}
    for mode in args.modes:
        rows = []
        for _ in range(args.rounds):
            for target in args.targets:
                roles = raft_roles(args.hosts)
                if target != 'in-use':
                    wanted = [i for i, r in sorted(roles.items()) if r == target]
                    current = ports[urlparse(dcs._client._base_uri).port]
                    if wanted and current not in wanted:
                        port = urlparse(args.hosts[rnd.choice(wanted) - 1]).port
                        uri = next((u for u in dcs._client._machines_cache if urlparse(u).port == port), None)
                        if uri:
                            dcs._client.set_base_uri(uri)
                # Settle: keepalives every 50 ms for a second on the member in use (the KVCache's
                # stream, broken by the last round, may still move the client while it reconnects).
                for _ in range(20):
                    quietly(dcs.update_leader, None)
                    time.sleep(0.05)
                dcs.get_cluster()  # a fresh view: update_leader then needs the keepalive only
                pids = {i: int(subprocess.check_output([launcher, 'pid', args.cluster_dir, str(i)], text=True))
                        for i in ports.values()}
                time.sleep(rnd.uniform(0, 0.05))
                member = ports[urlparse(dcs._client._base_uri).port]  # read last: right before the signal
                role, pid = roles.get(member, '?'), pids[member]
                t0 = now_ns()
                os.kill(pid, signal.SIGKILL if mode == 'kill' else signal.SIGSTOP)
                ok = False
                while (now_ns() - t0) < 60e9:
                    if quietly(dcs.update_leader, None):
                        ok = True
                        break
                ms = (now_ns() - t0) / 1e6
                after = ports.get(urlparse(dcs._client._base_uri).port)
                rows.append({'ms': ms, 'ok': ok, 'member': member, 'role': role, 'target': target,
                             'recovered_on': after})
                print('failover {} member {} ({}): {:.1f} ms{}, then on member {}'.format(
                    mode, member, role, ms, '' if ok else ' FAILED', after), file=sys.stderr, flush=True)
                if mode == 'kill':
                    subprocess.check_call([launcher, 'restart', args.cluster_dir, str(member)])
                else:
                    os.kill(pid, signal.SIGCONT)
                subprocess.check_call([launcher, 'wait', args.cluster_dir])
        ok_ms = [r['ms'] * 1000.0 for r in rows if r['ok']]
        out[mode] = {'rounds': rows, 'summary_us': summary(ok_ms, sum(not r['ok'] for r in rows))}
    try:
        admin.remove_prefix(prefix)
    except Exception:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('section', choices=['ops', 'hacycle', 'watch', 'watch-writer', 'failover'])
    ap.add_argument('--hosts', required=True, help='etcd URLs, comma separated')
    ap.add_argument('--tcp', choices=['nodelay', 'shipped'], default='nodelay')
    ap.add_argument('--scale', type=float, default=1.0, help='ops: iteration counts x F')
    ap.add_argument('--cycles', type=int, default=1000, help='hacycle: busy HA cycles')
    ap.add_argument('--changes', type=int, default=1000, help='watch: leader-key changes per size')
    ap.add_argument('--members', default='3', help='watch: cluster sizes, comma separated')
    ap.add_argument('--key', help='watch-writer: the key to change')
    ap.add_argument('--cluster-dir', help='failover: the bench/lib/etcd3node.sh directory')
    ap.add_argument('--modes', default='kill,stop', help='failover: kill, stop or both')
    ap.add_argument('--rounds', type=int, default=5, help='failover: rounds per mode and target')
    ap.add_argument('--targets', default='follower,leader',
                    help='failover: raft role of the member signalled: follower, leader, in-use (comma list)')
    ap.add_argument('--seed', type=int, default=1, help='failover: seed of the signal timing')
    ap.add_argument('--out', help='also write the JSON here')
    args = ap.parse_args()
    args.hosts = args.hosts.split(',')
    args.members = [int(m) for m in args.members.split(',')]
    args.modes = args.modes.split(',')
    args.targets = args.targets.split(',')
    if args.section == 'watch-writer':
        return watch_writer(args)
    # Patroni's own warnings (a failed request during failover, ...) go to stderr.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format='%(asctime)s patroni %(levelname)s: %(message)s')
    use_tcp_mode(args.tcp)
    from patroni.version import __version__
    result = {'section': args.section, 'tcp': args.tcp, 'patroni': __version__,
              'loadavg_before': open('/proc/loadavg').read().strip()}
    result.update({'ops': section_ops, 'hacycle': section_hacycle, 'watch': section_watch,
                   'failover': section_failover}[args.section](args))
    result['loadavg_after'] = open('/proc/loadavg').read().strip()
    text = json.dumps(result)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()

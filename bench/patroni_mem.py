#!/usr/bin/python3
"""Memory and CPU of Patroni 3.0.2's Etcd3 after N busy HA cycles, read from outside the process.

The Patroni baseline's `haloop` section reports VmRSS and VmHWM only. This wrapper starts the
baseline's own `haloop-child` (the same loop: KVCache get_cluster + touch_member + update_leader
with a new LSN each cycle), and while the child sits between its loop and its exit reads
/proc/<pid>/status and /proc/<pid>/smaps_rollup, so RssAnon / RssFile / private memory can be
put beside libdcs's. Prints one JSON line.

  patroni_mem.py --hosts http://127.0.0.1:2379 [--iterations 1000] [--tcp-mode nodelay]
"""
import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
from urllib.parse import urlparse

BASELINE = '/work/shared/bench/patroni-baseline/patroni_dcs_bench.py'


def proc_fields(path):
    out = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(':')
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0])
    return out


def memory(pid):
    st = proc_fields('/proc/{}/status'.format(pid))
    roll = proc_fields('/proc/{}/smaps_rollup'.format(pid))
    return {'VmRSS_kB': st.get('VmRSS', 0), 'RssAnon_kB': st.get('RssAnon', 0), 'RssFile_kB': st.get('RssFile', 0),
            'RssShmem_kB': st.get('RssShmem', 0), 'VmHWM_kB': st.get('VmHWM', 0), 'Pss_kB': roll.get('Pss', 0),
            'Private_kB': roll.get('Private_Clean', 0) + roll.get('Private_Dirty', 0),
            'Threads': st.get('Threads', 0)}


def delete_prefix(url, prefix):
    u = urlparse(url)
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    body = json.dumps({'key': base64.b64encode(prefix.encode()).decode(),
                       'range_end': base64.b64encode(end.encode()).decode()})
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request('POST', '/v3/kv/deleterange', body=body, headers={'Content-Type': 'application/json'})
    conn.getresponse().read()
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hosts', required=True)
    ap.add_argument('--iterations', type=int, default=1000)
    ap.add_argument('--tcp-mode', choices=['shipped', 'nodelay'], default='nodelay')
    ap.add_argument('--baseline', default=BASELINE)
    args = ap.parse_args()
    scope = 'pb-mem-{}'.format(os.getpid())
    delete_prefix(args.hosts, '/service/{}/'.format(scope))
    child = subprocess.Popen(['/usr/bin/python3', args.baseline, 'haloop-child', '--hosts', args.hosts, '--scope', scope,
                              '--mode', 'busy', '--iterations', str(args.iterations), '--idle-s', '0.2',
                              '--tcp-mode', args.tcp_mode],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, PB_NO_REEXEC='1'))
    try:
        assert child.stdout.readline().strip() == 'READY'
        before = memory(child.pid)  # constructed, leader, 20 warm-up cycles
        child.stdin.write('GO\n')
        child.stdin.flush()
        assert child.stdout.readline().strip() == 'DONE'
        after = memory(child.pid)
        child.stdin.write('GO\n')
        child.stdin.flush()
        loop = json.loads(child.stdout.readline())
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        delete_prefix(args.hosts, '/service/{}/'.format(scope))
    out = {'tcp_mode': args.tcp_mode, 'iterations': args.iterations, 'after_warmup': before, 'after_cycles': after,
           'cpu_us_per_iteration': loop['cpu_us_per_iteration'], 'latency': loop['latency'],
           'rpcs_per_iteration': loop['rpcs_per_iteration'], 'failures': loop['failures']}
    sys.stdout.write(json.dumps(out) + '\n')


if __name__ == '__main__':
    main()

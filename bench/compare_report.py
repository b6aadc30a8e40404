#!/usr/bin/python3
"""Turns one bench/compare.sh run directory into docs/performance.md and the plots beside it
(perf-ops.png, perf-cached.png, perf-failover.png).

Every figure is first reduced per round (the median of that round's samples), then over the rounds:
the table shows the median of the per-round medians and, in brackets, their range (min-max) as the
noise. Ratios are taken within a round (both sides measured minutes apart at most) and then
summarised the same way.

  compare_report.py --dir RUN_DIR [--doc docs/performance.md] [--save bench/results/compare-DATE.json]
  compare_report.py --from-json bench/results/compare-DATE.json [--doc ...]     (render again)
"""
import argparse
import glob
import json
import os
import re
import statistics

OPS = [  # dcs_bench / compare_patroni.py key, label
    ('touch_member_changed', 'touch_member, data changed'),
    ('touch_member_unchanged', 'touch_member, data unchanged'),
    ('attempt_to_acquire_leader', 'attempt_to_acquire_leader, key absent'),
    ('update_leader', 'update_leader, no status write'),
    ('update_leader_status', 'update_leader(lsn), status write'),
    ('ha_cycle', 'busy HA cycle: cached get_cluster + touch_member + update_leader(lsn)'),
]
SIZES = ('3', '100', '1000')
CONTENDERS = ('raw', 'libdcs', 'Patroni')
COLOURS = {'raw': '#9e9e9e', 'libdcs': '#1f77b4', 'Patroni': '#ff7f0e'}


# --- loading -----------------------------------------------------------------------------------------

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def last_json_line(path):
    """The 'JSON {...}' line a dcs_bench / failover_bench run printed last."""
    try:
        with open(path) as f:
            lines = [line for line in f if line.startswith('JSON ')]
        return json.loads(lines[-1][5:]) if lines else None
    except (OSError, ValueError):
        return None


def rounds(d, pattern, loader):
    def number(p):
        m = re.search(r'(\d+)\.\w+$', p)
        return int(m.group(1)) if m else 0
    return [x for x in (loader(p) for p in sorted(glob.glob(os.path.join(d, pattern)), key=number)) if x]


def dig(obj, *keys):
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj


# --- figures over rounds -------------------------------------------------------------------------------

class Fig(object):
    """One figure measured in several rounds: median over the rounds and the range."""

    def __init__(self, values):
        self.values = [v for v in values if v is not None]

    def ok(self):
        return bool(self.values)

    @property
    def med(self):
        return statistics.median(self.values) if self.values else None

    @property
    def lo(self):
        return min(self.values) if self.values else None

    @property
    def hi(self):
        return max(self.values) if self.values else None


def ratio_fig(a_rounds, b_rounds):
    """Per-round ratio a / b of two per-round figure lists of equal length."""
    return Fig([a / b if a is not None and b else None for a, b in zip(a_rounds, b_rounds)])


def num(v, unit=''):
    if v is None:
        return '-'
    if abs(v) >= 10000:
        s = '{:,.0f}'.format(v)
    elif abs(v) >= 100:
        s = '{:.0f}'.format(v)
    elif abs(v) >= 10:
        s = '{:.1f}'.format(v)
    elif abs(v) >= 1:
        s = '{:.2f}'.format(v)
    else:
        s = '{:.3f}'.format(v)
    return s + unit


def cell(fig, unit=''):
    if not fig or not fig.ok():
        return '-'
    if len(fig.values) == 1:
        return num(fig.med, unit)
    return '{} <sub>({}–{})</sub>'.format(num(fig.med, unit), num(fig.lo), num(fig.hi))


def rcell(fig):
    if not fig or not fig.ok():
        return '-'
    fmt = (lambda v: '{:.2f}'.format(v)) if fig.med < 10 else (lambda v: '{:,.0f}'.format(v))
    if len(fig.values) == 1:
        return fmt(fig.med) + '×'
    return '{}× <sub>({}–{})</sub>'.format(fmt(fig.med), fmt(fig.lo), fmt(fig.hi))


# --- sections -----------------------------------------------------------------------------------------

def op_figures(dcs_runs, pat_runs):
    """rows: (label, {contender: per-round list}) for get_cluster direct and the operations."""
    n = min(len(dcs_runs), len(pat_runs)) or max(len(dcs_runs), len(pat_runs))
    dcs_runs, pat_runs = dcs_runs[:n], pat_runs[:n]
    pad = lambda lst: lst + [None] * (n - len(lst))  # noqa: E731
    rows = []
    for size in SIZES:
        raw = pad([dig(r, 'getcluster', size, 'raw', 'median_us') for r in dcs_runs])
        lib = pad([dig(r, 'getcluster', size, 'dcs', 'median_us') for r in dcs_runs])
        pat = pad([dig(p, 'getcluster', size, 'median_us') for p in pat_runs])
        keys = next((dig(r, 'getcluster', size, 'keys') for r in dcs_runs if dig(r, 'getcluster', size, 'keys')), '?')
        rows.append(('get_cluster direct (patronictl), {} members ({} keys)'.format(size, keys),
                     {'raw': raw, 'libdcs': lib, 'Patroni': pat}, 'gc' + size))
        # The same read with one member rewritten before each (libdcs builds a new view each time;
        # Patroni always rebuilds, so its unchanged figure above stands for both).
        moved = size + '_one_member_rewritten'
        raw = pad([dig(r, 'getcluster', moved, 'raw', 'median_us') for r in dcs_runs])
        lib = pad([dig(r, 'getcluster', moved, 'dcs', 'median_us') for r in dcs_runs])
        if any(v is not None for v in lib):
            rows.append(('get_cluster direct, {} members, one member rewritten before each read'.format(size),
                         {'raw': raw, 'libdcs': lib, 'Patroni': pad([])}, 'moved' + size))
    for key, label in OPS:
        raw = pad([dig(r, 'ops', key, 'raw', 'median_us') for r in dcs_runs])
        lib = pad([dig(r, 'ops', key, 'dcs', 'median_us') for r in dcs_runs])
        pat = pad([dig(p, 'ops', key, 'median_us') for p in pat_runs])
        rows.append((label, {'raw': raw, 'libdcs': lib, 'Patroni': pat}, key))
    return rows


def ops_table(L, rows, requests):
    L += ['| operation | requests | raw libcurl | libdcs | Patroni | libdcs / raw | Patroni / libdcs |',
          '|---|---|---|---|---|---|---|']
    for label, f, key in rows:
        L.append('| {} | {} | {} | {} | {} | {} | {} |'.format(
            label, requests.get(key, ''), cell(Fig(f['raw'])), cell(Fig(f['libdcs'])), cell(Fig(f['Patroni'])),
            rcell(ratio_fig(f['libdcs'], f['raw'])), rcell(ratio_fig(f['Patroni'], f['libdcs']))))


def request_names(dcs_runs):
    out = {}
    for r in dcs_runs:
        for size in SIZES:
            v = dig(r, 'getcluster', size, 'requests')
            if v:
                out['gc' + size] = out['moved' + size] = v
        for key, _ in OPS:
            v = dig(r, 'ops', key, 'requests')
            if v:
                out[key] = v
    return out


def failover_rounds(dcs_blocks, pat_blocks):
    """{mode: {'libdcs': [(ms, ok, role)], 'Patroni': [...]}}"""
    out = {'kill': {'libdcs': [], 'Patroni': []}, 'stop': {'libdcs': [], 'Patroni': []}}
    for b in dcs_blocks:
        for group, res in (b.get('results') or {}).items():
            mode = group.split('/')[0]
            if mode not in out:
                continue
            ms, roles = res.get('ms', []), res.get('roles', [])
            # failover_bench lists every round; a failed one shows its full wait (60 s bound).
            for i, v in enumerate(ms):
                out[mode]['libdcs'].append((v, v < 60000, roles[i] if i < len(roles) else '?'))
    for b in pat_blocks:
        for mode in ('kill', 'stop'):
            for r in dig(b, mode, 'rounds') or []:
                out[mode]['Patroni'].append((r['ms'], r['ok'], r.get('role', '?')))
    return out


# --- plots --------------------------------------------------------------------------------------------

def plots(outdir, single_rows, three_rows, cached, direct, fo):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('compare_report: python3-matplotlib is missing: no plots (scripts/setup.sh installs it)')
        return []
    written = []

    # perf-ops.png: grouped bars per operation, single node and 3 members, log scale.
    panels = [('single etcd node', single_rows), ('3-member etcd', three_rows)]
    panels = [(t, r) for t, r in panels if r]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 4.8 * len(panels)), squeeze=False)
    for ax, (title, rows) in zip(axes[:, 0], panels):
        short = {'gc3': 'get_cluster direct\n3 members', 'gc100': 'get_cluster direct\n100 members',
                 'gc1000': 'get_cluster direct\n1000 members', 'touch_member_changed': 'touch_member\ndata changed',
                 'touch_member_unchanged': 'touch_member\nunchanged', 'attempt_to_acquire_leader': 'acquire leader\n(txn)',
                 'update_leader': 'update_leader\n(keepalive)', 'update_leader_status': 'update_leader(lsn)\n(+ status put)',
                 'ha_cycle': 'busy HA cycle'}
        labels = [short.get(key, key) for _, _, key in rows]
        width = 0.27
        for j, who in enumerate(CONTENDERS):
            meds, errs_lo, errs_hi, xs = [], [], [], []
            for i, (_, f, _) in enumerate(rows):
                fg = Fig(f[who])
                if fg.ok():
                    xs.append(i + (j - 1) * width)
                    meds.append(fg.med)
                    errs_lo.append(fg.med - fg.lo)
                    errs_hi.append(fg.hi - fg.med)
            ax.bar(xs, meds, width, label=who if who != 'raw' else 'raw libcurl (same requests)', color=COLOURS[who],
                   yerr=[errs_lo, errs_hi], capsize=2, error_kw={'elinewidth': 0.8})
        for i, (_, f, _) in enumerate(rows):
            r = ratio_fig(f['Patroni'], f['libdcs'])
            top = max([Fig(f[w]).hi or 0 for w in CONTENDERS])
            if r.ok() and top:
                ax.text(i, top * 1.25, 'Patroni/libdcs\n{:.2f}×'.format(r.med) if r.med < 10 else
                        'Patroni/libdcs\n{:,.0f}×'.format(r.med), ha='center', fontsize=7)
        ax.set_yscale('log')
        ax.set_ylim(top=ax.get_ylim()[1] * 4)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, fontsize=7.5)
        ax.set_ylabel('median latency, µs (log)')
        ax.set_title('Per-operation latency, {} (bars: median over rounds; whiskers: min–max)'.format(title))
        ax.grid(axis='y', which='both', alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(outdir, 'perf-ops.png')
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    # perf-cached.png: get_cluster vs members, cached and direct, log-log.
    fig, ax = plt.subplots(figsize=(8, 5))
    xs = [int(s) for s in SIZES]
    for (who, kind), per_size in sorted(cached.items()) + sorted(direct.items()):
        meds = [Fig(per_size.get(s, [])).med for s in SIZES]
        pts = [(x, m) for x, m in zip(xs, meds) if m]
        if not pts:
            continue
        style = '-o' if kind == 'cached' else '--s'
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=COLOURS[who],
                label='{} {}'.format(who if who != 'raw' else 'raw libcurl', 'from its watcher cache' if kind == 'cached'
                                     else 'direct read (one range request)'))
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xticks(xs)
    ax.set_xticklabels(SIZES)
    ax.set_xlabel('cluster members')
    ax.set_ylabel('get_cluster median, µs (log)')
    ax.set_title('get_cluster: cached vs direct, single etcd node')
    ax.grid(which='both', alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(outdir, 'perf-cached.png')
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    # perf-failover.png: each round as a point, median as a bar, log scale.
    if any(fo[m][w] for m in fo for w in fo[m]):
        fig, ax = plt.subplots(figsize=(8, 5))
        pos = 0
        ticks, names = [], []
        labelled = set()
        for mode in ('kill', 'stop'):
            for role in ('follower', 'leader'):
                if not any(rl == role for who in fo[mode] for _, _, rl in fo[mode][who]):
                    continue
                for who in ('libdcs', 'Patroni'):
                    vals = [v for v, ok, rl in fo[mode][who] if ok and rl == role]
                    if vals:
                        ax.bar(pos, statistics.median(vals), 0.8, color=COLOURS[who], alpha=0.75,
                               label=None if who in labelled else who)
                        labelled.add(who)
                        ax.plot([pos] * len(vals), vals, 'k.', alpha=0.6)
                    pos += 1
                ticks.append(pos - 1.5)
                names.append('SIG{}\n{}'.format(mode.upper(), role))
                pos += 0.6
        ax.set_yscale('log')
        ax.set_xticks(ticks)
        ax.set_xticklabels(names)
        ax.set_ylabel('signal -> first successful keepalive, ms (log)')
        ax.set_title('Failover, 3-member etcd: SIGKILL / SIGSTOP of the member in use\n'
                     '(bar: median; dots: rounds)')
        ax.grid(axis='y', which='both', alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = os.path.join(outdir, 'perf-failover.png')
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


# --- the document ---------------------------------------------------------------------------------------

def load_run(d):
    """Every output of one compare.sh run directory, as one dict (what --save writes)."""
    return {'env': load_json(os.path.join(d, 'env.json')) or {},
            'single_dcs': rounds(d, 'single/dcs_r*.txt', last_json_line),
            'single_patroni': rounds(d, 'single/pat_ops_r*.json', load_json),
            'single_cache': rounds(d, 'single/cache_r*.txt', last_json_line),
            'single_patroni_watch': rounds(d, 'single/pat_watch_r*.json', load_json),
            'single_patroni_hacycle': rounds(d, 'single/pat_ha_r*.json', load_json),
            'memory': (last_json_line(os.path.join(d, 'single/dcs_memory.txt')) or {}).get('memory', {}),
            'patroni_shipped': load_json(os.path.join(d, 'single/pat_shipped.json')),
            'three_dcs': rounds(d, 'three/dcs_r*.txt', last_json_line),
            'three_patroni': rounds(d, 'three/pat_ops_r*.json', load_json),
            'three_member1_status': load_json(os.path.join(d, 'three/member1-status.json')) or {},
            'failover_dcs': rounds(d, 'failover/dcs_b*.txt', last_json_line),
            'failover_patroni': rounds(d, 'failover/pat_b*.json', load_json)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dir', help='a compare.sh run directory')
    ap.add_argument('--from-json', help='instead of --dir: a file --save wrote')
    ap.add_argument('--save', help='also write every figure of the run as one JSON file here')
    ap.add_argument('--doc', default='docs/performance.md')
    args = ap.parse_args()
    if bool(args.dir) == bool(args.from_json):
        ap.error('give one of --dir and --from-json')
    run = load_json(args.from_json) if args.from_json else load_run(args.dir)
    if args.save:
        with open(args.save, 'w') as f:
            json.dump(run, f, indent=1)
    env = run['env']
    s_dcs, s_pat, s_cache = run['single_dcs'], run['single_patroni'], run['single_cache']
    s_watch, s_ha, mem = run['single_patroni_watch'], run['single_patroni_hacycle'], run['memory']
    shipped, t_dcs, t_pat = run['patroni_shipped'], run['three_dcs'], run['three_patroni']
    fo_dcs, fo_pat, m1 = run['failover_dcs'], run['failover_patroni'], run['three_member1_status']

    L = []
    if env.get('banner'):
        L += ['> **{}**'.format(env['banner']), '']
    L += ['# Performance: libdcs beside the raw requests and Patroni 3.0.2', '',
          'Generated by `bench/compare.sh{}` on {} ({} s). Re-run it to refresh this page and the plots.'.format(
              ' --quick' if env.get('quick') else '', env.get('date', '?'), env.get('runtime_s', '?')), '',
          '**Machine:** {}{} · {} cores · Linux {} · {} · Patroni {} on Python {} · libdcs {}'.format(
              env.get('cpu', '?'), ' (virtual machine)' if env.get('virtual') else '', env.get('cores', '?'),
              env.get('kernel', '?'), env.get('etcd', 'etcd ?'),
              env.get('patroni', '?'), env.get('python', '?'), env.get('commit', '?')), '',
          '**Contenders** (all against the same private etcd on loopback, in the same run):', '',
          '- **raw libcurl**: the very requests libdcs sends (recorded from it through a proxy), posted from one '
          'kept-alive libcurl handle with pre-built bodies and unparsed answers: the floor for any C/C++ client. '
          '`dcs_bench` times it and libdcs in alternation, iteration by iteration.',
          '- **libdcs**: `dcs::etcd3::Etcd3`, release build (`cmake --preset release`).',
          '- **Patroni**: `patroni.dcs.etcd3.Etcd3` from Debian\'s package, driven by `bench/compare_patroni.py` '
          'with Patroni\'s defaults (ttl 30, loop_wait 10, retry_timeout 10). Its sockets get TCP_NODELAY '
          '(a wrapper in the driver; as shipped, Patroni drops it and every request with a body waits ~40 ms for '
          'a delayed ACK: see the last table), so what is compared is its code, not that stall.', '',
          '**Noise:** {} single-node round(s), {} three-member round(s); each round runs every contender once '
          '(odd rounds libdcs first, even rounds Patroni first). A figure is the median of the per-round medians, '
          'with the range over the rounds in small print: that range is the noise of this run. Ratios are formed '
          'within a round, then summarised the same way. Load average (1/5/15 min) at start: {}; at end: {}.'.format(
              len(s_dcs), len(t_dcs), ' '.join(env.get('loadavg_start', '?').split()[:3]),
              ' '.join(env.get('loadavg_end', '?').split()[:3]))]
    if env.get('params'):
        L += ['', '**Run parameters:** ' + env['params']]
    if env.get('note'):
        L += ['', env['note']]

    single_rows = op_figures(s_dcs, s_pat)
    three_rows = op_figures(t_dcs, t_pat)
    L += ['', '![per-operation latency](perf-ops.png)', '',
          '## Per-operation latency, single etcd node (µs)', '']
    ops_table(L, single_rows, request_names(s_dcs))
    L += ['', 'Note on get_cluster direct: in patronictl mode libdcs asks for a linearizable range (as later '
          'Patroni releases do), Patroni 3.0.2 for a serializable one; the raw column sends libdcs\'s request. '
          'On one node the difference is small; on three members a linearizable read also waits for the raft '
          'leader\'s read index. The HA loop\'s own reads (the watcher cache\'s list) are serializable in both.']
    if t_dcs or t_pat:
        role = '?'
        if m1.get('leader') and dig(m1, 'header', 'member_id'):
            role = 'the raft leader' if m1['leader'] == m1['header']['member_id'] else 'a follower'
        L += ['', '## Per-operation latency, 3-member etcd (µs)', '',
              'Every contender talks to member 1 ({} when the run started); writes wait for a raft quorum, '
              'linearizable reads for a read index from the raft leader. That is why Patroni can beat the raw '
              'requests at get_cluster direct: see the note under the single-node table.'.format(role), '']
        ops_table(L, three_rows, request_names(t_dcs))

    # HA-cycle CPU and memory.
    lib_cpu = Fig([dig(r, 'hacycle', 'dcs_cpu_us_per_cycle') for r in s_dcs])
    raw_cpu = Fig([dig(r, 'hacycle', 'raw_cpu_us_per_cycle') for r in s_dcs])
    own_cpu = Fig([dig(r, 'hacycle', 'dcs_minus_raw_cpu_us_per_cycle') for r in s_dcs])
    pat_cpu = Fig([r.get('cpu_us_per_cycle') for r in s_ha])
    ha_cycles = next((dig(r, 'hacycle', 'cycles') for r in s_dcs if dig(r, 'hacycle', 'cycles')), '?')
    pat_cycles = next((r.get('cycles') for r in s_ha), '?')
    L += ['', '## Busy HA cycle: CPU and memory', '',
          'CPU = user + system time of the whole process (every thread, the watcher\'s included) per busy cycle '
          '(get_cluster + touch_member + update_leader with a new LSN). libdcs and raw: `dcs_bench --section '
          'hacycle`, {} cycles each in alternating blocks; Patroni: a fresh process running {} cycles. Memory: '
          'a fresh process after 1000 (Patroni: {}) busy cycles.'.format(ha_cycles, pat_cycles, pat_cycles), '',
          '| figure | raw libcurl | libdcs | Patroni | libdcs / raw | Patroni / libdcs |', '|---|---|---|---|---|---|']
    L.append('| CPU per busy HA cycle, µs | {} | {} | {} | {} | {} |'.format(
        cell(raw_cpu), cell(lib_cpu), cell(pat_cpu),
        rcell(ratio_fig(lib_cpu.values, raw_cpu.values)) if len(lib_cpu.values) == len(raw_cpu.values) else '-',
        rcell(ratio_fig(pat_cpu.values, lib_cpu.values)) if len(pat_cpu.values) == len(lib_cpu.values)
        else rcell(Fig([pat_cpu.med / lib_cpu.med])) if pat_cpu.ok() and lib_cpu.ok() else '-'))
    L.append('| libdcs\'s own CPU per cycle (libdcs minus raw), µs | | {} | | | |'.format(cell(own_cpu)))

    def mib(kb):
        return kb / 1024.0 if kb else None
    pat_mem_end = [dig(r, 'memory', 'after_cycles') or {} for r in s_ha]
    pat_mem_start = [dig(r, 'memory', 'at_start') or {} for r in s_ha]
    floor, lib_end = mem.get('bare_libcurl') or {}, mem.get('after_cycles') or {}
    for field, label in (('VmRSS_kB', 'VmRSS after the cycles, MiB'),
                         ('RssAnon_kB', 'RssAnon (private: heap, stacks) after the cycles, MiB')):
        lib_v, raw_v = mib(lib_end.get(field)), mib(floor.get(field))
        pat_f = Fig([mib(m.get(field)) for m in pat_mem_end])
        L.append('| {} | {} | {} | {} | {} | {} |'.format(
            label, num(raw_v), num(lib_v), cell(pat_f), rcell(Fig([lib_v / raw_v])) if lib_v and raw_v else '-',
            rcell(Fig([pat_f.med / lib_v])) if pat_f.ok() and lib_v else '-'))
    L.append('| threads | {} | {} | {} | | |'.format(floor.get('Threads', '-'), lib_end.get('Threads', '-'),
                                                     (pat_mem_end[0].get('Threads', '-') if pat_mem_end else '-')))
    L += ['', 'raw libcurl memory = a process that only initialised libcurl + OpenSSL and sent one request '
          '(`dcs_bench_floor`). For scale: the Python interpreter with Patroni\'s modules imported and nothing '
          'constructed holds {} MiB VmRSS, {} MiB RssAnon.'.format(
              num(Fig([mib(m.get('VmRSS_kB')) for m in pat_mem_start]).med),
              num(Fig([mib(m.get('RssAnon_kB')) for m in pat_mem_start]).med))]

    # Cached get_cluster and watch().
    cached = {('libdcs', 'cached'): {}, ('Patroni', 'cached'): {}}
    direct = {('raw', 'direct'): {}, ('libdcs', 'direct'): {}, ('Patroni', 'direct'): {}}
    for s in SIZES:
        cached[('libdcs', 'cached')][s] = [(dig(r, 'cache', s, 'get_cluster_cached', 'median_ns') or 0) / 1000.0 or None
                                           for r in s_cache]
        cached[('Patroni', 'cached')][s] = [dig(p, 'cached', s, 'median_us') for p in s_pat]
    for label, f, key in single_rows:
        if key.startswith('gc'):
            for who, tag in (('raw', 'raw'), ('libdcs', 'libdcs'), ('Patroni', 'Patroni')):
                direct[(who, 'direct')][key[2:]] = f[tag]
    L += ['', '![get_cluster cached vs direct](perf-cached.png)', '',
          '## get_cluster from the watcher cache (µs)', '',
          'What an HA loop calls every cycle: both libraries keep the cluster prefix in memory, fed by a watch. '
          'libdcs: batches of 100 calls (`dcs_bench --section cache`); Patroni: its KVCache, one call at a time. '
          'No request is sent, so there is no raw figure.', '',
          '| members | libdcs | Patroni | Patroni / libdcs |', '|---|---|---|---|']
    for s in SIZES:
        lf, pf = cached[('libdcs', 'cached')][s], cached[('Patroni', 'cached')][s]
        L.append('| {} | {} | {} | {} |'.format(s, cell(Fig(lf)), cell(Fig(pf)),
                                                rcell(ratio_fig(pf, lf)) if len(pf) == len(lf) else '-'))

    L += ['', '## watch() wake-up latency (µs)', '',
          'A writer on its own connection changes the leader key every 10–30 ms; the HA thread of a replica loops '
          'on watch(timeout 0.5 s). Figure: put sent → watch() returned (it includes the put\'s own round trip '
          'and etcd\'s fan-out). libdcs: a writer thread in the same process; Patroni: a writer process. '
          'The p99 after the put\'s answer leaves out the put itself: a WAL fsync that stalls (tens of ms on a '
          'busy disk) lands in the first p99 of whichever contender ran at that moment, not in its library.', '',
          '| members | libdcs p50 | Patroni p50 | Patroni / libdcs (p50) | libdcs p99 | Patroni p99 '
          '| libdcs p99 after the put\'s answer | Patroni p99 after the put\'s answer | changes not seen '
          'libdcs / Patroni |', '|---|---|---|---|---|---|---|---|---|']
    for s in SIZES:
        lp50 = [dig(r, 'cache', s, 'watch', 'since_put_sent', 'median_us') for r in s_cache]
        pp50 = [dig(p, 'watch', s, 'since_put_sent', 'median_us') for p in s_watch]
        lp99 = [dig(r, 'cache', s, 'watch', 'since_put_sent', 'p99_us') for r in s_cache]
        pp99 = [dig(p, 'watch', s, 'since_put_sent', 'p99_us') for p in s_watch]
        lack99 = [dig(r, 'cache', s, 'watch', 'since_put_ack', 'p99_us') for r in s_cache]
        pack99 = [dig(p, 'watch', s, 'since_put_ack', 'p99_us') for p in s_watch]
        lmiss = sum(dig(r, 'cache', s, 'watch', 'changes_not_seen') or 0 for r in s_cache)
        lall = sum(dig(r, 'cache', s, 'watch', 'changes') or 0 for r in s_cache)
        pmiss = sum(dig(p, 'watch', s, 'changes_not_seen') or 0 for p in s_watch)
        pall = sum(dig(p, 'watch', s, 'changes') or 0 for p in s_watch)
        if not any(v is not None for v in lp50 + pp50):
            continue
        L.append('| {} | {} | {} | {} | {} | {} | {} | {} | {}/{} · {}/{} |'.format(
            s, cell(Fig(lp50)), cell(Fig(pp50)), rcell(ratio_fig(pp50, lp50)) if len(pp50) == len(lp50) else '-',
            cell(Fig(lp99)), cell(Fig(pp99)), cell(Fig(lack99)), cell(Fig(pack99)), lmiss, lall, pmiss, pall))

    # Failover.
    fo = failover_rounds(fo_dcs, fo_pat)
    if any(fo[m][w] for m in fo for w in fo[m]):
        L += ['', '![failover](perf-failover.png)', '',
              '## Failover: the etcd member in use is signalled (ms)', '',
              '3-member etcd; the client knows all three endpoints (retry_timeout 10 s). Time from just before '
              'the signal to the first lease keepalive that succeeds (libdcs: `failover_bench --target '
              'follower,leader` on its own cluster; Patroni: update_leader(None) with its own retries and endpoint '
              'switching, on the cluster of `bench/lib/etcd3node.sh`). Before each round the client is moved to a '
              'member of the wanted raft role; afterwards the member is restarted / continued and the cluster '
              'healthy again before the next round. Every round is listed: these are few samples.', '',
              '| fault | member signalled | contender | rounds ok | median | min–max | rounds (ms) |',
              '|---|---|---|---|---|---|---|']
        for mode in ('kill', 'stop'):
            for role in ('follower', 'leader'):
                meds = {}
                for who in ('libdcs', 'Patroni'):
                    rs = [(v, good) for v, good, rl in fo[mode][who] if rl == role]
                    if not rs:
                        continue
                    ok = [v for v, good in rs if good]
                    if ok:
                        meds[who] = statistics.median(ok)
                    L.append('| SIG{} | {} | {} | {}/{} | {} | {}–{} | {} |'.format(
                        mode.upper(), role, who, len(ok), len(rs), num(meds.get(who)),
                        num(min(ok)) if ok else '-', num(max(ok)) if ok else '-',
                        ', '.join(num(v) + ('' if good else ' (failed)') for v, good in rs)))
                if len(meds) == 2:
                    L.append('| SIG{} | {} | Patroni / libdcs | | {} | | |'.format(
                        mode.upper(), role, rcell(Fig([meds['Patroni'] / meds['libdcs']]))))
        L += ['', 'Losing the raft leader adds etcd\'s own election (about a second here) to any client\'s '
              'time; a follower\'s loss is the client\'s own failover.']

    if shipped:
        L += ['', '## Patroni as shipped (no TCP_NODELAY), for reference (µs, one short run)', '',
              '| operation | Patroni as shipped | Patroni + TCP_NODELAY (above) |', '|---|---|---|']
        nodelay = {key: Fig(f['Patroni']) for _, f, key in single_rows}
        for size in SIZES:
            L.append('| get_cluster direct, {} members | {} | {} |'.format(
                size, num(dig(shipped, 'getcluster', size, 'median_us')), cell(nodelay.get('gc' + size))))
        for key, label in OPS:
            L.append('| {} | {} | {} |'.format(label, num(dig(shipped, 'ops', key, 'median_us')),
                                               cell(nodelay.get(key))))

    L += ['', '## How to read this', '',
          '- libdcs / raw near 1 means the library adds little over the requests it must send; the raw side does '
          'no parsing at all, so it is a floor, not a competitor.',
          '- Patroni / libdcs is the speed-up of moving Patroni\'s DCS layer to libdcs on the same etcd.',
          '- Latencies on loopback are dominated by etcd itself (a write is a WAL fsync) and by the scheduler of '
          'a shared machine; compare within a row, not across runs.']

    outdir = os.path.dirname(os.path.abspath(args.doc))
    os.makedirs(outdir, exist_ok=True)
    with open(args.doc, 'w') as f:
        f.write('\n'.join(L) + '\n')
    written = plots(outdir, single_rows, three_rows, cached, direct, fo)
    print('compare_report: wrote {} and {}'.format(args.doc, ', '.join(written) or 'no plots'))


if __name__ == '__main__':
    main()

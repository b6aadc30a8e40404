#!/usr/bin/python3
"""Puts one bench/dcs.sh run side by side: libdcs (dcs_bench), the raw libcurl floor (the same
requests, dcs_bench's raw side) and Patroni 3.0.2 (patroni_dcs_bench.py, patroni_mem.py), all
measured against the same etcd in the same run. Writes markdown (and the merged JSON beside it).

  dcs_report.py --dir RUN_DIR --out bench/results/DATE.md
  dcs_report.py --from-json bench/results/DATE.json --out bench/results/DATE.md   (render again)
"""
import argparse
import glob
import json
import os

# libdcs operation key -> (label, Patroni ops key)
OPS = [
    ('touch_member_changed', 'touch_member, data changed', 'touch_member (data changed -> put)'),
    ('touch_member_unchanged', 'touch_member, data unchanged', 'touch_member (data unchanged -> no RPC)'),
    ('attempt_to_acquire_leader', 'attempt_to_acquire_leader, key absent',
     'attempt_to_acquire_leader (key absent -> txn)'),
    ('update_leader', 'update_leader, no status write', 'update_leader(None) renew (lease keepalive)'),
    ('update_leader_status', 'update_leader(lsn), status write', 'update_leader(lsn) renew + /status put'),
    ('ha_cycle', 'busy HA cycle: get_cluster + touch_member + update_leader(lsn)',
     'HA cycle: get_cluster + touch_member + update_leader(lsn)'),
]
RATIO_TARGET = 1.1
CPU_TARGET_US = 100
ANON_TARGET_KB = 4 * 1024
RSS_TARGET_KB = 16 * 1024
CACHE_GC_TARGET_US = 2
CACHE_EVENT_TARGET_US = 100
WAKE_P50_TARGET_US = 100
WAKE_P99_TARGET_US = 1000


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def dcs_json(path):
    """The 'JSON {...}' line a dcs_bench run printed last."""
    try:
        with open(path) as f:
            lines = [line for line in f if line.startswith('JSON ')]
        return json.loads(lines[-1][5:]) if lines else None
    except OSError:
        return None


def patroni_results(d):
    files = sorted(glob.glob(os.path.join(d, 'results-*.json')))
    return load(files[-1]) if files else None


def us(v):
    if v is None:
        return '-'
    if v >= 10000:
        return '{:,.0f}'.format(v)
    return '{:.1f}'.format(v) if v < 100 else '{:.0f}'.format(v)


def signed_us(v):
    """us() for a difference, which noise can make negative."""
    if v is None:
        return '-'
    return '-' + us(-v) if v < 0 else us(v)


def med(st):
    return st.get('median_us') if st and st.get('n') else None


def cpu(e):
    """Mean CPU µs per call of the calling thread: raw / libdcs."""
    if e.get('dcs_cpu_us') is None:
        return '-'
    return '{} / {}'.format(us(e.get('raw_cpu_us')), us(e['dcs_cpu_us']))


def mb(kb):
    return '{:.1f}'.format(kb / 1024.0) if kb else '-'


def ratio(patroni, libdcs):
    return '{:,.0f}x'.format(patroni / libdcs) if patroni and libdcs else '-'


def pct(st, key):
    return st.get(key) if st and st.get('n') else None


def cache_section(L, misses, cache, pgc, pwatch):
    """The watcher caches side by side: dcs_bench --section cache and Patroni's getcluster / watch."""
    if not cache and not pwatch:
        return
    L += ['', '## Watcher cache (KVCache)', '',
          'libdcs: `dcs_bench --section cache` (get_cluster in batches of 100 calls; watcher CPU = the cache '
          'thread\'s own CPU clock over member-key rewrites by another client, one event at a time; its floor = '
          'the CPU clock of a bare libcurl watch stream on the same prefix that receives the same events meanwhile '
          'and only counts them, i.e. the wake-up and poll/recv cost any watcher pays (means over the run; the '
          'per-event median of watcher minus floor is the steadier figure on a busy machine); watch(): a '
          'writer thread on its own connection changes the leader key every 10-30 ms while the HA thread loops on '
          'watch(None, 500 ms), "event reached the watcher" = the cache\'s last contact, taken when its thread '
          'received the message). Patroni: `patroni_dcs_bench.py getcluster` (its KVCache) and `watch` (3 members, '
          'writer in a separate process).', '',
          '| figure | members | libdcs | Patroni + NODELAY | Patroni / libdcs |', '|---|---|---|---|---|']
    for k in ('3', '100', '1000'):
        e = cache.get(k)
        if not e:
            continue
        gc_us = e['get_cluster_cached']['median_ns'] / 1000.0
        p = med((pgc.get(k) or {}).get('cache'))
        L.append('| get_cluster from the cache, median µs | {} | {:.3f} | {} | {} |'.format(k, gc_us, us(p), ratio(p, gc_us)))
        if gc_us > CACHE_GC_TARGET_US:
            misses.append('cached get_cluster {} members: {:.3f} µs, target {} µs'.format(k, gc_us, CACHE_GC_TARGET_US))
    for k in ('3', '100', '1000'):
        e = cache.get(k)
        if not e:
            continue
        we = e['watcher_event']
        ev = we['watcher_cpu_us_per_event']
        # The floor (a bare watch stream on the same prefix, same events) is absent from older runs.
        floor, over = we.get('floor_cpu_us_per_event'), we.get('watcher_over_floor_us_per_event')
        cell = us(ev) if floor is None else '{} (floor {}, over floor {})'.format(us(ev), us(floor), signed_us(over))
        if we.get('watcher_over_floor_us_per_event_median') is not None:
            cell = cell[:-1] + '; per-event median over floor {})'.format(
                signed_us(we['watcher_over_floor_us_per_event_median']))
        L.append('| watcher CPU per event (member key rewritten), µs | {} | {} | - | - |'.format(k, cell))
        if k == '1000' and ev > CACHE_EVENT_TARGET_US:
            misses.append('watcher CPU per event at 1000 members: {:.1f} µs, target {} µs{}'.format(
                ev, CACHE_EVENT_TARGET_US, '' if floor is None else
                ' (bare watch stream floor {:.1f} µs, over floor {:.1f} µs)'.format(floor, over)))
    psent = pwatch.get('watch() returned since put sent')
    for k in ('3', '100', '1000'):
        w = (cache.get(k) or {}).get('watch')
        if not w:
            continue
        sent, ack, recv = w['since_put_sent'], w['since_put_ack'], w['since_event_reached_watcher']
        ps = psent if k == '3' else None
        L.append('| watch() returned since put sent, p50 / p99 µs ({} changes, {} not seen) | {} | {} / {} | {} / {} '
                 '| {} / {} |'.format(w['changes'], w['changes_not_seen'], k, us(pct(sent, 'median_us')),
                                      us(pct(sent, 'p99_us')), us(pct(ps, 'median_us')), us(pct(ps, 'p99_us')),
                                      ratio(pct(ps, 'median_us'), pct(sent, 'median_us')),
                                      ratio(pct(ps, 'p99_us'), pct(sent, 'p99_us'))))
        L.append('| watch() returned since put ack, p50 / p99 µs | {} | {} / {} | - | - |'.format(
            k, us(pct(ack, 'median_us')), us(pct(ack, 'p99_us'))))
        L.append('| watch() returned since the event reached the watcher, p50 / p99 µs | {} | {} / {} | - | - |'.format(
            k, us(pct(recv, 'median_us')), us(pct(recv, 'p99_us'))))
        if (pct(recv, 'median_us') or 0) > WAKE_P50_TARGET_US or (pct(recv, 'p99_us') or 0) > WAKE_P99_TARGET_US:
            misses.append('watch() since the event reached the watcher, {} members: p50 {} / p99 {} µs, target {} / '
                          '{} µs'.format(k, us(pct(recv, 'median_us')), us(pct(recv, 'p99_us')), WAKE_P50_TARGET_US,
                                        WAKE_P99_TARGET_US))
    if pwatch:
        upd = pwatch.get('kvcache_updated (event.set) since put sent')
        L.append('| (Patroni only) its KVCache updated (event set) since put sent, p50 / p99 µs | 3 | - | {} / {} | - |'
                 .format(us(pct(upd, 'median_us')), us(pct(upd, 'p99_us'))))
        rtt = pwatch.get('put_rtt_second_client')
        L.append('| (Patroni only) the writer\'s put round trip, p50 / p99 µs ({} changes) | 3 | - | {} / {} | - |'
                 .format(pwatch.get('changes'), us(pct(rtt, 'median_us')), us(pct(rtt, 'p99_us'))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', help='the run directory bench/dcs.sh filled')
    ap.add_argument('--from-json', help='instead of --dir: a merged .json this script wrote before')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    if args.from_json:
        merged = load(args.from_json) or {}
        main_run, mem_run = merged.get('libdcs') or {}, merged.get('libdcs_memory') or {}
        pb, pbs = merged.get('patroni_nodelay') or {}, merged.get('patroni_shipped') or {}
        pmem, env = merged.get('patroni_mem') or {}, merged.get('env') or {}
        cache_run, pbw = merged.get('libdcs_cache') or {}, merged.get('patroni_watch') or {}
    else:
        d = args.dir
        main_run = dcs_json(os.path.join(d, 'dcs_main.txt')) or {}
        mem_run = dcs_json(os.path.join(d, 'dcs_memory.txt')) or {}
        pb = patroni_results(os.path.join(d, 'pb-nodelay')) or {}
        pbs = patroni_results(os.path.join(d, 'pb-shipped')) or {}
        pmem = load(os.path.join(d, 'patroni_mem.json')) or {}
        env = load(os.path.join(d, 'env.json')) or {}
        cache_run = dcs_json(os.path.join(d, 'dcs_cache.txt')) or {}
        pbw = patroni_results(os.path.join(d, 'pb-watch')) or {}
    misses = []
    L = ['# libdcs vs the raw requests vs Patroni 3.0.2 ({})'.format(env.get('date', '?')), '']
    L.append('All three against one private etcd ({}) in one run of `bench/dcs.sh`; libdcs {}.'.format(
        env.get('etcd', '?'), env.get('commit', '?')))
    L.append('Machine: {} CPUs, kernel {}. Load average (1/5/15 min) before / after: libdcs sections {} / {}; '
             'memory section {} / {}; Patroni {} / {}.'.format(
                 env.get('cpus', '?'), env.get('kernel', '?'), main_run.get('loadavg_before', '?'),
                 main_run.get('loadavg_after', '?'), mem_run.get('loadavg_before', '?'),
                 mem_run.get('loadavg_after', '?'), pb.get('env', {}).get('loadavg_before', '?'),
                 pb.get('env', {}).get('loadavg_after', '?')))
    if env.get('note'):
        L.append('')
        L.append(env['note'])
    L += ['', '## Operations: medians in µs', '',
          'raw = the same requests libdcs sends (recorded from it through a proxy), posted from one kept-alive '
          'libcurl handle with pre-built bodies, answers not parsed; paired with libdcs iteration by iteration. '
          'Patroni: its own Etcd3 on the same etcd (`patroni_dcs_bench.py ops,getcluster`), with the harness\'s '
          'TCP_NODELAY patch and as shipped (Nagle).', '',
          '| operation | requests (libdcs) | raw floor | libdcs | libdcs / raw | libdcs p99 | CPU per call raw / libdcs '
          '| Patroni + NODELAY | Patroni as shipped | Patroni RPCs |',
          '|---|---|---|---|---|---|---|---|---|---|']
    gc = main_run.get('getcluster', {})
    pgc = pb.get('getcluster', {})
    pgcs = pbs.get('getcluster', {})
    for k in ('3', '100', '1000'):
        e = gc.get(k)
        if not e:
            continue
        p = pgc.get(k, {})
        ratio = e.get('ratio')
        if ratio is not None and ratio > RATIO_TARGET:
            misses.append('get_cluster {} members: libdcs / raw = {:.3f}'.format(k, ratio))
        L.append('| get_cluster direct, {} members ({} keys, {} B answer) | {} | {} | {} | {} | {} | {} | {} | {} | {} |'
                 .format(k, e.get('keys'), e.get('response_bytes'), e['requests'], us(med(e.get('raw'))),
                         us(med(e['dcs'])), '{:.3f}'.format(ratio) if ratio else '-', us(e['dcs'].get('p99_us')),
                         cpu(e), us(med(p.get('direct_ctl'))), us(med(pgcs.get(k, {}).get('direct_ctl'))),
                         json.dumps((p.get('direct_ctl') or {}).get('rpcs_per_call', '-'))))
    for k in ('3', '100', '1000'):
        p = pgc.get(k)
        if p:
            L.append('| (Patroni only) get_cluster from its KVCache, {} members | none | | | | | | {} | {} | 0 |'.format(
                k, us(med(p.get('cache'))), us(med(pgcs.get(k, {}).get('cache')))))
    ops = main_run.get('ops', {})
    for key, label, pkey in OPS:
        e = ops.get(key)
        if not e:
            continue
        ratio = e.get('ratio')
        if ratio is not None and ratio > RATIO_TARGET:
            misses.append('{}: libdcs / raw = {:.3f}'.format(label, ratio))
        pst = pb.get('ops', {}).get(pkey)
        pss = pbs.get('ops', {}).get(pkey)
        note = ''
        if key == 'ha_cycle':
            note = ' (Patroni: get_cluster from KVCache)'
        L.append('| {} | {} | {} | {} | {} | {} | {} | {} | {} | {}{} |'.format(
            label, e['requests'], us(med(e.get('raw'))), us(med(e['dcs'])),
            '{:.3f}'.format(ratio) if ratio else '-', us(e['dcs'].get('p99_us')), cpu(e), us(med(pst)), us(med(pss)),
            json.dumps((pst or {}).get('rpcs_per_call', '-')), note))

    ha = main_run.get('hacycle', {})
    hb = pb.get('haloop', {}).get('busy', {})
    L += ['', '## CPU per busy HA cycle (get_cluster + touch_member + update_leader(lsn), new data every cycle)', '',
          '| process | CPU µs per cycle (user + sys) | wall median µs | requests per cycle |', '|---|---|---|---|']
    if ha:
        L.append('| libdcs, `hacycle` section ({} cycles, all threads) | {} ({} + {}) | {} | {} |'.format(
            ha['cycles'], us(ha['dcs_cpu_us_per_cycle']), us(ha['dcs_cpu_user_us_per_cycle']),
            us(ha['dcs_cpu_sys_us_per_cycle']), us(med(ha['dcs_wall'])), ha['requests']))
        L.append('| raw floor: the same requests from libcurl, same process | {} ({} + {}) | {} | {} |'.format(
            us(ha['raw_cpu_us_per_cycle']), us(ha['raw_cpu_user_us_per_cycle']), us(ha['raw_cpu_sys_us_per_cycle']),
            us(med(ha['raw_wall'])), ha['requests']))
        L.append('| libdcs minus raw floor (libdcs\'s own work) | {} | | |'.format(
            us(ha['dcs_minus_raw_cpu_us_per_cycle'])))
        # libdcs's CPU is what the process spends beyond sending the same requests from libcurl.
        if ha['dcs_minus_raw_cpu_us_per_cycle'] > CPU_TARGET_US:
            misses.append('busy HA cycle: libdcs\'s own CPU {:.1f} µs per cycle ({:.1f} µs in total, of which the '
                          'raw requests take {:.1f} µs), target {} µs'.format(
                              ha['dcs_minus_raw_cpu_us_per_cycle'], ha['dcs_cpu_us_per_cycle'],
                              ha['raw_cpu_us_per_cycle'], CPU_TARGET_US))
    m = mem_run.get('memory', {})
    if m:
        L.append('| libdcs, `memory` section (fresh process, {} cycles) | {} | | |'.format(
            m['cycles'], us(m['cpu_us_per_cycle'])))
    if hb:
        L.append('| Patroni + NODELAY, `haloop` busy ({} iterations) | {} ({} + {}) | {} | {} |'.format(
            hb['iterations'], us(hb['cpu_us_per_iteration']), us(hb['cpu_user_s'] / hb['iterations'] * 1e6),
            us(hb['cpu_sys_s'] / hb['iterations'] * 1e6), us(med(hb['latency'])),
            json.dumps(hb.get('rpcs_per_iteration'))))
    if pmem:
        L.append('| Patroni + NODELAY, patroni_mem.py ({} iterations) | {} | {} | {} |'.format(
            pmem['iterations'], us(pmem['cpu_us_per_iteration']), us(med(pmem['latency'])),
            json.dumps(pmem.get('rpcs_per_iteration'))))

    # smaps_rollup's Private_* (kept in the JSON) is left out here: a library page mapped by no other
    # process counts as private, so it moves with whatever else happens to run on the machine.
    L += ['', '## Memory (MiB)', '',
          'RssAnon is the private memory (heap, stacks); RssFile is mostly shared-library pages.', '',
          '| process | VmRSS | RssAnon (private) | RssFile | VmHWM | threads |',
          '|---|---|---|---|---|---|']

    def mrow(label, x):
        if x:
            L.append('| {} | {} | {} | {} | {} | {} |'.format(
                label, mb(x.get('VmRSS_kB')), mb(x.get('RssAnon_kB')), mb(x.get('RssFile_kB')), mb(x.get('VmHWM_kB')),
                x.get('Threads', '-')))
    if m:
        mrow('libdcs: dcs_bench at start (nothing constructed)', m.get('at_start'))
        mrow('libdcs: after Etcd3 + touch_member + acquire', m.get('after_construct'))
        mrow('libdcs: after 1000 busy HA cycles', m.get('after_cycles'))
        mrow('bare libcurl + OpenSSL process after one request (floor)', m.get('bare_libcurl'))
        end = m.get('after_cycles') or {}
        if end.get('RssAnon_kB', 0) > ANON_TARGET_KB:
            misses.append('RssAnon {:.1f} MiB after the cycles, target 4 MiB'.format(end['RssAnon_kB'] / 1024))
        if end.get('VmRSS_kB', 0) > RSS_TARGET_KB:
            misses.append('VmRSS {:.1f} MiB after the cycles, target 16 MiB'.format(end['VmRSS_kB'] / 1024))
    if pmem:
        mrow('Patroni + NODELAY: after construct and 20 warm-up cycles', pmem.get('after_warmup'))
        mrow('Patroni + NODELAY: after {} busy HA cycles'.format(pmem['iterations']), pmem.get('after_cycles'))
    if hb:
        rs = hb['rss_kb']
        L.append('| Patroni `haloop` busy: VmRSS after loop / peak (RssAnon not reported there) | {} | | | {} | {} |'
                 .format(mb(rs['after_loop']), mb(rs['peak_VmHWM']), hb.get('threads', '-')))

    cache_section(L, misses, cache_run.get('cache', {}), pgc, pbw.get('watch', {}))

    L += ['', '## Targets', '']
    L.append('- every operation within {}x of its raw requests; a busy HA cycle under {} µs of libdcs CPU (process '
             'CPU per cycle minus that of the same requests sent raw); the HA-cycle process under 4 MiB RssAnon '
             'and 16 MiB VmRSS.'.format(RATIO_TARGET, CPU_TARGET_US))
    L.append('- watcher cache: get_cluster from the cache under {} µs at every size; under {} µs of watcher CPU per '
             'event at 1000 members; watch() returning within {} µs (p99 {} µs) of the event reaching the '
             'watcher.'.format(CACHE_GC_TARGET_US, CACHE_EVENT_TARGET_US, WAKE_P50_TARGET_US, WAKE_P99_TARGET_US))
    if misses:
        L += ['- **missed:**'] + ['  - ' + x for x in misses]
    else:
        L.append('- all met in this run.')
    with open(args.out, 'w') as f:
        f.write('\n'.join(L) + '\n')
    merged = {'env': env, 'libdcs': main_run, 'libdcs_memory': mem_run, 'patroni_nodelay': pb,
              'patroni_shipped': pbs, 'patroni_mem': pmem, 'libdcs_cache': cache_run, 'patroni_watch': pbw}
    with open(os.path.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(merged, f, indent=1)
    print('\n'.join(L))


if __name__ == '__main__':
    main()

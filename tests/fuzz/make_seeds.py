#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/.

The etcd answers come from the recorded traffic of a live etcd 3.4.23
(etcd-v3-json-api-observations.txt in the project's shared spec directory, given as the
argument); the Patroni values, cluster layouts and configurations are written here. The output
is committed, so CI (a clean clone without the spec directory) never runs this: re-run it only to
refresh the seeds. File names are the SHA-1 of the content, as libFuzzer names its own finds.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
MAX_SEED = 4096  # bigger recorded answers add nothing the fuzzer could not reach from small ones

corpus = {t: set() for t in ("fuzz_error_body", "fuzz_watch_stream", "fuzz_cluster_values", "fuzz_config",
                             "fuzz_get_cluster", "fuzz_yaml_config")}


def add(target, text):
    data = text.encode() if isinstance(text, str) else text
    if len(data) <= MAX_SEED:
        corpus[target].add(data)


def recorded(path):
    """Every JSON document of the transcript, grouped by section, in order."""
    sections, name = {}, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"=+ (\S+) =+", line)
            if m:
                name = m.group(1)
                continue
            start = line.find("{")
            if start < 0 or line.startswith(">>>") or "sent {" in line:
                continue
            text = line[start:].rstrip("\n")
            text = re.sub(r"curl rc=\d+$", "", text)  # a curl note glued to an unterminated body
            try:
                json.loads(text)
            except ValueError:
                continue
            sections.setdefault(name, []).append(text)
    return sections


def b64(text):
    return base64.b64encode(text.encode()).decode()


HEADER = {"cluster_id": "8443091972210274032", "member_id": "17184946936886216709", "revision": "40",
          "raft_term": "2"}


def range_answer(pairs, base="/service/demo/"):
    kvs = []
    for i, (key, value, lease) in enumerate(pairs):
        kv = {"key": b64(base + key), "create_revision": str(10 + i), "mod_revision": str(20 + i), "version": "1"}
        if value:
            kv["value"] = b64(value)
        if lease:
            kv["lease"] = lease
        kvs.append(kv)
    return json.dumps({"header": HEADER, "kvs": kvs, "count": str(len(kvs))}, separators=(",", ":"))


def member(host, role, state="running", **extra):
    data = {"conn_url": f"postgres://{host}:5432/postgres", "api_url": f"http://{host}:8008/patroni",
            "state": state, "role": role, "version": "3.0.2", "xlog_location": 50331648, "timeline": 2}
    data.update(extra)
    return json.dumps(data, separators=(",", ":"))


VALUES = {
    "config": '{"ttl":30,"loop_wait":10,"retry_timeout":10,"maximum_lag_on_failover":1048576,'
              '"postgresql":{"use_pg_rewind":true,"parameters":{"max_connections":100,"wal_level":"replica"}},'
              '"synchronous_mode":false,"failsafe_mode":true,"check_timeline":1.5e-05}',
    "initialize": "7165843289473925123",
    "leader": "pg1",
    "members/pg1": member("10.0.0.1", "primary"),
    "members/pg2": member("10.0.0.2", "replica", tags={"nofailover": True, "clonefrom": 1}),
    "members/pg3": member("10.0.0.3", "replica", state="streaming", tags={"failover_priority": "0"}),
    "members/old": "postgres://replicator:secret@10.0.0.9:5432/postgres?application_name=http%3A%2F%2F10.0.0.9%3A8008",
    "status": '{"optime":67108864,"slots":{"pg2":67108864,"logical_x":50331648},"retain_slots":["pg2","pg3"]}',
    "optime/leader": "67108864",
    "sync": '{"leader":"pg1","quorum":1,"sync_standby":"pg2,pg3"}',
    "history": '[[1,25165984,"no recovery target specified","2026-11-26T00:36:42.123+00:00","pg1"],'
               '[2,50331808,"no recovery target specified"]]',
    "failover": '{"leader":"pg1","member":"pg2","scheduled_at":"2026-11-26T01:00:00+00:00"}',
    "failsafe": '{"pg1":"http://10.0.0.1:8008/patroni","pg2":"http://10.0.0.2:8008/patroni"}',
}
ODD_VALUES = [
    "", "null", "[]", "{}", "1", "true", "-0.0", "1e400", "NaN", '"text"', "pg1:pg2", " pg1 : pg2 : x",
    '{"slots":"{\\"a\\":\\"12\\"}","retain_slots":"[\\"a\\"]","optime":"1_000"}',
    '{"leader":null,"sync_standby":null}', '{"leader":"PG1","sync_standby":" a, ,B ","quorum":"2"}',
    '{"leader":1}', '{"optime":true}', "\xef\xbb\xbf{}", "[" * 600, '{"a":"\\ud800"}',
    "postgres://h/db?application_name=&application_name=x+y%zz", '{"tags":{"nofailover":"no"},"version":"3.0"}',
    '{"xlog_location":18446744073709551615,"version":"3.0.2.1"}', "0", "01", "2147483648", "3.5.0-rc.1",
]


def seed_cluster():
    for key, value in VALUES.items():
        add("fuzz_cluster_values", value)
    for value in ODD_VALUES:
        add("fuzz_cluster_values", value)
    everything = [(k, v, "7587862846453342231" if k in ("leader",) or k.startswith("members/") else None)
                  for k, v in VALUES.items()]
    add("fuzz_get_cluster", range_answer(everything))
    add("fuzz_get_cluster", range_answer(everything[:4]))
    add("fuzz_get_cluster", range_answer([("leader", "pg9", "1"), ("members/pg1", VALUES["members/pg1"], None),
                                          ("members/pg1/x", "{}", None), ("status", "garbage", None),
                                          ("optime/leader", "5", None), ("leader", "pg1", "2")]))
    citus = [("0/leader", "coord", "5"), ("0/members/coord", member("10.0.1.1", "primary"), "5"),
             ("0/config", VALUES["config"], None), ("1/leader", "w1", "6"),
             ("1/members/w1", member("10.0.1.2", "primary"), "6"), ("2/initialize", "1", None),
             ("02/leader", "x", None), ("3/sync", VALUES["sync"], None)]
    add("fuzz_get_cluster", range_answer(citus))
    add("fuzz_get_cluster", json.dumps({"header": HEADER}))
    # Shapes only the general decoder takes: numbers instead of strings, nulls, an error object.
    add("fuzz_get_cluster", '{"header":{"revision":5},"kvs":[{"key":"L3NlcnZpY2UvZGVtby9sZWFkZXI=",'
                            '"value":"cGcx","mod_revision":7,"lease":null}],"more":false}')
    add("fuzz_get_cluster", '{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing"}}')


CONFIGS = [
    {"scope": "demo", "name": "pg1", "namespace": "/service/", "ttl": 30, "loop_wait": 10, "retry_timeout": 10,
     "etcd3": {"hosts": ["10.0.0.1:2379", "10.0.0.2:2379"], "protocol": "http"}},
    {"scope": "demo", "etcd3": {"url": "https://user:pw@etcd.example.com:2379", "cacert": "/nonexistent/ca.pem"}},
    {"etcd3": {"proxy": "http://[::1]:2379"}, "citus": {"group": 2, "database": "citus"}},
    {"etcd3": {"host": "127.0.0.1:2379", "port": 23790, "username": "root", "password": "x"}},
    {"etcd3": {"srv": "example.com", "srv_suffix": "prod", "startup_timeout": 0}, "patronictl": True},
    {"etcd3": {"hosts": "a:1,b:2,[fe80::1]:3", "use_proxies": "yes", "ttl": "30"}},
    {"etcd3": {"host": "h", "ttl": -1}},
    {"etcd3": {"hosts": [], "key": "k.pem"}},
    {"etcd3": {"url": "ftp://h:99999"}},
]


def to_yaml(value, indent=0):
    pad = "  " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.append(to_yaml(item, indent + 1))
        elif isinstance(item, list):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}- {x}" for x in item)
        elif isinstance(item, bool):
            lines.append(f"{pad}{key}: {'true' if item else 'false'}")
        else:
            lines.append(f"{pad}{key}: {item}")
    return "\n".join(lines)


def seed_config():
    for config in CONFIGS:
        add("fuzz_config", json.dumps(config))
        add("fuzz_yaml_config", to_yaml(config) + "\n")
    add("fuzz_yaml_config", "etcd3:\n  hosts: ['127.0.0.1:2379']\nttl: 0x1e\nloop_wait: +10\nscope: 'on'\n"
                            "name: ~\nretry_timeout: 1_0\ncitus: {group: .inf}\n")
    add("fuzz_yaml_config", "etcd3: &a {host: h}\nother: *a\nlist: [1, 2.5e3, yes, NO, null, '']\n")


def seed_errors(sections):
    for shape in ('{"error":"etcdserver: no leader","code":14}',
                  '{"code":14,"message":"etcdserver: request timed out"}',
                  '{"error":{"code":14,"message":"etcdserver: no leader"}}\n',
                  '{"error":"not a primary lessor","message":"not a primary lessor","code":2}',
                  '{"Error":{"grpc_code":"16","http_code":"401","message":"etcdserver: invalid auth token"}}',
                  '{"error":"context deadline exceeded","code":"4","Code":9}',
                  "upstream connect error or disconnect/reset before headers", ""):
        add("fuzz_error_body", shape)
    for docs in sections.values():
        for doc in docs:
            if '"error"' in doc:
                add("fuzz_error_body", doc)


def seed_etcd_answers(sections):
    for name, docs in sections.items():
        stream = [d for d in docs if d.startswith('{"result"') or d.startswith('{"error":{')]
        if name.startswith("watch") or name.startswith("ws_"):
            add("fuzz_watch_stream", "\n".join(stream) + "\n")
            add("fuzz_watch_stream", "".join(stream))  # newlines between documents are optional
            for doc in stream:
                add("fuzz_watch_stream", doc)
        for doc in docs:
            parsed = json.loads(doc)
            if "kvs" in parsed or "count" in parsed:
                add("fuzz_get_cluster", doc)
            elif "error" not in parsed and not name.startswith("watch"):
                add("fuzz_cluster_values", doc)
    add("fuzz_watch_stream", '{"result":{"events":[{"kv":{"key":"YQ==","value":"Yg==","mod_revision":"3"}}],'
                             '"fragment":true}}{"result":{"events":[{"type":1,"kv":{"key":"YQ=="}}]}}'
                             '{"result":{"canceled":true,"cancel_reason":"x","compact_revision":"2"}}')
    add("fuzz_watch_stream", '{"a":"\\"}{[","b":[{}]}  \r\n{"result":{}}{')


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py <shared spec dir>/etcd-v3-json-api-observations.txt")
    sections = recorded(sys.argv[1])
    seed_errors(sections)
    seed_etcd_answers(sections)
    seed_cluster()
    seed_config()
    for target, seeds in corpus.items():
        directory = os.path.join(OUT, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for data in seeds:
            with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()

"""A throw-away etcd cluster on free loopback ports, for scripts/torture.sh (Python 3 stdlib only).

Every member lives under one directory (data, log). Members are started, signalled and restarted
by the PID this module recorded, never by name, and a restarted member reuses its data directory
(etcd then ignores the --initial-cluster flags), so killing and restarting members never loses
acknowledged writes. etcd reads every ETCD_* environment variable as a flag, so those are removed
from the environment of the processes started here.
"""

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_ports(count):
    """`count` distinct loopback ports that are free right now (the kernel picks them)."""
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def b64(text):
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    return base64.b64decode(text or "").decode("utf-8", "replace")


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}


class Member:
    def __init__(self, name, directory, client_port, peer_port):
        self.name = name
        self.directory = directory
        self.client_url = f"http://127.0.0.1:{client_port}"
        self.peer_url = f"http://127.0.0.1:{peer_port}"
        self.proc = None
        self.stopped = False  # SIGSTOPped and not yet continued

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None


class EtcdCluster:
    """`size` etcd members (m1..mN) under `directory`."""

    def __init__(self, directory, size=3, etcd="etcd"):
        self.directory = directory
        self.etcd = etcd
        ports = free_ports(2 * size)
        self.members = [
            Member(f"m{i + 1}", directory, ports[2 * i], ports[2 * i + 1]) for i in range(size)
        ]
        self.token = f"torture-{ports[0]}"
        self.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self):
        return [m.client_url for m in self.members]

    def member(self, name):
        return next(m for m in self.members if m.name == name)

    def _spawn(self, m):
        os.makedirs(os.path.join(self.directory, m.name + ".data"), mode=0o700, exist_ok=True)
        log = open(os.path.join(self.directory, m.name + ".log"), "ab")
        args = [
            self.etcd, "--name", m.name, "--data-dir", os.path.join(self.directory, m.name + ".data"),
            "--listen-client-urls", m.client_url, "--advertise-client-urls", m.client_url,
            "--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url,
            "--initial-cluster", self.initial_cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", self.token, "--logger", "zap", "--log-outputs", "stderr",
        ]
        m.proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=clean_env())
        log.close()
        m.stopped = False

    def start(self, timeout=30):
        for m in self.members:
            self._spawn(m)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout=30):
        """Waits until every member answers a linearizable read (the cluster has a leader)."""
        deadline = time.time() + timeout
        pending = list(self.members)
        while pending:
            pending = [m for m in pending if not self.healthy(m)]
            if not pending:
                return
            if time.time() > deadline:
                raise RuntimeError("etcd members not healthy: " + ", ".join(m.name for m in pending))
            time.sleep(0.2)

    def healthy(self, m, timeout=2):
        try:
            self.request(m.client_url, "/v3/kv/range", {"key": b64("torture/health")}, timeout)
            return True
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False

    @staticmethod
    def request(url, path, body, timeout=5):
        data = json.dumps(body).encode()
        req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return json.loads(answer.read())

    def any_request(self, path, body, timeout=5, attempts=20):
        """`path` on the first member that answers; retried while the cluster heals."""
        last = None
        for _ in range(attempts):
            for m in self.members:
                if not m.running or m.stopped:
                    continue
                try:
                    return self.request(m.client_url, path, body, timeout)
                except Exception as e:  # noqa: BLE001
                    last = e
            time.sleep(0.5)
        raise RuntimeError(f"no etcd member answered {path}: {last}")

    def put(self, key, value):
        """Returns the revision of the put."""
        answer = self.any_request("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(answer["header"]["revision"])

    def kill(self, name):
        m = self.member(name)
        if m.running:
            m.proc.send_signal(signal.SIGCONT)
            m.proc.kill()
            m.proc.wait()
        m.stopped = False

    def freeze(self, name):
        m = self.member(name)
        if m.running:
            m.proc.send_signal(signal.SIGSTOP)
            m.stopped = True

    def thaw(self, name):
        m = self.member(name)
        if m.running:
            m.proc.send_signal(signal.SIGCONT)
        m.stopped = False

    def restart(self, name, graceful=False):
        """Stops the member if it runs (SIGTERM when graceful, else SIGKILL) and starts it again."""
        m = self.member(name)
        if m.running:
            m.proc.send_signal(signal.SIGCONT)
            if graceful:
                m.proc.terminate()
                try:
                    m.proc.wait(10)
                except subprocess.TimeoutExpired:
                    m.proc.kill()
            else:
                m.proc.kill()
            m.proc.wait()
        self._spawn(m)

    def stop(self):
        for m in self.members:
            if m.running:
                m.proc.send_signal(signal.SIGCONT)
                m.proc.terminate()
        for m in self.members:
            if m.proc is not None:
                try:
                    m.proc.wait(10)
                except subprocess.TimeoutExpired:
                    m.proc.kill()
                    m.proc.wait()


class HistoryWatcher:
    """Records etcd's own history of every key from `start_revision` on, as JSON lines
    {"ts", "rev", "type", "key", "value", "lease", "create_revision"} where ts is when this watcher
    received the event (wall clock). Runs on a thread; when a stream fails or stays silent it
    re-opens on the next member from the last revision + 1, so nothing is skipped (the cluster is
    never compacted). `until(key)` waits for a sentinel key's event: once seen, every earlier
    revision has been recorded."""

    def __init__(self, cluster, start_revision, path, silence=3.0, on_event=None):
        import threading

        self.on_event = on_event  # called on the watcher's thread with each record

        self.cluster = cluster
        self.next_revision = start_revision
        self.out = open(path, "a", buffering=1)
        self.silence = silence
        self.lock = threading.Lock()
        self.seen_keys = set()
        self.done = False
        self.reconnects = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        import http.client
        import urllib.parse

        index = 0
        while not self.done:
            m = self.cluster.members[index % len(self.cluster.members)]
            index += 1
            url = urllib.parse.urlparse(m.client_url)
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=self.silence)
            try:
                body = json.dumps({"create_request": {
                    "key": b64("\0"), "range_end": b64("\0"), "start_revision": self.next_revision}})
                conn.request("POST", "/v3/watch", body, {"Content-Type": "application/json"})
                answer = conn.getresponse()
                if answer.status != 200:
                    raise RuntimeError(f"watch answered HTTP {answer.status}")
                while not self.done:
                    line = answer.readline()
                    if not line:
                        break
                    self._consume(json.loads(line))
            except Exception:  # noqa: BLE001 - silence, refusal, frozen member: try the next one
                pass
            finally:
                conn.close()
            self.reconnects += 1
            if not self.done:
                time.sleep(0.1)

    def _consume(self, message):
        result = message.get("result", message)
        if result.get("canceled"):
            raise RuntimeError("watch canceled: " + str(result.get("cancel_reason")))
        now = time.time()
        last = self.next_revision - 1
        for event in result.get("events", []):
            kv = event["kv"]
            rev = int(kv.get("mod_revision", 0))
            if rev < self.next_revision:
                continue  # a re-opened stream repeats nothing we have, but be sure
            key = unb64(kv.get("key"))
            record = {
                "ts": now, "rev": rev, "type": event.get("type", "PUT"), "key": key,
                "value": unb64(kv.get("value")), "lease": int(kv.get("lease", 0)),
                "create_revision": int(kv.get("create_revision", 0)),
            }
            self.out.write(json.dumps(record) + "\n")
            if self.on_event:
                self.on_event(record)
            with self.lock:
                self.seen_keys.add(key)
            last = max(last, rev)
        # Events of one revision (a transaction) arrive in one message: the next stream starts
        # after the last revision of this one.
        self.next_revision = last + 1

    def until(self, key, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if key in self.seen_keys:
                    return True
            time.sleep(0.1)
        return False

    def stop(self):
        self.done = True
        self.thread.join(self.silence + 2)
        self.out.close()

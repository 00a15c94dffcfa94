"""A Python exporter doing redis-ocsp-exporter's job, as a Python engineer would write it with
prometheus_client: a background thread polls every cluster into a cached snapshot, a custom
collector turns the snapshot into metric families on each scrape, and prometheus_client's
own HTTP server serves them (gzip included). A yardstick for bench/run."""
import argparse
import base64
import bisect
import email.utils
import json
import ssl
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily, HistogramMetricFamily

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
ENDPOINTS = [("config", "/v1/ocsp"), ("status", "/v1/ocsp/status"), ("nodes", "/v1/nodes")]


class Endpoint:
    def __init__(self):
        self.up = False
        self.last_success = None
        self.buckets = [0] * (len(BOUNDS) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, seconds, ok):
        self.buckets[bisect.bisect_left(BOUNDS, seconds)] += 1
        self.sum += seconds
        self.count += 1
        self.up = ok
        if ok:
            self.last_success = time.time()


class Cluster:
    def __init__(self, name, url):
        self.name, self.url = name, url
        self.config = self.status = self.nodes = None
        self.endpoints = {name: Endpoint() for name, _ in ENDPOINTS}


class Poller:
    def __init__(self, clusters, context, auth):
        self.clusters, self.context, self.auth = clusters, context, auth
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=8)

    def fetch(self, cluster, path):
        request = urllib.request.Request(cluster.url + path, headers={"Authorization": self.auth})
        start = time.monotonic()
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=10) as response:
                return json.load(response), time.monotonic() - start
        except Exception:
            return None, time.monotonic() - start

    def poll(self, cluster):
        results = [self.fetch(cluster, path) for _, path in ENDPOINTS]
        with self.lock:
            for (name, _), (value, seconds) in zip(ENDPOINTS, results):
                cluster.endpoints[name].observe(seconds, value is not None)
            cluster.config, cluster.status, cluster.nodes = (value for value, _ in results)

    def run(self, interval):
        while True:
            list(self.pool.map(self.poll, self.clusters))
            time.sleep(interval)


def timestamp(text):
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None


class Collector:
    def __init__(self, poller):
        self.poller = poller

    def collect(self):
        def gauge(name, help_text, labels):
            return GaugeMetricFamily(name, help_text, labels=["cluster"] + labels)

        g = {
            "enabled": gauge("redis_ocsp_enabled", "1 if OCSP stapling is enabled.", []),
            "responder": gauge("redis_ocsp_responder_url_configured", "1 if a responder URL is configured.", []),
            "info": gauge("redis_ocsp_config_info", "OCSP configuration; always 1.", ["responder_url"]),
            "query_frequency": gauge("redis_ocsp_query_frequency_seconds", "query_frequency.", []),
            "response_timeout": gauge("redis_ocsp_response_timeout_seconds", "response_timeout.", []),
            "recovery_frequency": gauge("redis_ocsp_recovery_frequency_seconds", "recovery_frequency.", []),
            "recovery_max_tries": gauge("redis_ocsp_recovery_max_tries", "recovery_max_tries.", []),
            "cert_status": gauge("redis_ocsp_cert_status", "Cached OCSP status.", ["status"]),
            "produced_at": gauge("redis_ocsp_produced_at_timestamp_seconds", "produced_at.", []),
            "this_update": gauge("redis_ocsp_this_update_timestamp_seconds", "this_update.", []),
            "next_update": gauge("redis_ocsp_next_update_timestamp_seconds", "next_update.", []),
            "supported": gauge("redis_ocsp_supported", "1 once an OCSP endpoint answered.", []),
            "node_info": gauge("redis_ocsp_node_info", "One series per node.", ["node", "addr", "software_version", "node_status"]),
            "nodes": gauge("redis_ocsp_nodes", "Number of nodes.", []),
            "up": gauge("redis_ocsp_api_up", "1 if the last request succeeded.", ["endpoint"]),
            "last_success": gauge("redis_ocsp_last_success_timestamp_seconds", "Unix time of the last success.", ["endpoint"]),
        }
        duration = HistogramMetricFamily("redis_ocsp_api_request_duration_seconds", "REST API request latency.",
                                         labels=["cluster", "endpoint"])
        with self.poller.lock:
            for c in self.poller.clusters:
                n = [c.name]
                if c.config is not None:
                    url = c.config.get("responder_url") or ""
                    g["enabled"].add_metric(n, 1 if c.config.get("ocsp_functionality") else 0)
                    g["responder"].add_metric(n, 1 if url else 0)
                    g["info"].add_metric(n + [url], 1)
                    for key in ("query_frequency", "response_timeout", "recovery_frequency", "recovery_max_tries"):
                        if key in c.config:
                            g[key].add_metric(n, c.config[key])
                if c.status is not None:
                    current = str(c.status.get("cert_status", "")).upper()
                    for status in ("GOOD", "REVOKED", "UNKNOWN"):
                        g["cert_status"].add_metric(n + [status], 1 if current == status else 0)
                    for key in ("produced_at", "this_update", "next_update"):
                        value = timestamp(c.status.get(key))
                        if value is not None:
                            g[key].add_metric(n, value)
                if c.config is not None or c.status is not None:
                    g["supported"].add_metric(n, 1)
                if c.nodes is not None:
                    for node in c.nodes:
                        g["node_info"].add_metric(n + [str(node.get("uid")), node.get("addr", ""), node.get("software_version", ""),
                                                       node.get("status", "")], 1)
                    g["nodes"].add_metric(n, len(c.nodes))
                for name, _ in ENDPOINTS:
                    e = c.endpoints[name]
                    g["up"].add_metric(n + [name], 1 if e.up else 0)
                    running, buckets = 0, []
                    for bound, count in zip(BOUNDS + [float("inf")], e.buckets):
                        running += count
                        buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
                    duration.add_metric(n + [name], buckets, e.sum)
                    if e.last_success is not None:
                        g["last_success"].add_metric(n + [name], e.last_success)
        yield from g.values()
        yield duration


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", required=True, help='file with one "name url" per line')
    parser.add_argument("--ca", required=True)
    parser.add_argument("--port", type=int, default=9102)
    parser.add_argument("--interval", type=float, default=30)
    args = parser.parse_args()
    with open(args.clusters) as f:
        clusters = [Cluster(*line.split()) for line in f if line.strip()]
    context = ssl.create_default_context(cafile=args.ca)
    auth = "Basic " + base64.b64encode(b"ocsp-monitor@example.com:simulated").decode()
    poller = Poller(clusters, context, auth)
    REGISTRY.register(Collector(poller))
    threading.Thread(target=poller.run, args=(args.interval,), daemon=True).start()
    start_http_server(args.port, addr="127.0.0.1")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

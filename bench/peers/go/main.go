// A Go exporter doing redis-ocsp-exporter's job, as a Go engineer would write it with
// client_golang: background polling into a cached snapshot, const metrics from that
// snapshot on each scrape, promhttp for serving (gzip included). A yardstick for bench/run.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type endpointState struct {
	up          bool
	lastSuccess float64
	buckets     map[float64]uint64
	sum         float64
	count       uint64
}

type clusterState struct {
	config    map[string]any
	status    map[string]any
	nodes     []map[string]any
	endpoints map[string]*endpointState
}

type exporter struct {
	mu       sync.Mutex
	names    []string
	urls     map[string]string
	state    map[string]*clusterState
	client   *http.Client
	user     string
	password string
}

var bounds = prometheus.DefBuckets
var endpoints = []struct{ name, path string }{{"config", "/v1/ocsp"}, {"status", "/v1/ocsp/status"}, {"nodes", "/v1/nodes"}}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append([]string{"cluster"}, labels...), nil)
}

var (
	enabledDesc      = desc("redis_ocsp_enabled", "1 if OCSP stapling is enabled.")
	responderDesc    = desc("redis_ocsp_responder_url_configured", "1 if a responder URL is configured.")
	configInfoDesc   = desc("redis_ocsp_config_info", "OCSP configuration; always 1.", "responder_url")
	queryFreqDesc    = desc("redis_ocsp_query_frequency_seconds", "query_frequency.")
	respTimeoutDesc  = desc("redis_ocsp_response_timeout_seconds", "response_timeout.")
	recoveryFreqDesc = desc("redis_ocsp_recovery_frequency_seconds", "recovery_frequency.")
	recoveryMaxDesc  = desc("redis_ocsp_recovery_max_tries", "recovery_max_tries.")
	certStatusDesc   = desc("redis_ocsp_cert_status", "Cached OCSP status.", "status")
	producedDesc     = desc("redis_ocsp_produced_at_timestamp_seconds", "produced_at.")
	thisUpdateDesc   = desc("redis_ocsp_this_update_timestamp_seconds", "this_update.")
	nextUpdateDesc   = desc("redis_ocsp_next_update_timestamp_seconds", "next_update.")
	supportedDesc    = desc("redis_ocsp_supported", "1 once an OCSP endpoint answered.")
	nodeInfoDesc     = desc("redis_ocsp_node_info", "One series per node.", "node", "addr", "software_version", "node_status")
	nodesDesc        = desc("redis_ocsp_nodes", "Number of nodes.")
	upDesc           = desc("redis_ocsp_api_up", "1 if the last request succeeded.", "endpoint")
	durationDesc     = desc("redis_ocsp_api_request_duration_seconds", "REST API request latency.", "endpoint")
	lastSuccessDesc  = desc("redis_ocsp_last_success_timestamp_seconds", "Unix time of the last success.", "endpoint")
)

func (e *exporter) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(e, ch) }

func (e *exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, name := range e.names {
		s := e.state[name]
		if s == nil {
			continue
		}
		if c := s.config; c != nil {
			url, _ := c["responder_url"].(string)
			gauge(enabledDesc, boolValue(c["ocsp_functionality"] == true), name)
			gauge(responderDesc, boolValue(url != ""), name)
			gauge(configInfoDesc, 1, name, url)
			gauge(queryFreqDesc, number(c["query_frequency"]), name)
			gauge(respTimeoutDesc, number(c["response_timeout"]), name)
			gauge(recoveryFreqDesc, number(c["recovery_frequency"]), name)
			gauge(recoveryMaxDesc, number(c["recovery_max_tries"]), name)
		}
		if st := s.status; st != nil {
			current, _ := st["cert_status"].(string)
			for _, status := range []string{"GOOD", "REVOKED", "UNKNOWN"} {
				gauge(certStatusDesc, boolValue(strings.ToUpper(current) == status), name, status)
			}
			for field, d := range map[string]*prometheus.Desc{"produced_at": producedDesc, "this_update": thisUpdateDesc, "next_update": nextUpdateDesc} {
				if text, ok := st[field].(string); ok {
					if t, err := http.ParseTime(text); err == nil {
						gauge(d, float64(t.Unix()), name)
					}
				}
			}
		}
		if s.config != nil || s.status != nil {
			gauge(supportedDesc, 1, name)
		}
		if s.nodes != nil {
			for _, n := range s.nodes {
				addr, _ := n["addr"].(string)
				version, _ := n["software_version"].(string)
				status, _ := n["status"].(string)
				gauge(nodeInfoDesc, 1, name, fmt.Sprint(number(n["uid"])), addr, version, status)
			}
			gauge(nodesDesc, float64(len(s.nodes)), name)
		}
		for _, ep := range endpoints {
			h := s.endpoints[ep.name]
			gauge(upDesc, boolValue(h.up), name, ep.name)
			cumulative := map[float64]uint64{}
			var running uint64
			for _, b := range bounds {
				running += h.buckets[b]
				cumulative[b] = running
			}
			ch <- prometheus.MustNewConstHistogram(durationDesc, h.count, h.sum, cumulative, name, ep.name)
			if h.lastSuccess > 0 {
				gauge(lastSuccessDesc, h.lastSuccess, name, ep.name)
			}
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func number(v any) float64 {
	f, _ := v.(float64)
	return f
}

func (e *exporter) fetch(base, path string, into any) error {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(e.user, e.password)
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

func (e *exporter) poll(name string) {
	base := e.urls[name]
	var wg sync.WaitGroup
	results := make([]any, len(endpoints))
	durations := make([]float64, len(endpoints))
	errs := make([]error, len(endpoints))
	for i, ep := range endpoints {
		wg.Add(1)
		go func(i int, path string) {
			defer wg.Done()
			start := time.Now()
			if path == "/v1/nodes" {
				var nodes []map[string]any
				errs[i] = e.fetch(base, path, &nodes)
				results[i] = nodes
			} else {
				var object map[string]any
				errs[i] = e.fetch(base, path, &object)
				results[i] = object
			}
			durations[i] = time.Since(start).Seconds()
		}(i, ep.path)
	}
	wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.state[name]
	now := float64(time.Now().Unix())
	for i, ep := range endpoints {
		h := s.endpoints[ep.name]
		h.count++
		h.sum += durations[i]
		for _, b := range bounds {
			if durations[i] <= b {
				h.buckets[b]++
				break
			}
		}
		h.up = errs[i] == nil
		if h.up {
			h.lastSuccess = now
		}
	}
	s.config, _ = results[0].(map[string]any)
	s.status, _ = results[1].(map[string]any)
	s.nodes, _ = results[2].([]map[string]any)
	if errs[0] != nil {
		s.config = nil
	}
	if errs[1] != nil {
		s.status = nil
	}
	if errs[2] != nil {
		s.nodes = nil
	}
}

func main() {
	clustersFile := flag.String("clusters", "", "file with one \"name url\" per line")
	caFile := flag.String("ca", "", "PEM CA of the clusters")
	listen := flag.String("listen", "127.0.0.1:9101", "listen address")
	interval := flag.Duration("interval", 30*time.Second, "poll interval")
	flag.Parse()
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(*caFile)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		log.Fatalf("cannot read CA %s: %v", *caFile, err)
	}
	e := &exporter{
		urls: map[string]string{}, state: map[string]*clusterState{}, user: "ocsp-monitor@example.com", password: "simulated",
		// One connection per cluster, kept between polls (the exporter's default up to 1,000
		// clusters): one for each of the three requests took 30,000 descriptors at 10,000
		// clusters, and where a process may open 20,000 a third of the polls failed.
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, IdleConnTimeout: 90 * time.Second,
		}},
	}
	lines, err := os.ReadFile(*clustersFile)
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		fields := strings.Fields(line)
		e.names = append(e.names, fields[0])
		e.urls[fields[0]] = fields[1]
		s := &clusterState{endpoints: map[string]*endpointState{}}
		for _, ep := range endpoints {
			s.endpoints[ep.name] = &endpointState{buckets: map[float64]uint64{}}
		}
		e.state[fields[0]] = s
	}
	for _, name := range e.names {
		go func(name string) {
			for {
				e.poll(name)
				time.Sleep(*interval)
			}
		}(name)
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(e, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	http.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	log.Fatal(http.ListenAndServe(*listen, nil))
}

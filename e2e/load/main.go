// Command load drives a running asyncfn emulator (asyncfn local start) through
// its native JSON API and reports what BENCHMARKS.md records.
//
//	go run ./e2e/load -mode accept  [-clients N | -rate R] [-duration D] [-payload B] [-wait]
//	                                [-front native|lambda|scf] [-credentials ID:KEY] [-unsigned] [-no-deploy]
//	go run ./e2e/load -mode tail    [-subscribers N] [-lines-per-sec L] [-duration D]
//	go run ./e2e/load -mode running [-events K] [-runtime provided|python|node] [-sync-invokes M]
//	go run ./e2e/load -mode list    -seed N -state-dir DIR   (before the emulator starts on DIR)
//	go run ./e2e/load -mode list    [-queries 20]            (against the emulator on DIR)
//
// -front lambda POSTs /2015-03-31/functions/{name}/invocations with
// X-Amz-Invocation-Type: Event, SigV4-signed with -credentials
// (aws-sdk-go-v2's signer); -front scf POSTs / with X-TC-Action: Invoke,
// InvocationType Event, TC3-HMAC-SHA256-signed. With -credentials the native
// API calls (deploy, event queries) carry them as HTTP Basic auth, as the
// emulator started with --credentials requires. -unsigned sends the cloud
// requests without a signature; -no-deploy (with -function) drives an endpoint
// that is not an asyncfn emulator, e.g. serverless-offline's Lambda port.
//
// Every mode deploys its own function (bench-accept, bench-tail, bench-sleep,
// bench-noop, bench-list) and reads the emulator's RSS and CPU time from
// /proc: give -pid, or the process listening on -url's port is found through
// /proc/net/tcp and /proc/*/fd. It only talks to loopback. Request loops are
// bounded in count (-max-requests) and time (-duration, -wait-timeout).
//
// Output: a human summary on stdout; with -json one JSON object on stdout and
// the summary on stderr.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/store"
)

type options struct {
	url      string
	mode     string
	jsonOut  bool
	pid      int
	function string

	// accept
	clients     int
	rate        float64
	duration    time.Duration
	payload     int
	wait        bool
	waitTimeout time.Duration
	reserved    int
	maxRequests int
	warmup      int
	e2eMax      int

	front       string
	credentials string
	unsigned    bool
	region      string
	provider    string
	noDeploy    bool

	// tail
	subscribers int
	linesPerSec int

	// running
	events       int
	runtimeName  string
	sleep        time.Duration
	minFreeMB    int
	syncInvokes  int
	leave        bool
	rampStep     int
	rampTimeout  time.Duration
	noopRuntime  string
	overheadOnly bool

	// list
	seed     int
	stateDir string
	queries  int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9770", "the emulator's base `URL` (loopback only)")
	flag.StringVar(&o.mode, "mode", "accept", "accept | tail | running | list")
	flag.BoolVar(&o.jsonOut, "json", false, "print one JSON object on stdout (the summary goes to stderr)")
	flag.IntVar(&o.pid, "pid", 0, "the emulator's `PID` (default: the process listening on -url's port)")
	flag.StringVar(&o.function, "function", "", "function name (default bench-<mode>)")
	flag.IntVar(&o.clients, "clients", 16, "accept: closed-loop clients; with -rate, the most requests in flight")
	flag.Float64Var(&o.rate, "rate", 0, "accept: offered load in invokes/s (open loop); 0 = closed loop")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "accept/tail: how long to offer load")
	flag.IntVar(&o.payload, "payload", 128, "accept: payload size in `bytes` (a JSON object)")
	flag.BoolVar(&o.wait, "wait", false, "accept: wait for every accepted event to finish; report completions/s and end-to-end latency")
	flag.DurationVar(&o.waitTimeout, "wait-timeout", 5*time.Minute, "accept: give up waiting for completions after this long")
	flag.IntVar(&o.reserved, "reserved", 100, "accept: the function's reservedConcurrency (0 = accept only, nothing runs)")
	flag.IntVar(&o.maxRequests, "max-requests", 1_000_000, "accept: stop after this many requests")
	flag.IntVar(&o.warmup, "warmup", 0, "accept: before measuring, send `N` async invokes and wait until they all finished (starts the warm instances)")
	flag.IntVar(&o.e2eMax, "e2e-max", 50_000, "accept -wait: read at most this many events for end-to-end latency")
	flag.StringVar(&o.front, "front", "native", "accept: the API to invoke through: native, lambda (SigV4) or scf (TC3)")
	flag.StringVar(&o.credentials, "credentials", "", "`ID:KEY` the emulator was started with (--credentials): signs the cloud fronts, Basic auth for the native API")
	flag.BoolVar(&o.unsigned, "unsigned", false, "accept: send the cloud-front invokes unsigned")
	flag.StringVar(&o.region, "region", "", "accept: region to sign for (default us-east-1; ap-guangzhou for -front scf)")
	flag.StringVar(&o.provider, "provider", "", "accept: the deployed function's provider, aws or tencent (default tencent for -front scf, else aws)")
	flag.BoolVar(&o.noDeploy, "no-deploy", false, "accept: the endpoint is not an asyncfn emulator (a peer): no health check, deploy or event queries; -function names its function")
	flag.IntVar(&o.subscribers, "subscribers", 100, "tail: concurrent /v1/logs/stream subscribers")
	flag.IntVar(&o.linesPerSec, "lines-per-sec", 1000, "tail: lines per second the function prints (in total)")
	flag.IntVar(&o.events, "events", 1000, "running: async events to hold RUNNING at once")
	flag.StringVar(&o.runtimeName, "runtime", "provided", "running: sleeping handler's runtime: provided (Go, aws-lambda-go), python or node")
	flag.DurationVar(&o.sleep, "sleep", 5*time.Minute, "running: how long each sleeping handler sleeps")
	flag.IntVar(&o.minFreeMB, "min-free-mb", 6144, "running: stop starting events when MemAvailable falls below this many MB")
	flag.IntVar(&o.syncInvokes, "sync-invokes", 200, "running: timed warm sync invokes of a no-op handler (0 = skip)")
	flag.BoolVar(&o.leave, "leave", false, "running: leave the sleeping events RUNNING (default: terminate them)")
	flag.IntVar(&o.rampStep, "ramp-step", 100, "running: events started per step before checking memory")
	flag.DurationVar(&o.rampTimeout, "ramp-timeout", 3*time.Minute, "running: give up waiting for RUNNING after this long")
	flag.StringVar(&o.noopRuntime, "noop-runtime", "node", "running: runtime of the no-op handler for the warm-invoke overhead: node, python or provided")
	flag.BoolVar(&o.overheadOnly, "overhead-only", false, "running: only measure the warm-invoke overhead (same as -events 0)")
	flag.IntVar(&o.seed, "seed", 0, "list: insert `N` events directly into -state-dir (the emulator must not be running on it) and exit")
	flag.StringVar(&o.stateDir, "state-dir", "", "list -seed: the emulator's state directory")
	flag.IntVar(&o.queries, "queries", 20, "list: timed repetitions of each query")
	flag.Parse()
	if o.function == "" {
		o.function = "bench-" + o.mode
		if o.mode == "running" {
			o.function = "bench-sleep"
		}
	}
	if o.overheadOnly {
		o.events = 0
	}
	res := &result{vals: map[string]any{}}
	res.set("mode", o.mode)
	res.set("loadavgBefore", loadavg())
	var err error
	ctx := context.Background()
	if o.mode == "list" && o.seed > 0 {
		err = seed(ctx, &o, res)
	} else {
		if err = checkLoopback(o.url); err == nil {
			err = run(ctx, &o, res)
		}
	}
	res.set("loadavgAfter", loadavg())
	out, summary := os.Stdout, os.Stdout
	if o.jsonOut {
		summary = os.Stderr
	}
	res.print(summary)
	if o.jsonOut {
		if err != nil {
			res.vals["error"] = err.Error()
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.Encode(res.vals)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options, res *result) error {
	b := newBench(o)
	if o.noDeploy {
		if o.mode != "accept" || o.wait || o.warmup > 0 {
			return errors.New("-no-deploy works with -mode accept only, without -wait or -warmup")
		}
	} else if err := b.health(ctx); err != nil {
		return err
	}
	pid := o.pid
	if pid == 0 {
		p, err := pidByURL(o.url)
		if err != nil {
			return fmt.Errorf("find the emulator's pid (give -pid): %w", err)
		}
		pid = p
	}
	b.pid = pid
	res.set("emulatorPid", pid)
	res.set("nproc", runtime.NumCPU())
	switch o.mode {
	case "accept":
		return b.accept(ctx, res)
	case "tail":
		return b.tail(ctx, res)
	case "running":
		return b.running(ctx, res)
	case "list":
		return b.list(ctx, res)
	}
	return fmt.Errorf("unknown -mode %q (accept, tail, running, list)", o.mode)
}

// ---------------------------------------------------------------------------
// results

type result struct {
	keys []string
	vals map[string]any
}

func (r *result) set(k string, v any) {
	if _, ok := r.vals[k]; !ok {
		r.keys = append(r.keys, k)
	}
	r.vals[k] = v
}

func (r *result) print(w io.Writer) {
	for _, k := range r.keys {
		v := r.vals[k]
		switch x := v.(type) {
		case float64:
			fmt.Fprintf(w, "%-28s %.3f\n", k+":", x)
		case map[string]any, []any, []map[string]any, map[string]int:
			b, _ := json.Marshal(x)
			fmt.Fprintf(w, "%-28s %s\n", k+":", b)
		default:
			fmt.Fprintf(w, "%-28s %v\n", k+":", x)
		}
	}
}

// ms rounds a duration to milliseconds with µs precision, for reports.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// pct returns the nearest-rank p-th percentile of sorted ds.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func latencySummary(ds []time.Duration) map[string]any {
	slices.Sort(ds)
	if len(ds) == 0 {
		return map[string]any{"n": 0}
	}
	return map[string]any{"n": len(ds), "p50Ms": ms(pct(ds, 50)), "p95Ms": ms(pct(ds, 95)), "p99Ms": ms(pct(ds, 99)),
		"p999Ms": ms(pct(ds, 99.9)), "maxMs": ms(ds[len(ds)-1])}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ---------------------------------------------------------------------------
// /proc

// clkTck is USER_HZ, 100 on every Linux architecture Go supports.
const clkTck = 100

type procSample struct {
	rssKB, hwmKB int64
	threads      int64
	cpu          time.Duration // utime + stime
	childCPU     time.Duration // cutime + cstime: children that exited and were waited for
	at           time.Time
}

func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.rssKB = n
		case "VmHWM":
			s.hwmKB = n
		case "Threads":
			s.threads = n
		}
	}
	_, fields, err := statFields(pid)
	if err != nil {
		return s, err
	}
	// fields[0] is field 3 (state): utime is field 14, stime 15.
	if len(fields) > 12 {
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		s.cpu = time.Duration(ut+stime) * time.Second / clkTck
	}
	if len(fields) > 14 {
		cut, _ := strconv.ParseInt(fields[13], 10, 64)
		cst, _ := strconv.ParseInt(fields[14], 10, 64)
		s.childCPU = time.Duration(cut+cst) * time.Second / clkTck
	}
	return s, nil
}

// statFields reads /proc/pid/stat: the comm and the fields after it (from
// field 3, state, on).
func statFields(pid int) (string, []string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", nil, err
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return s[open+1 : end], strings.Fields(s[end+1:]), nil
}

type treeSample struct {
	procs int
	rssKB int64
	cpu   time.Duration
}

// descendants sums RSS and CPU time over every live descendant of pid (not pid itself).
func descendants(pid int) treeSample {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		_, f, err := statFields(n)
		if err != nil || len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[n] = pp
	}
	var t treeSample
	for p := range parent {
		q, seen := p, 0
		for q > 1 && seen < 64 {
			q = parent[q]
			seen++
			if q == pid {
				if s, err := readProc(p); err == nil {
					t.procs++
					t.rssKB += s.rssKB
					t.cpu += s.cpu
				}
				break
			}
		}
	}
	return t
}

func memAvailableMB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemAvailable:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n / 1024
			}
		}
	}
	return -1
}

// pidByURL finds the process that listens on the URL's port: the socket's
// inode from /proc/net/tcp{,6}, then the process holding it in /proc/*/fd.
func pidByURL(raw string) (int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("no port in %s", raw)
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A = LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", port)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && inodes[l] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process holds the socket listening on port %d (try -pid)", port)
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-url %q is not a loopback address: this program only loads a local emulator", raw)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// emulator client

type bench struct {
	o     *options
	base  string
	hc    *http.Client
	pid   int
	front *front // -mode accept
}

func newBench(o *options) *bench {
	conns := max(o.clients, o.subscribers, 64) + 16
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	return &bench{o: o, base: strings.TrimRight(o.url, "/"), hc: &http.Client{Transport: tr}}
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (b *bench) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id, key, ok := strings.Cut(b.o.credentials, ":"); ok {
		req.SetBasicAuth(id, key)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (b *bench) health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := b.do(ctx, "GET", "/v1/health", nil, nil); err != nil {
		return fmt.Errorf("the emulator at %s does not answer (start it with asyncfn local start): %w", b.base, err)
	}
	return nil
}

type fnSpec struct {
	name, runtime, handler string
	files                  map[string]string // path -> content
	execs                  map[string]string // path -> existing file to copy, mode 0755
	reserved               int
	timeout                int
	memory                 int
	provider               string // aws (default) or tencent
}

// deploy zips the files with artifact.Build and PUTs the function.
func (b *bench) deploy(ctx context.Context, f fnSpec) error {
	dir, err := os.MkdirTemp("", "asyncfn-load-fn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for p, content := range f.files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for p, src := range f.execs {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p), data, 0o755); err != nil {
			return err
		}
	}
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		return err
	}
	retries := 0
	provider := f.provider
	if provider == "" {
		provider = "aws"
	}
	cfg := map[string]any{
		"name": f.name, "provider": provider, "runtime": f.runtime, "handler": f.handler,
		"memorySize": cmp(f.memory, 128), "timeout": cmp(f.timeout, 60),
		"reservedConcurrency": f.reserved,
		"async":               map[string]any{"retryAttempts": retries},
	}
	// An identical redeploy would still make a new version and discard the
	// warm instances: keep the deployed one when code and settings match.
	var cur struct {
		CodeSHA256 string         `json:"codeSha256"`
		Config     map[string]any `json:"config"`
	}
	if _, err := b.do(ctx, "GET", "/v1/functions/"+url.PathEscape(f.name), nil, &cur); err == nil && cur.CodeSHA256 == info.SHA256 {
		rc, _ := cur.Config["reservedConcurrency"].(float64)
		to, _ := cur.Config["timeout"].(float64)
		if int(rc) == f.reserved && int(to) == cmp(f.timeout, 60) && cur.Config["runtime"] == f.runtime && cur.Config["provider"] == provider {
			return nil
		}
	}
	body, _ := json.Marshal(map[string]any{"config": cfg, "zip": base64.StdEncoding.EncodeToString(zip)})
	_, err = b.do(ctx, "PUT", "/v1/functions/"+url.PathEscape(f.name), body, nil)
	return err
}

func cmpStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

type eventInfo struct {
	RequestID  string       `json:"requestId"`
	Status     event.Status `json:"status"`
	CreatedAt  time.Time    `json:"createdAt"`
	StartedAt  *time.Time   `json:"startedAt"`
	EndedAt    *time.Time   `json:"endedAt"`
	DurationMs int64        `json:"durationMs"`
	Result     json.RawMessage
}

type eventList struct {
	Events []eventInfo `json:"events"`
	Total  int         `json:"total"`
}

// count returns the number of the function's events matching the query.
func (b *bench) count(ctx context.Context, fn, query string) (int, error) {
	var l eventList
	_, err := b.do(ctx, "GET", "/v1/functions/"+url.PathEscape(fn)+"/events?limit=1&"+query, nil, &l)
	return l.Total, err
}

func (b *bench) invoke(ctx context.Context, fn, typ string, payload []byte) (eventInfo, error) {
	var ev eventInfo
	_, err := b.do(ctx, "POST", "/v1/functions/"+url.PathEscape(fn)+"/invocations?type="+typ, payload, &ev)
	return ev, err
}

func (b *bench) sample() procSample {
	s, err := readProc(b.pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: read /proc/%d: %v\n", b.pid, err)
	}
	return s
}

func (b *bench) reportProc(res *result, before, after procSample) {
	res.set("emulatorRssMB", mb(after.rssKB))
	res.set("emulatorPeakRssMB", mb(after.hwmKB))
	res.set("emulatorThreads", after.threads)
	cpu := after.cpu - before.cpu
	el := after.at.Sub(before.at)
	res.set("emulatorCpuSec", cpu.Seconds())
	if el > 0 {
		res.set("emulatorCpuPercent", math.Round(1000*cpu.Seconds()/el.Seconds())/10)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.set("loadgenCpuSecTotal", float64(ru.Utime.Nano()+ru.Stime.Nano())/1e9)
	}
}

func mb(kb int64) float64 { return math.Round(float64(kb)/1024*10) / 10 }

// ---------------------------------------------------------------------------
// -mode accept

const noopJS = "exports.handler = async (event) => ({ ok: true });\n"

func makePayload(n int) []byte {
	const frame = `{"pad":""}`
	pad := max(0, n-len(frame))
	return []byte(`{"pad":"` + strings.Repeat("x", pad) + `"}`)
}

type sampleSet struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs map[string]int
	ok   int64
}

func (s *sampleSet) add(lat []time.Duration, errs map[string]int, ok int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat = append(s.lat, lat...)
	s.ok += ok
	for k, v := range errs {
		s.errs[k] += v
	}
}

// acceptOne sends one async invoke through the front: accepted is the
// front's success answer, withID whether that answer named the event.
func (b *bench) acceptOne(ctx context.Context, payload []byte) (accepted, withID bool, msg string) {
	req, err := b.front.request(ctx, payload)
	if err != nil {
		return false, false, err.Error()
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, false, "canceled"
		}
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return false, false, "transport: " + msg
	}
	return b.front.judge(resp)
}

func (b *bench) accept(ctx context.Context, res *result) error {
	o := b.o
	fr, err := newFront(o, b.base)
	if err != nil {
		return err
	}
	b.front = fr
	provider := o.provider
	if provider == "" && o.front == "scf" {
		provider = "tencent"
	}
	if !o.noDeploy {
		if err := b.deploy(ctx, fnSpec{name: o.function, runtime: "nodejs20.x", handler: "index.handler", provider: provider,
			files: map[string]string{"index.js": noopJS}, reserved: o.reserved, timeout: 30}); err != nil {
			return fmt.Errorf("deploy %s: %w", o.function, err)
		}
	}
	res.set("front", o.front)
	res.set("signed", fr.signed())
	if !o.noDeploy {
		res.set("provider", cmpStr(provider, "aws"))
	}
	payload := makePayload(o.payload)
	// Warm the connections and the function.
	for i := 0; i < 10; i++ {
		if ok, _, msg := b.acceptOne(ctx, payload); !ok {
			return fmt.Errorf("warm-up invoke: %s", msg)
		}
	}
	if o.warmup > 0 {
		if err := b.warm(ctx, payload); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond)

	set := &sampleSet{errs: map[string]int{}}
	var sent atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, o.duration+30*time.Second)
	defer cancel()
	before := b.sample()
	childBefore := descendants(b.pid)
	start := time.Now()
	since := start.Add(-time.Millisecond).UTC()
	deadline := start.Add(o.duration)
	var late, idCount atomic.Int64
	var wg sync.WaitGroup
	if o.rate <= 0 {
		res.set("loop", fmt.Sprintf("closed, %d clients", o.clients))
		for c := 0; c < o.clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lat := make([]time.Duration, 0, 1<<14)
				errs := map[string]int{}
				var ok int64
				for time.Now().Before(deadline) && sent.Add(1) <= int64(o.maxRequests) {
					t0 := time.Now()
					good, withID, msg := b.acceptOne(runCtx, payload)
					d := time.Since(t0)
					if good {
						ok++
						lat = append(lat, d)
						if withID {
							idCount.Add(1)
						}
					} else {
						errs[msg]++
					}
				}
				set.add(lat, errs, ok)
			}()
		}
	} else {
		// Open loop: request i is due at start + i/rate. A dispatcher hands
		// due times to a pool of at most -clients senders; latency runs
		// from the due time, so a stalled emulator shows up as latency of
		// the requests that queued behind it (no coordinated omission).
		total := int(o.rate * o.duration.Seconds())
		total = min(total, o.maxRequests)
		res.set("loop", fmt.Sprintf("open, %.0f/s offered, at most %d in flight", o.rate, o.clients))
		res.set("offered", total)
		due := make(chan time.Time, total)
		for c := 0; c < o.clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lat := make([]time.Duration, 0, total/o.clients+16)
				errs := map[string]int{}
				var ok int64
				for t := range due {
					good, withID, msg := b.acceptOne(runCtx, payload)
					d := time.Since(t)
					if good {
						ok++
						lat = append(lat, d)
						if withID {
							idCount.Add(1)
						}
					} else {
						errs[msg]++
					}
				}
				set.add(lat, errs, ok)
			}()
		}
		period := time.Duration(float64(time.Second) / o.rate)
		for i := 0; i < total; i++ {
			t := start.Add(time.Duration(i) * period)
			if d := time.Until(t); d > 0 {
				time.Sleep(d)
			} else if d < -time.Millisecond {
				late.Add(1)
			}
			due <- t
		}
		close(due)
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := b.sample()
	childAfter := descendants(b.pid)

	res.set("function", o.function)
	res.set("payloadBytes", len(payload))
	res.set("reservedConcurrency", o.reserved)
	res.set("durationSec", elapsed.Seconds())
	res.set("accepted", set.ok)
	res.set("acceptedWithRequestId", idCount.Load())
	res.set("acceptedPerSec", math.Round(float64(set.ok)/elapsed.Seconds()))
	res.set("acceptLatency", latencySummary(set.lat))
	nerr := 0
	for _, v := range set.errs {
		nerr += v
	}
	res.set("errors", nerr)
	if nerr > 0 {
		res.set("errorKinds", set.errs)
	}
	if o.rate > 0 {
		res.set("dispatchedLateOver1ms", late.Load())
	}
	b.reportProc(res, before, after)
	res.set("childProcs", childAfter.procs)
	res.set("childRssMB", mb(childAfter.rssKB))
	// CPU of the function processes: the live ones' own plus what the
	// emulator reaped (cutime/cstime), so instances that exit still count.
	res.set("childCpuSec", (childAfter.cpu + after.childCPU - childBefore.cpu - before.childCPU).Seconds())
	if !o.wait {
		return nil
	}
	return b.waitDone(ctx, res, since, start, int(set.ok))
}

// warm sends o.warmup async invokes from o.clients clients and waits until
// none of the function's events is QUEUED or RUNNING.
func (b *bench) warm(ctx context.Context, payload []byte) error {
	o := b.o
	var next atomic.Int64
	var wg sync.WaitGroup
	var failures atomic.Int64
	for c := 0; c < max(1, min(o.clients, 64)); c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.warmup) {
				if ok, _, _ := b.acceptOne(ctx, payload); !ok {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(o.waitTimeout)
	for time.Now().Before(deadline) {
		n, err := b.count(ctx, o.function, "status=QUEUED,RUNNING")
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(os.Stderr, "load: warm-up: %d invokes done (%d failed), %d function processes\n", o.warmup, failures.Load(), descendants(b.pid).procs)
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("warm-up: events still QUEUED or RUNNING after %v", o.waitTimeout)
}

var terminalQuery = "status=SUCCEEDED,FAILED,TIMED_OUT,TERMINATED"

// waitDone polls until n events created since `since` are terminal, then
// reads them for end-to-end latency (endedAt - createdAt, both the
// emulator's clock).
func (b *bench) waitDone(ctx context.Context, res *result, since, start time.Time, n int) error {
	o := b.o
	q := terminalQuery + "&since=" + url.QueryEscape(since.Format(time.RFC3339Nano))
	deadline := time.Now().Add(o.waitTimeout)
	loadEnd := time.Now()
	doneAtLoadEnd, _ := b.count(ctx, o.function, q)
	done := doneAtLoadEnd
	for done < n && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		c, err := b.count(ctx, o.function, q)
		if err != nil {
			return err
		}
		done = c
	}
	allDone := time.Now()
	res.set("completed", done)
	res.set("completedAtLoadEnd", doneAtLoadEnd)
	if done < n {
		res.set("waitTimedOut", true)
	}
	res.set("completionsPerSecOverall", math.Round(float64(done)/allDone.Sub(start).Seconds()))
	if d := allDone.Sub(loadEnd).Seconds(); d > 0.5 {
		res.set("completionsPerSecAfterLoad", math.Round(float64(done-doneAtLoadEnd)/d))
	}
	// End-to-end latency: page through the events in creation order.
	var e2e []time.Duration
	byStatus := map[string]int{}
	seen := map[string]bool{}
	cursor := since
	for pages := 0; len(e2e) < o.e2eMax && pages < o.e2eMax/50+10; pages++ {
		var l eventList
		path := "/v1/functions/" + url.PathEscape(o.function) + "/events?limit=100&since=" + url.QueryEscape(cursor.Format(time.RFC3339Nano))
		if _, err := b.do(ctx, "GET", path, nil, &l); err != nil {
			return err
		}
		fresh := 0
		for _, ev := range l.Events {
			if seen[ev.RequestID] {
				continue
			}
			seen[ev.RequestID] = true
			fresh++
			byStatus[string(ev.Status)]++
			if ev.EndedAt != nil {
				e2e = append(e2e, ev.EndedAt.Sub(ev.CreatedAt))
			}
			cursor = ev.CreatedAt
		}
		if fresh == 0 {
			break
		}
	}
	res.set("endToEnd", latencySummary(e2e))
	res.set("endToEndByStatus", byStatus)
	return nil
}

// ---------------------------------------------------------------------------
// -mode tail

// tailJS prints rate lines/s for durationMs, each carrying the wall-clock
// time at which it is written in µs (performance.timeOrigin + now(): the
// same clock as the subscriber's time.Now on this machine).
const tailJS = `const { performance } = require('perf_hooks');
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
exports.handler = async (event) => {
  const rate = event.rate, durationMs = event.durationMs;
  const t0 = performance.now();
  let n = 0;
  for (;;) {
    const el = performance.now() - t0;
    if (el >= durationMs) break;
    const due = Math.floor(el * rate / 1000);
    while (n < due) { console.log('BENCH ' + n + ' ' + nowUs()); n++; }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { lines: n };
};
`

type subStats struct {
	lat      []time.Duration
	received int
	maxSeq   int
	err      error
}

func (b *bench) tail(ctx context.Context, res *result) error {
	o := b.o
	if err := b.deploy(ctx, fnSpec{name: o.function, runtime: "nodejs20.x", handler: "index.handler",
		files: map[string]string{"index.js": tailJS}, reserved: 1, timeout: int(o.duration.Seconds()) + 60}); err != nil {
		return fmt.Errorf("deploy %s: %w", o.function, err)
	}
	// Warm instance first, so the run measures the log path rather than a cold start.
	warm, _ := json.Marshal(map[string]any{"rate": 10, "durationMs": 100})
	if _, err := b.invoke(ctx, o.function, "RequestResponse", warm); err != nil {
		return fmt.Errorf("warm-up invoke: %w", err)
	}

	subCtx, cancel := context.WithTimeout(ctx, o.duration+60*time.Second)
	defer cancel()
	stats := make([]subStats, o.subscribers)
	var ready, wg sync.WaitGroup
	expectLines := int(float64(o.linesPerSec) * o.duration.Seconds())
	streamURL := b.base + "/v1/logs/stream?from=now&function=" + url.QueryEscape(o.function)
	for i := 0; i < o.subscribers; i++ {
		ready.Add(1)
		wg.Add(1)
		go func(st *subStats) {
			defer wg.Done()
			st.lat = make([]time.Duration, 0, expectLines+16)
			st.maxSeq = -1
			signalled := false
			signal := func() {
				if !signalled {
					signalled = true
					ready.Done()
				}
			}
			defer signal()
			req, _ := http.NewRequestWithContext(subCtx, "GET", streamURL, nil)
			resp, err := b.hc.Do(req)
			if err != nil {
				st.err = err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				st.err = fmt.Errorf("stream: HTTP %d", resp.StatusCode)
				return
			}
			br := bufio.NewReaderSize(resp.Body, 256<<10)
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					if !errors.Is(err, context.Canceled) && subCtx.Err() == nil {
						st.err = err
					}
					return
				}
				now := time.Now().UnixMicro()
				if bytes.HasPrefix(line, []byte(": asyncfn log stream")) {
					signal()
					continue
				}
				if !bytes.HasPrefix(line, []byte("data: ")) {
					continue
				}
				i := bytes.Index(line, []byte("BENCH "))
				if i < 0 {
					if bytes.Contains(line, []byte("REPORT RequestId: ")) && st.received > 0 {
						return // the run's invocation ended; its lines came before
					}
					continue
				}
				f := strings.Fields(string(line[i+6:]))
				if len(f) < 2 {
					continue
				}
				seq, _ := strconv.Atoi(f[0])
				us, _ := strconv.ParseInt(strings.TrimRight(f[1], `"}`), 10, 64)
				st.received++
				st.maxSeq = max(st.maxSeq, seq)
				st.lat = append(st.lat, time.Duration(now-us)*time.Microsecond)
			}
		}(&stats[i])
	}
	readyDone := make(chan struct{})
	go func() { ready.Wait(); close(readyDone) }()
	select {
	case <-readyDone:
	case <-time.After(30 * time.Second):
		return errors.New("subscribers did not connect within 30 s")
	}
	before := b.sample()
	payload, _ := json.Marshal(map[string]any{"rate": o.linesPerSec, "durationMs": o.duration.Milliseconds()})
	ev, err := b.invoke(ctx, o.function, "Event", payload)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	// Wait for the event to end, then give subscribers a moment for the tail.
	var final eventInfo
	for end := time.Now().Add(o.duration + 60*time.Second); time.Now().Before(end); {
		time.Sleep(200 * time.Millisecond)
		if _, err := b.do(ctx, "GET", "/v1/functions/"+url.PathEscape(o.function)+"/events/"+ev.RequestID, nil, &final); err != nil {
			return err
		}
		if final.Status.Terminal() {
			break
		}
	}
	after := b.sample()
	waitSubs := make(chan struct{})
	go func() { wg.Wait(); close(waitSubs) }()
	select {
	case <-waitSubs:
	case <-time.After(10 * time.Second):
		cancel()
		<-waitSubs
	}
	var written struct {
		Lines int `json:"lines"`
	}
	_ = json.Unmarshal(final.Result, &written)
	var all []time.Duration
	minRecv, maxRecv := math.MaxInt, 0
	var subErrs []string
	for i := range stats {
		all = append(all, stats[i].lat...)
		minRecv = min(minRecv, stats[i].received)
		maxRecv = max(maxRecv, stats[i].received)
		if stats[i].err != nil && len(subErrs) < 5 {
			subErrs = append(subErrs, stats[i].err.Error())
		}
	}
	res.set("function", o.function)
	res.set("subscribers", o.subscribers)
	res.set("linesPerSec", o.linesPerSec)
	res.set("durationSec", o.duration.Seconds())
	res.set("eventStatus", final.Status)
	res.set("linesWritten", written.Lines)
	res.set("linesReceivedMinPerSub", minRecv)
	res.set("linesReceivedMaxPerSub", maxRecv)
	res.set("deliveries", len(all))
	res.set("writeToReceive", latencySummary(all))
	if len(subErrs) > 0 {
		res.set("subscriberErrors", subErrs)
	}
	b.reportProc(res, before, after)
	return nil
}

// ---------------------------------------------------------------------------
// -mode running

const sleepJS = `exports.handler = async (event) => {
  await new Promise((r) => setTimeout(r, event.sleepMs || 0));
  return { ok: true };
};
`

const sleepPy = `import time

def handler(event, context):
    ms = event.get("sleepMs", 0) if isinstance(event, dict) else 0
    if ms:
        time.sleep(ms / 1000.0)
    return {"ok": True}
`

// handlerFor returns a function spec of the runtime whose handler sleeps for
// the payload's sleepMs (0 = returns at once).
func handlerFor(rt, name string) (fnSpec, error) {
	switch rt {
	case "node":
		return fnSpec{name: name, runtime: "nodejs20.x", handler: "index.handler", files: map[string]string{"index.js": sleepJS}}, nil
	case "python":
		return fnSpec{name: name, runtime: "python3.11", handler: "handler.handler", files: map[string]string{"handler.py": sleepPy}}, nil
	case "provided":
		bin, err := buildSleeper()
		if err != nil {
			return fnSpec{}, err
		}
		return fnSpec{name: name, runtime: "provided.al2", handler: "bootstrap", execs: map[string]string{"bootstrap": bin}}, nil
	}
	return fnSpec{}, fmt.Errorf("-runtime %q is not provided, python or node", rt)
}

var sleeperOnce struct {
	sync.Once
	path string
	err  error
}

// buildSleeper builds e2e/load/sleeper (a static aws-lambda-go bootstrap).
func buildSleeper() (string, error) {
	sleeperOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			sleeperOnce.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			sleeperOnce.err = errors.New("build the sleeper: run this from the asyncfn repository (go run ./e2e/load ...)")
			return
		}
		root := filepath.Dir(gomod)
		dir, err := os.MkdirTemp("", "asyncfn-load-sleeper-")
		if err != nil {
			sleeperOnce.err = err
			return
		}
		bin := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./e2e/load/sleeper")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sleeperOnce.err = fmt.Errorf("build the sleeper: %v: %s", err, out)
			return
		}
		sleeperOnce.path = bin
	})
	return sleeperOnce.path, sleeperOnce.err
}

func (b *bench) running(ctx context.Context, res *result) error {
	o := b.o
	fnPath := "/v1/functions/" + url.PathEscape(o.function)
	started := 0
	res.set("memAvailableMBBefore", memAvailableMB())
	idle := b.sample()
	res.set("emulatorRssMBIdle", mb(idle.rssKB))
	if o.events > 0 {
		spec, err := handlerFor(o.runtimeName, o.function)
		if err != nil {
			return err
		}
		spec.reserved, spec.timeout = o.events, 900
		if err := b.deploy(ctx, spec); err != nil {
			return fmt.Errorf("deploy %s: %w", o.function, err)
		}
		res.set("runtime", o.runtimeName+" ("+spec.runtime+")")
		payload, _ := json.Marshal(map[string]any{"sleepMs": o.sleep.Milliseconds()})
		rampStart := time.Now()
		deadline := rampStart.Add(o.rampTimeout)
		stopped := ""
		for started < o.events && stopped == "" {
			step := min(o.rampStep, o.events-started)
			for i := 0; i < step; i++ {
				if _, err := b.invoke(ctx, o.function, "Event", payload); err != nil {
					return fmt.Errorf("invoke %d: %w", started+1, err)
				}
				started++
			}
			for {
				n, err := b.count(ctx, o.function, "status=RUNNING")
				if err != nil {
					return err
				}
				if n >= started {
					break
				}
				if free := memAvailableMB(); free >= 0 && free < int64(o.minFreeMB) {
					stopped = fmt.Sprintf("MemAvailable %d MB < %d MB", free, o.minFreeMB)
					break
				}
				if time.Now().After(deadline) {
					stopped = fmt.Sprintf("only %d of %d RUNNING after %v", n, started, o.rampTimeout)
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			fmt.Fprintf(os.Stderr, "load: %d started, MemAvailable %d MB\n", started, memAvailableMB())
			if free := memAvailableMB(); free >= 0 && free < int64(o.minFreeMB) && stopped == "" {
				stopped = fmt.Sprintf("MemAvailable %d MB < %d MB", free, o.minFreeMB)
			}
		}
		nRunning, _ := b.count(ctx, o.function, "status=RUNNING")
		res.set("eventsStarted", started)
		res.set("eventsRunning", nRunning)
		res.set("rampSec", math.Round(time.Since(rampStart).Seconds()*10)/10)
		if stopped != "" {
			res.set("rampStopped", stopped)
		}
		time.Sleep(2 * time.Second) // let the instance start-up garbage settle
		s := b.sample()
		tree := descendants(b.pid)
		res.set("emulatorRssMBWithRunning", mb(s.rssKB))
		res.set("emulatorPeakRssMB", mb(s.hwmKB))
		res.set("emulatorThreads", s.threads)
		res.set("childProcs", tree.procs)
		res.set("childRssMBSum", mb(tree.rssKB))
		if tree.procs > 0 {
			res.set("childRssMBEach", math.Round(float64(tree.rssKB)/float64(tree.procs)/1024*10)/10)
		}
		res.set("memAvailableMBWithRunning", memAvailableMB())
	}
	if o.syncInvokes > 0 {
		if err := b.overhead(ctx, res); err != nil {
			return err
		}
	}
	if o.events > 0 && !o.leave {
		// SIGKILL every event still RUNNING or QUEUED: bounded by what was started.
		killed := 0
		for tries := 0; tries < started/100+20; tries++ {
			var l eventList
			if _, err := b.do(ctx, "GET", fnPath+"/events?status=RUNNING,QUEUED&limit=100", nil, &l); err != nil {
				return err
			}
			if len(l.Events) == 0 {
				break
			}
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			var mu sync.Mutex
			for _, ev := range l.Events {
				wg.Add(1)
				sem <- struct{}{}
				go func(id string) {
					defer wg.Done()
					defer func() { <-sem }()
					if _, err := b.do(ctx, "POST", fnPath+"/events/"+id+"/terminate", nil, nil); err == nil {
						mu.Lock()
						killed++
						mu.Unlock()
					}
				}(ev.RequestID)
			}
			wg.Wait()
		}
		res.set("terminated", killed)
	}
	return nil
}

// overhead times sequential sync invokes of a no-op handler on a warm
// instance: the round trip minus the handler's own duration (the REPORT
// line's Duration, µs precision; durationMs of the event as a fallback).
func (b *bench) overhead(ctx context.Context, res *result) error {
	o := b.o
	spec, err := handlerFor(o.noopRuntime, "bench-noop")
	if err != nil {
		return err
	}
	spec.reserved, spec.timeout = 1, 30
	if err := b.deploy(ctx, spec); err != nil {
		return fmt.Errorf("deploy bench-noop: %w", err)
	}
	payload := []byte(`{"sleepMs":0}`)
	for i := 0; i < 20; i++ { // the first starts the instance
		if _, err := b.invoke(ctx, "bench-noop", "RequestResponse", payload); err != nil {
			return fmt.Errorf("warm-up sync invoke: %w", err)
		}
	}
	type one struct {
		id  string
		rtt time.Duration
		dur int64
	}
	runs := make([]one, 0, o.syncInvokes)
	for i := 0; i < o.syncInvokes; i++ {
		t0 := time.Now()
		ev, err := b.invoke(ctx, "bench-noop", "RequestResponse", payload)
		rtt := time.Since(t0)
		if err != nil {
			return fmt.Errorf("sync invoke: %w", err)
		}
		runs = append(runs, one{ev.RequestID, rtt, ev.DurationMs})
	}
	var rtts, over, overMs []time.Duration
	var handler []time.Duration
	for _, r := range runs {
		rtts = append(rtts, r.rtt)
		overMs = append(overMs, r.rtt-time.Duration(r.dur)*time.Millisecond)
		var logs struct {
			Lines []struct {
				Text string `json:"text"`
			} `json:"lines"`
		}
		if _, err := b.do(ctx, "GET", "/v1/logs?requestId="+r.id, nil, &logs); err != nil {
			return err
		}
		for _, l := range logs.Lines {
			_, rest, ok := strings.Cut(l.Text, "\tDuration: ")
			if !strings.HasPrefix(l.Text, "REPORT ") || !ok {
				continue
			}
			f := strings.Fields(rest)
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				d := time.Duration(v * float64(time.Millisecond))
				handler = append(handler, d)
				over = append(over, r.rtt-d)
			}
		}
	}
	res.set("noopRuntime", spec.runtime)
	res.set("syncInvokes", len(runs))
	res.set("syncRoundTrip", latencySummary(rtts))
	res.set("handlerDurationFromReport", latencySummary(handler))
	res.set("overheadPerWarmInvoke", latencySummary(over))
	res.set("overheadPerWarmInvokeFromDurationMs", latencySummary(overMs))
	return nil
}

// ---------------------------------------------------------------------------
// -mode list

// seed inserts o.seed terminal events straight into the store of
// o.stateDir: 90% for -function, 10% for <function>-other; created over the
// last 30 days in creation order; 80% SUCCEEDED, 10% FAILED, 5% TIMED_OUT,
// 5% TERMINATED. The emulator must not be running on that directory.
func seed(ctx context.Context, o *options, res *result) error {
	if o.stateDir == "" {
		return errors.New("-seed needs -state-dir (the directory the emulator will be started on)")
	}
	st, err := store.Open(o.stateDir)
	if err != nil {
		return err
	}
	defer st.Close()
	const span = 30 * 24 * time.Hour
	end := time.Now().UTC()
	begin := end.Add(-span)
	step := span / time.Duration(o.seed)
	payload := []byte(`{"bucket":"videos","key":"uploads/2025/06/07/abcdef0123456789.mp4","preset":"1080p","notify":"https://example.com/hook"}`)
	var next atomic.Int64
	var failed atomic.Value
	workers := 64
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(o.seed) || failed.Load() != nil {
					return
				}
				created := begin.Add(time.Duration(i) * step)
				started := created.Add(15 * time.Millisecond)
				dur := time.Duration(100+(i*7919)%100_000) * time.Millisecond
				ev := &store.Event{RequestID: uuid.NewString(), Function: o.function, Version: 1, InvokeType: event.InvokeEvent,
					Payload: payload, Attempts: 1, CreatedAt: created, StartedAt: started, EndedAt: started.Add(dur),
					DurationMs: dur.Milliseconds(), MaxMemoryMB: 40}
				if i%10 == 9 {
					ev.Function = o.function + "-other"
				}
				switch r := i % 20; {
				case r < 16:
					ev.Status, ev.Result = event.Succeeded, []byte(`{"ok":true}`)
				case r < 18:
					ev.Status, ev.ErrorType, ev.ErrorMessage = event.Failed, "Error", "boom"
				case r < 19:
					ev.Status, ev.ErrorType, ev.ErrorMessage = event.TimedOut, "Sandbox.Timedout", "Task timed out after 60.00 seconds"
				default:
					ev.Status, ev.ErrorType, ev.ErrorMessage = event.Terminated, "Terminated", "terminated on request"
				}
				if err := st.InsertEvent(ctx, ev); err != nil {
					failed.Store(err)
					return
				}
				if i > 0 && i%100_000 == 0 {
					fmt.Fprintf(os.Stderr, "load: seeded %d events (%.0f/s)\n", i, float64(i)/time.Since(t0).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	el := time.Since(t0)
	res.set("seeded", o.seed)
	res.set("stateDir", o.stateDir)
	res.set("seedSec", math.Round(el.Seconds()*10)/10)
	res.set("seedInsertsPerSec", math.Round(float64(o.seed)/el.Seconds()))
	res.set("seedRange", begin.Format(time.RFC3339)+" .. "+end.Format(time.RFC3339))
	return nil
}

func (b *bench) list(ctx context.Context, res *result) error {
	o := b.o
	fn := "/v1/functions/" + url.PathEscape(o.function) + "/events?"
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return url.QueryEscape(now.Add(-d).Format(time.RFC3339Nano)) }
	queries := []struct{ name, q string }{
		{"status+since7d+limit100", "status=SUCCEEDED&since=" + ts(7*24*time.Hour) + "&limit=100"},
		{"status+since7d+limit100+desc", "status=SUCCEEDED&since=" + ts(7*24*time.Hour) + "&limit=100&order=desc"},
		{"2statuses+since7d+limit100", "status=FAILED,TIMED_OUT&since=" + ts(7*24*time.Hour) + "&limit=100"},
		{"status+since30d+limit100", "status=SUCCEEDED&since=" + ts(31*24*time.Hour) + "&limit=100"},
		{"window1h+limit100", "since=" + ts(7*24*time.Hour) + "&until=" + ts(7*24*time.Hour-time.Hour) + "&limit=100"},
		{"nofilter+limit100", "limit=100"},
		{"status+since7d+offset5000", "status=SUCCEEDED&since=" + ts(7*24*time.Hour) + "&limit=100&offset=5000"},
	}
	before := b.sample()
	total, err := b.count(ctx, o.function, "")
	if err != nil {
		return err
	}
	res.set("function", o.function)
	res.set("functionEvents", total)
	var out []map[string]any
	for _, q := range queries {
		var ds []time.Duration
		var l eventList
		for i := 0; i < o.queries+2; i++ {
			t0 := time.Now()
			if _, err := b.do(ctx, "GET", fn+q.q, nil, &l); err != nil {
				return err
			}
			if i >= 2 { // two warm-ups
				ds = append(ds, time.Since(t0))
			}
		}
		s := latencySummary(ds)
		m := map[string]any{"query": q.name, "matches": l.Total, "returned": len(l.Events), "medianMs": s["p50Ms"], "maxMs": s["maxMs"], "n": len(ds)}
		out = append(out, m)
		fmt.Fprintf(os.Stderr, "load: %-30s matches %8d  median %7.2f ms  max %7.2f ms\n", q.name, l.Total, s["p50Ms"], s["maxMs"])
	}
	res.set("queries", out)
	b.reportProc(res, before, b.sample())
	return nil
}

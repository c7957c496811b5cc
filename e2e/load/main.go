// Command load drives a running asyncfn emulator (asyncfn local start) through
// its native JSON API and reports what BENCHMARKS.md records.
//
//	go run ./e2e/load -mode accept  [-clients N | -rate R] [-duration D] [-payload B] [-wait]
//	                                [-front native|lambda|scf] [-credentials ID:KEY] [-unsigned] [-no-deploy]
//	go run ./e2e/load -mode tail    [-subscribers N] [-lines-per-sec L] [-duration D]
//	go run ./e2e/load -mode running [-events K] [-runtime provided|python|node] [-sync-invokes M]
//	go run ./e2e/load -mode list    -seed N -state-dir DIR   (before the emulator starts on DIR,
//	                                                         with --retention never: the events span 30 days)
//	go run ./e2e/load -mode list    [-queries 20]            (against the emulator on DIR)
//	go run ./e2e/load -mode fanout  [-events 50] [-sleep 5s]
//	go run ./e2e/load -mode soak    -state-dir DIR [-duration 30m] [-events 10] [-lines-per-sec 5000]
//	                                [-event-duration 60s] [-subscribers 3] [-rate 20] [-sample-every 30s]
//
// Modes (-mode):
//
//   - accept: async invokes as fast as -clients closed-loop clients can send
//     them, or at -rate per second (open loop); the accept latency, and with
//     -wait the completions per second and the end-to-end latency (accept.go).
//   - tail: -subscribers clients on the live log stream while one invocation
//     prints -lines-per-sec lines; the write-to-receive latency (tail.go).
//   - running: -events sleeping events held RUNNING at once, the emulator's
//     and its function processes' memory with them, then the overhead of a
//     warm sync invoke (running.go).
//   - list: -seed inserts events straight into a state directory; without
//     it, the latency of event-list queries over them (list.go).
//   - fanout: -events async events of a handler sleeping -sleep, invoked
//     together; how long after its invoke each handler began, against one
//     cold start alone (fanout.go).
//   - soak: for -duration, -events printing events running at all times
//     (-lines-per-sec in total, each -event-duration long), -subscribers
//     following the live log, -rate no-op async invokes per second; every
//     -sample-every the emulator's RSS, the store's size, the accept latency;
//     at the end, whether every subscriber got every line (soak.go).
//
// -front lambda POSTs /2015-03-31/functions/{name}/invocations with
// X-Amz-Invocation-Type: Event, SigV4-signed with -credentials
// (aws-sdk-go-v2's signer); -front scf POSTs / with X-TC-Action: Invoke,
// InvocationType Event, TC3-HMAC-SHA256-signed (fronts.go). With -credentials
// the native API calls (deploy, event queries) carry them as HTTP Basic auth,
// as the emulator started with --credentials requires (client.go). -unsigned
// sends the cloud requests without a signature; -no-deploy (with -function)
// drives an endpoint that is not an asyncfn emulator, e.g. serverless-offline's
// Lambda port.
//
// Every mode deploys its own function (bench-accept, bench-tail, bench-sleep,
// bench-noop, bench-list) and reads the emulator's RSS and CPU time from
// /proc (proc.go): give -pid, or the process listening on -url's port is found
// through /proc/net/tcp and /proc/*/fd. It only talks to loopback. Request
// loops are bounded in count (-max-requests) and time (-duration,
// -wait-timeout); every mode runs its requests through the one worker pool of
// workers.go, and its percentiles are event.Percentile's (report.go).
//
// Output: a human summary on stdout; with -json one JSON object on stdout and
// the summary on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
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
	cold        bool
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

	// soak
	eventDuration time.Duration
	sampleEvery   time.Duration

	// list
	seed     int
	stateDir string
	queries  int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9770", "the emulator's base `URL` (loopback only)")
	flag.StringVar(&o.mode, "mode", "accept", "accept | tail | running | list | fanout | soak")
	flag.BoolVar(&o.jsonOut, "json", false, "print one JSON object on stdout (the summary goes to stderr)")
	flag.IntVar(&o.pid, "pid", 0, "the emulator's `PID` (default: the process listening on -url's port)")
	flag.StringVar(&o.function, "function", "", "function name (default bench-<mode>)")
	flag.IntVar(&o.clients, "clients", 16, "accept: closed-loop clients; with -rate, the most requests in flight")
	flag.Float64Var(&o.rate, "rate", 0, "accept: offered load in invokes/s (open loop); 0 = closed loop")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "accept/tail: how long to offer load")
	flag.IntVar(&o.payload, "payload", 128, "accept: payload size in `bytes` (a JSON object)")
	flag.BoolVar(&o.wait, "wait", false, "accept: wait for every accepted event to finish; report completions/s and end-to-end latency")
	flag.DurationVar(&o.waitTimeout, "wait-timeout", 5*time.Minute, "accept: give up waiting for completions after this long")
	flag.IntVar(&o.reserved, "reserved", 100, "accept: the function's reservedConcurrency (0 = accept only, nothing runs; -1 = none, the emulator's own limits)")
	flag.BoolVar(&o.cold, "cold", false, "accept: no warm-up invokes before measuring: the burst meets no warm instance (the headline burst)")
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
	flag.IntVar(&o.events, "events", 1000, "running: async events to hold RUNNING at once; fanout: events invoked together (at most 200)")
	flag.StringVar(&o.runtimeName, "runtime", "provided", "running: sleeping handler's runtime: provided (Go, aws-lambda-go), python or node")
	flag.DurationVar(&o.sleep, "sleep", 5*time.Minute, "running, fanout: how long each sleeping handler sleeps")
	flag.IntVar(&o.minFreeMB, "min-free-mb", 6144, "running: stop starting events when MemAvailable falls below this many MB")
	flag.IntVar(&o.syncInvokes, "sync-invokes", 200, "running: timed warm sync invokes of a no-op handler (0 = skip)")
	flag.BoolVar(&o.leave, "leave", false, "running: leave the sleeping events RUNNING (default: terminate them)")
	flag.IntVar(&o.rampStep, "ramp-step", 100, "running: events started per step before checking memory")
	flag.DurationVar(&o.rampTimeout, "ramp-timeout", 3*time.Minute, "running: give up waiting for RUNNING after this long")
	flag.StringVar(&o.noopRuntime, "noop-runtime", "node", "running: runtime of the no-op handler for the warm-invoke overhead: node, python or provided")
	flag.BoolVar(&o.overheadOnly, "overhead-only", false, "running: only measure the warm-invoke overhead (same as -events 0)")
	flag.IntVar(&o.seed, "seed", 0, "list: insert `N` events directly into -state-dir (the emulator must not be running on it) and exit")
	flag.StringVar(&o.stateDir, "state-dir", "", "list -seed, soak: the emulator's state directory")
	flag.IntVar(&o.queries, "queries", 20, "list: timed repetitions of each query")
	flag.DurationVar(&o.eventDuration, "event-duration", time.Minute, "soak: how long each printing event runs")
	flag.DurationVar(&o.sampleEvery, "sample-every", 30*time.Second, "soak: how often to sample RSS, store size and accept latency")
	flag.Parse()
	if o.mode == "soak" {
		// soak's own defaults for the flags it shares with other modes.
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"events": "10", "subscribers": "3", "lines-per-sec": "5000", "rate": "20", "duration": "30m"} {
			if !set[name] {
				flag.Set(name, v)
			}
		}
	}
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
	case "fanout":
		return b.fanout(ctx, res)
	case "soak":
		return b.soak(ctx, res)
	}
	return fmt.Errorf("unknown -mode %q (accept, tail, running, list, fanout, soak)", o.mode)
}

package cli

// invoke --each: one async event per input, sent with a bounded number in
// flight and an optional rate, throttles retried, RequestIds written in
// input order as soon as every earlier input has its own.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
)

// exitInterrupted is the exit status of a batch command stopped by SIGINT
// or SIGTERM after it printed what it had done (128+SIGINT, as shells
// report an interrupted command).
const exitInterrupted = 130

// eachInput is one input of invoke --each: its payload and where it stood.
type eachInput struct {
	Index   int             // position among the inputs, from 0
	Line    int             // line the input starts on, from 1
	Payload json.RawMessage // one JSON value
}

// eachInputError is an input that is not JSON; Line says where.
type eachInputError struct {
	Source string
	Line   int
	Err    error
}

func (e *eachInputError) Error() string {
	return fmt.Sprintf("--each %s: line %d: %v", e.Source, e.Line, e.Err)
}

func (e *eachInputError) Unwrap() error { return e.Err }

// parseEachInputs reads the inputs of invoke --each: a document that is one
// JSON array gives one input per element; anything else is JSON lines, one
// input per non-blank line. (A JSON-lines file whose only line is an array
// is read as that array: a file of one array is the commoner intent.)
func parseEachInputs(data []byte, source string) ([]eachInput, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &eachInputError{Source: source, Line: 1, Err: errors.New("no inputs")}
	}
	if trimmed[0] == '[' {
		if json.Valid(trimmed) {
			return parseEachArray(data, source)
		}
		// A broken array spread over lines would otherwise be blamed
		// on its first line "[", far from the mistake.
		first, _, _ := bytes.Cut(trimmed, []byte("\n"))
		if !json.Valid(bytes.TrimSpace(first)) {
			var v any
			err := json.Unmarshal(data, &v)
			var syn *json.SyntaxError
			line := 1
			if errors.As(err, &syn) {
				line = lineAt(data, int(syn.Offset))
			}
			return nil, &eachInputError{Source: source, Line: line, Err: fmt.Errorf("not a valid JSON array: %w", err)}
		}
	}
	var out []eachInput
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			var v any
			err := json.Unmarshal(line, &v)
			return nil, &eachInputError{Source: source, Line: n + 1, Err: fmt.Errorf("not valid JSON (%v): %s", err, oneLine(string(line), 60))}
		}
		out = append(out, eachInput{Index: len(out), Line: n + 1, Payload: json.RawMessage(line)})
	}
	return out, nil
}

// parseEachArray splits a valid JSON array into its elements.
func parseEachArray(data []byte, source string) ([]eachInput, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // [
		return nil, &eachInputError{Source: source, Line: 1, Err: err}
	}
	var out []eachInput
	for dec.More() {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &eachInputError{Source: source, Line: lineAt(data, start), Err: err}
		}
		// InputOffset is before the separating comma and blanks.
		for start < len(data) && bytes.IndexByte([]byte(", \t\r\n"), data[start]) >= 0 {
			start++
		}
		out = append(out, eachInput{Index: len(out), Line: lineAt(data, start), Payload: raw})
	}
	if len(out) == 0 {
		return nil, &eachInputError{Source: source, Line: 1, Err: errors.New("the array is empty: no inputs")}
	}
	return out, nil
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// readEachFile reads --each FILE, or standard input for "-".
func readEachFile(path string, in io.Reader) ([]byte, error) {
	if path == "-" {
		if in == nil {
			return nil, usagef("--each -: no standard input")
		}
		return io.ReadAll(in)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--each: %v", err)
	}
	return b, nil
}

// invoker is the one Provider method a fan-out needs (tests fake it).
type invoker interface {
	Invoke(ctx context.Context, fn string, payload []byte, opts adapters.InvokeOptions) (adapters.Invocation, error)
}

// fanOutConfig paces a fan-out.
type fanOutConfig struct {
	Rate        float64       // invokes per second; 0: as fast as MaxInFlight allows
	MaxInFlight int           // invokes waiting for an answer at once
	Attempts    int           // tries per input while it is throttled
	Backoff     time.Duration // first wait after a throttle; doubles each time
	MaxBackoff  time.Duration
	CallTimeout time.Duration // one invoke call
}

func defaultFanOutConfig() fanOutConfig {
	return fanOutConfig{MaxInFlight: 16, Attempts: 20, Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, CallTimeout: time.Minute}
}

// sendResult is what became of one input.
type sendResult struct {
	Input     eachInput
	RequestID string
	Err       error // the invoke failed for good (not a throttle, or too many)
	NotSent   bool  // never accepted: interrupted before or between attempts
	Throttles int   // throttled attempts before the last one
}

// fanOut sends every input as an async invoke of fn and passes each result
// to emit, from one goroutine. It stops starting new inputs when ctx ends
// or an invoke fails for good. An invoke already on its way is never cut
// off: it finishes on a context of its own, so a RequestId the provider
// handed out always reaches emit.
func fanOut(ctx context.Context, p invoker, fn string, opts adapters.InvokeOptions, inputs []eachInput, cfg fanOutConfig, emit func(sendResult)) {
	jobs := make(chan eachInput)
	results := make(chan sendResult)
	stop := make(chan struct{})
	var stopOnce sync.Once
	pace := newPacer(cfg.Rate)

	go func() {
		defer close(jobs)
		for _, in := range inputs {
			if err := pace.wait(ctx, stop); err != nil {
				return
			}
			select {
			case jobs <- in:
			case <-ctx.Done():
				return
			case <-stop:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range max(cfg.MaxInFlight, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range jobs {
				select {
				case <-stop:
					// Handed out as another input failed (the
					// producer's select had both ready): not sent.
					results <- sendResult{Input: in, NotSent: true}
					continue
				default:
				}
				r := sendOne(ctx, p, fn, opts, in, cfg)
				if r.Err != nil {
					stopOnce.Do(func() { close(stop) })
				}
				results <- r
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	for r := range results {
		emit(r)
	}
}

// sendOne invokes fn with one input, retrying while it is throttled. A
// throttled invoke was refused, not accepted, so trying it again cannot
// start it twice; any other error might have followed an acceptance (a
// connection cut after the event was recorded) and is not retried.
func sendOne(ctx context.Context, p invoker, fn string, opts adapters.InvokeOptions, in eachInput, cfg fanOutConfig) sendResult {
	r := sendResult{Input: in}
	call := context.WithoutCancel(ctx)
	wait := cfg.Backoff
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			r.NotSent = true
			return r
		}
		cctx, cancel := context.WithTimeout(call, cfg.CallTimeout)
		inv, err := p.Invoke(cctx, fn, in.Payload, opts)
		cancel()
		if err == nil {
			r.RequestID = inv.RequestID
			return r
		}
		if !adapters.IsThrottled(err) || attempt >= cfg.Attempts {
			if adapters.IsThrottled(err) {
				err = fmt.Errorf("still throttled after %d attempts: %w", attempt, err)
			}
			r.Err = err
			return r
		}
		r.Throttles++
		// Full jitter between half the wait and the wait: clients
		// throttled together do not come back together.
		d := wait/2 + rand.N(wait/2+1)
		wait = min(wait*2, cfg.MaxBackoff)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			r.NotSent = true
			return r
		case <-t.C:
		}
	}
}

// pacer hands out start times at most rate per second (no limit at 0).
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(rate float64) *pacer {
	p := &pacer{}
	if rate > 0 {
		p.interval = time.Duration(float64(time.Second) / rate)
	}
	return p
}

// wait blocks until the caller's turn, or returns ctx's error or
// errStopped when stop closes first.
func (p *pacer) wait(ctx context.Context, stop <-chan struct{}) error {
	if p.interval == 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errStopped
	case <-t.C:
		return nil
	}
}

var errStopped = errors.New("fan-out stopped")

// eachLine is one line of invoke --each --output json.
type eachLine struct {
	Index     int    `json:"index"`
	Line      int    `json:"line"`
	RequestID string `json:"requestId,omitempty"`
	Error     string `json:"error,omitempty"`
}

// orderedWriter writes results in input order, holding back only those
// whose earlier inputs have no answer yet. In text mode stdout is exactly
// one RequestId per input from the first on, so line N is input N; once an
// input was not sent, the ids of later inputs (at most those in flight with
// it) are listed on stderr with their input number instead.
type orderedWriter struct {
	out, errw io.Writer
	json      bool
	next      int
	held      map[int]sendResult
	gap       bool // text mode: an input was not sent; stdout ended
	sent      int
	throttles int
	failed    []sendResult
	firstGap  *eachInput
}

func newOrderedWriter(out, errw io.Writer, asJSON bool) *orderedWriter {
	return &orderedWriter{out: out, errw: errw, json: asJSON, held: map[int]sendResult{}}
}

func (w *orderedWriter) add(r sendResult) error {
	w.throttles += r.Throttles
	if r.RequestID != "" {
		w.sent++
	}
	if r.Err != nil {
		w.failed = append(w.failed, r)
	}
	w.held[r.Input.Index] = r
	for {
		r, ok := w.held[w.next]
		if !ok {
			return nil
		}
		delete(w.held, w.next)
		w.next++
		if err := w.write(r); err != nil {
			return err
		}
	}
}

func (w *orderedWriter) write(r sendResult) error {
	if r.RequestID == "" && w.firstGap == nil {
		in := r.Input
		w.firstGap = &in
	}
	if w.json {
		if r.NotSent {
			return nil
		}
		l := eachLine{Index: r.Input.Index, Line: r.Input.Line, RequestID: r.RequestID}
		if r.Err != nil {
			l.Error = r.Err.Error()
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w.out, "%s\n", b)
		return err
	}
	if r.RequestID == "" {
		w.gap = true
		return nil
	}
	if w.gap {
		_, err := fmt.Fprintf(w.errw, "input %d (line %d) was sent after an unsent one: RequestId %s\n", r.Input.Index+1, r.Input.Line, r.RequestID)
		return err
	}
	_, err := fmt.Fprintln(w.out, r.RequestID)
	return err
}

// runInvokeEach is invoke --async --each.
func runInvokeEach(ctx context.Context, o *invokeOptions) error {
	switch {
	case !o.Async:
		return usagef("--each sends async events: add --async")
	case o.Data != "" || o.Path != "":
		return usagef("--each reads the payloads from its file: leave out -d and -p")
	case o.DurableName != "":
		return usagef("--durable-name names one event: it cannot be used with --each")
	case o.Log:
		return usagef("--log is for sync invokes: it cannot be used with --each")
	case o.Each == "-" && o.ResolvedConfig == "-":
		return usagef("--each - and --resolved-config - both read standard input: give the inputs as a file")
	case o.Rate < 0:
		return usagef("--rate %g must not be negative", o.Rate)
	case o.MaxInFlight < 1:
		return usagef("--max-in-flight %d: use at least 1", o.MaxInFlight)
	}
	data, err := readEachFile(o.Each, o.IO.In)
	if err != nil {
		return err
	}
	source := o.Each
	if source == "-" {
		source = "stdin"
	}
	inputs, err := parseEachInputs(data, source)
	if err != nil {
		return &usageError{err.Error()}
	}
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	cfg := defaultFanOutConfig()
	cfg.Rate, cfg.MaxInFlight = o.Rate, o.MaxInFlight
	w := newOrderedWriter(o.IO.Out, o.IO.Err, o.JSON())
	var werr error
	start := time.Now()
	fanOut(ctx, t.provider, fn.DeployedName, adapters.InvokeOptions{Async: true, Qualifier: o.Qualifier}, inputs, cfg, func(r sendResult) {
		if err := w.add(r); err != nil && werr == nil {
			werr = err
		}
	})
	took := time.Since(start)
	if werr != nil {
		return fmt.Errorf("invoke %s --each: writing the RequestIds: %w", fn.Name, werr)
	}
	rate := float64(w.sent) / max(took.Seconds(), 1e-3)
	fmt.Fprintf(o.IO.Err, "sent %d of %d input(s) to %s in %s (%.0f/s)", w.sent, len(inputs), fn.Name, took.Round(time.Millisecond), rate)
	if w.throttles > 0 {
		fmt.Fprintf(o.IO.Err, "; %d throttled invoke(s) retried", w.throttles)
	}
	fmt.Fprintln(o.IO.Err)
	for _, r := range w.failed {
		fmt.Fprintf(o.IO.Err, "input %d (line %d) failed: %v\n", r.Input.Index+1, r.Input.Line, r.Err)
	}
	if w.sent == len(inputs) {
		return nil
	}
	first := w.firstGap
	if first == nil && w.next < len(inputs) {
		first = &inputs[w.next] // never dispatched
	}
	next := ""
	if first != nil {
		next = fmt.Sprintf("; the first not sent is input %d (line %d)", first.Index+1, first.Line)
	}
	if ctx.Err() != nil {
		return &exitCodeError{code: exitInterrupted, err: fmt.Errorf("interrupted: %d of %d input(s) sent%s", w.sent, len(inputs), next)}
	}
	return fmt.Errorf("invoke %s --each: stopped after a failed invoke: %d of %d input(s) sent%s", fn.Name, w.sent, len(inputs), next)
}

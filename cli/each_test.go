package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
)

func TestParseEachInputs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		payloads []string
		lines    []int
		errLine  int // 0: no error
		errText  string
	}{
		{name: "JSON lines", in: "{\"n\":1}\n{\"n\":2}\n", payloads: []string{`{"n":1}`, `{"n":2}`}, lines: []int{1, 2}},
		{name: "blank lines skipped, numbers kept", in: "\n{\"n\":1}\n\n  \n{\"n\":2}\r\n", payloads: []string{`{"n":1}`, `{"n":2}`}, lines: []int{2, 5}},
		{name: "any JSON value per line", in: "1\n\"s\"\nnull\n[1,2]\n", payloads: []string{`1`, `"s"`, `null`, `[1,2]`}, lines: []int{1, 2, 3, 4}},
		{name: "JSON array", in: `[{"n":1}, {"n":2}, 3]`, payloads: []string{`{"n":1}`, `{"n":2}`, `3`}, lines: []int{1, 1, 1}},
		{name: "JSON array over lines", in: "[\n  {\"n\": 1},\n  {\"n\": 2}\n]\n", payloads: []string{`{"n": 1}`, `{"n": 2}`}, lines: []int{2, 3}},
		{name: "lines whose first is an array", in: "[1]\n[2]\n", payloads: []string{`[1]`, `[2]`}, lines: []int{1, 2}},
		{name: "bad line", in: "{\"n\":1}\n{\"n\":2}\n{\"n\":\n{\"n\":4}\n", errLine: 3, errText: "line 3: not valid JSON"},
		{name: "bad line after blanks", in: "\n\n{oops}\n", errLine: 3, errText: "{oops}"},
		{name: "broken array", in: "[\n {\"n\": 1},\n {\"n\" 2}\n]\n", errLine: 3, errText: "not a valid JSON array"},
		{name: "empty", in: " \n\n", errLine: 1, errText: "no inputs"},
		{name: "empty array", in: "[]", errLine: 1, errText: "no inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEachInputs([]byte(tc.in), "in.jsonl")
			if tc.errLine != 0 {
				var ie *eachInputError
				if !errors.As(err, &ie) || ie.Line != tc.errLine || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), "in.jsonl") {
					t.Fatalf("err = %v, want an eachInputError at line %d with %q", err, tc.errLine, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.payloads) {
				t.Fatalf("got %d inputs, want %d", len(got), len(tc.payloads))
			}
			for i, in := range got {
				if in.Index != i || string(in.Payload) != tc.payloads[i] || in.Line != tc.lines[i] {
					t.Errorf("input %d = {%d line %d %s}, want {%d line %d %s}", i, in.Index, in.Line, in.Payload, i, tc.lines[i], tc.payloads[i])
				}
			}
		})
	}
}

// fakeInvoker answers invokes with ids "id-<n>" from the payload {"n":N},
// throttling each payload's first throttles attempts, failing those in
// fail, and counting accepted invokes per payload.
type fakeInvoker struct {
	throttles int
	fail      map[int]bool
	delay     func(n int) time.Duration
	started   chan int // when not nil, receives n as each invoke begins

	mu       sync.Mutex
	attempts map[int]int
	accepted map[int]int
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (f *fakeInvoker) Invoke(ctx context.Context, fn string, payload []byte, opts adapters.InvokeOptions) (adapters.Invocation, error) {
	var p struct{ N int }
	if err := json.Unmarshal(payload, &p); err != nil {
		return adapters.Invocation{}, err
	}
	cur := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if cur <= m || f.maxSeen.CompareAndSwap(m, cur) {
			break
		}
	}
	if f.started != nil {
		f.started <- p.N
	}
	if f.delay != nil {
		select {
		case <-time.After(f.delay(p.N)):
		case <-ctx.Done():
			return adapters.Invocation{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[p.N]++
	if f.attempts[p.N] <= f.throttles {
		return adapters.Invocation{}, &adapters.APIError{Provider: "aws", Code: "TooManyRequestsException", Message: "Rate Exceeded.", HTTPStatus: 429}
	}
	if f.fail[p.N] {
		return adapters.Invocation{}, &adapters.APIError{Provider: "aws", Code: "InvalidParameterValueException", Message: "bad", HTTPStatus: 400}
	}
	f.accepted[p.N]++
	return adapters.Invocation{RequestID: fmt.Sprintf("id-%d", p.N)}, nil
}

func newFakeInvoker() *fakeInvoker {
	return &fakeInvoker{attempts: map[int]int{}, accepted: map[int]int{}, fail: map[int]bool{}}
}

func inputsN(n int) []eachInput {
	out := make([]eachInput, n)
	for i := range out {
		out[i] = eachInput{Index: i, Line: i + 1, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
	}
	return out
}

func testFanOutConfig() fanOutConfig {
	cfg := defaultFanOutConfig()
	cfg.Backoff, cfg.MaxBackoff, cfg.CallTimeout = time.Millisecond, 4*time.Millisecond, 5*time.Second
	return cfg
}

func runFanOut(ctx context.Context, f *fakeInvoker, inputs []eachInput, cfg fanOutConfig, asJSON bool) (*orderedWriter, string, string) {
	var out, errb bytes.Buffer
	w := newOrderedWriter(&out, &errb, asJSON)
	fanOut(ctx, f, "fn", adapters.InvokeOptions{Async: true}, inputs, cfg, func(r sendResult) {
		if err := w.add(r); err != nil {
			panic(err)
		}
	})
	return w, out.String(), errb.String()
}

func wantIDs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "id-%d\n", i)
	}
	return b.String()
}

func TestFanOut(t *testing.T) {
	// Later inputs answer first: the ids still come out in input order.
	reverse := func(n int) time.Duration { return time.Duration(50-n%50) * 100 * time.Microsecond }
	for _, tc := range []struct {
		name        string
		n           int
		throttles   int
		maxInFlight int
		delay       func(int) time.Duration
	}{
		{name: "in order", n: 500, maxInFlight: 16, delay: reverse},
		{name: "one at a time", n: 20, maxInFlight: 1},
		{name: "every input throttled three times", n: 200, throttles: 3, maxInFlight: 8, delay: reverse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeInvoker()
			f.throttles, f.delay = tc.throttles, tc.delay
			cfg := testFanOutConfig()
			cfg.MaxInFlight = tc.maxInFlight
			w, out, _ := runFanOut(context.Background(), f, inputsN(tc.n), cfg, false)
			if out != wantIDs(tc.n) {
				t.Fatalf("stdout is not the %d ids in input order:\n%s", tc.n, out)
			}
			if w.sent != tc.n || w.throttles != tc.n*tc.throttles || len(w.failed) != 0 {
				t.Errorf("sent %d, throttles %d, failed %d; want %d, %d, 0", w.sent, w.throttles, len(w.failed), tc.n, tc.n*tc.throttles)
			}
			for n := range tc.n {
				if f.accepted[n] != 1 {
					t.Errorf("input %d accepted %d times", n, f.accepted[n])
				}
			}
			if m := int(f.maxSeen.Load()); m > tc.maxInFlight {
				t.Errorf("%d invokes in flight at once, --max-in-flight %d", m, tc.maxInFlight)
			}
		})
	}
}

func TestFanOutGivesUpOnAPersistentThrottle(t *testing.T) {
	f := newFakeInvoker()
	f.throttles = 1000
	cfg := testFanOutConfig()
	cfg.Attempts, cfg.MaxInFlight = 4, 1
	w, out, _ := runFanOut(context.Background(), f, inputsN(3), cfg, false)
	if out != "" || len(w.failed) != 1 || !adapters.IsThrottled(w.failed[0].Err) || !strings.Contains(w.failed[0].Err.Error(), "after 4 attempts") {
		t.Fatalf("out %q, failed %+v", out, w.failed)
	}
	if f.attempts[0] != 4 || f.attempts[1] != 0 {
		t.Errorf("attempts %v: want 4 of input 0 and none of the rest (the fan-out stops)", f.attempts)
	}
}

func TestFanOutStopsAtAFailure(t *testing.T) {
	f := newFakeInvoker()
	f.fail[10] = true
	cfg := testFanOutConfig()
	cfg.MaxInFlight = 1
	w, out, _ := runFanOut(context.Background(), f, inputsN(100), cfg, false)
	if out != wantIDs(10) || w.sent != 10 || len(w.failed) != 1 || w.firstGap == nil || w.firstGap.Index != 10 {
		t.Fatalf("out %q sent %d failed %v gap %+v", out, w.sent, w.failed, w.firstGap)
	}
	// JSON lines name the failed input.
	f = newFakeInvoker()
	f.fail[2] = true
	_, out, _ = runFanOut(context.Background(), f, inputsN(5), cfg, true)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != `{"index":0,"line":1,"requestId":"id-0"}` || !strings.Contains(lines[2], `"index":2,"line":3,"error":`) {
		t.Fatalf("json lines:\n%s", out)
	}
}

// An interrupt stops new invokes; the ones on their way finish, and every
// id handed out is written.
func TestFanOutInterrupt(t *testing.T) {
	f := newFakeInvoker()
	f.started = make(chan int, 1000)
	f.delay = func(int) time.Duration { return 20 * time.Millisecond }
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for n := range f.started {
			if n == 50 {
				cancel()
				return
			}
		}
	}()
	cfg := testFanOutConfig()
	cfg.MaxInFlight = 8
	w, out, errOut := runFanOut(ctx, f, inputsN(1000), cfg, false)
	if w.sent < 1 || w.sent >= 1000 {
		t.Fatalf("sent %d, want the interrupt mid-fan-out", w.sent)
	}
	accepted := 0
	for i, c := range f.accepted {
		accepted += c
		// Every accepted id is printed once: on stdout, in input order, up
		// to the first input the interrupt kept from being sent (a worker
		// may have taken an earlier input than one already on its way, and
		// not sent it yet); after it, on stderr, named as sent after it.
		id := fmt.Sprintf("id-%d", i)
		inOut, inErr := strings.Count(out, id+"\n"), strings.Count(errOut, "RequestId "+id+"\n")
		if c == 1 && inOut+inErr != 1 {
			t.Errorf("%s accepted, printed %d times on stdout and %d on stderr", id, inOut, inErr)
		}
	}
	if accepted != w.sent {
		t.Fatalf("provider accepted %d, %d counted as sent", accepted, w.sent)
	}
	if !strings.HasPrefix(wantIDs(1000), out) {
		t.Fatalf("stdout is not the ids in input order:\n%s", out)
	}
}

func TestPacer(t *testing.T) {
	p := newPacer(200) // 5 ms apart
	start := time.Now()
	for range 21 {
		if err := p.wait(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 95*time.Millisecond {
		t.Errorf("21 turns at 200/s took %s, want at least 100ms", took)
	}
}

func TestIsThrottled(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&adapters.APIError{Provider: "aws", Code: "TooManyRequestsException", HTTPStatus: 429}, true},
		{fmt.Errorf("invoke: %w", &adapters.APIError{Provider: "local", Code: "Throttled", HTTPStatus: 429}), true},
		{&adapters.APIError{Provider: "tencent", Code: "RequestLimitExceeded.UinLimitExceeded", HTTPStatus: 200}, true},
		{&adapters.APIError{Provider: "tencent", Code: "FailedOperation.InvokeFunction", Message: "432 ResourceLimitReached: concurrency", HTTPStatus: 200}, true},
		{&adapters.APIError{Provider: "tencent", Code: "FailedOperation.InvokeFunction", Message: "function error", HTTPStatus: 200}, false},
		{&adapters.APIError{Provider: "local", Code: "ShuttingDown", HTTPStatus: 503}, false},
		{errors.New("connection reset"), false},
	} {
		if got := adapters.IsThrottled(tc.err); got != tc.want {
			t.Errorf("IsThrottled(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

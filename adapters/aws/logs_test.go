package aws

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

const (
	rid  = "6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab"
	rid2 = "0a0b0c0d-1111-4222-8333-444455556666"
)

func cw(msg string) cwtypes.FilteredLogEvent {
	return cwtypes.FilteredLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(1700000000123), EventId: aws.String("e1"),
		LogStreamName: aws.String("2023/11/14/[$LATEST]abc")}
}

func TestLineOf(t *testing.T) {
	for _, tc := range []struct {
		name, msg, id, text string
	}{
		{"START", "START RequestId: " + rid + " Version: $LATEST\n", rid, "START RequestId: " + rid + " Version: $LATEST"},
		{"END", "END RequestId: " + rid + "\n", rid, "END RequestId: " + rid},
		{"REPORT", "REPORT RequestId: " + rid + "\tDuration: 12.5 ms\n", rid, "REPORT RequestId: " + rid + "\tDuration: 12.5 ms"},
		{"INFO loses its prefix", "2023-11-14T22:13:20.123Z\t" + rid + "\tINFO\thello\tworld\n", rid, "hello\tworld"},
		{"ERROR keeps its prefix", "2023-11-14T22:13:20.123Z\t" + rid + "\tERROR\tInvoke Error \t{}", rid, "2023-11-14T22:13:20.123Z\t" + rid + "\tERROR\tInvoke Error \t{}"},
		{"timeout line (spaces)", "2023-11-14T22:13:23.130Z " + rid + " Task timed out after 3.00 seconds\n", rid,
			"2023-11-14T22:13:23.130Z " + rid + " Task timed out after 3.00 seconds"},
		{"emulator timeout line (RFC 3339 nano)", "2023-11-14T22:13:23.130456789Z " + rid + " Task timed out after 1.00 seconds", rid,
			"2023-11-14T22:13:23.130456789Z " + rid + " Task timed out after 1.00 seconds"},
		{"runtime exit", "RequestId: " + rid + " Error: Runtime exited with error: exit status 1", rid, "RequestId: " + rid + " Error: Runtime exited with error: exit status 1"},
		{"INIT line has no request", "INIT_START Runtime Version: nodejs:20.v13", "", "INIT_START Runtime Version: nodejs:20.v13"},
		{"not an id in the second field", "2023-11-14T22:13:20.123Z\tnot-an-id\tINFO\tx", "", "2023-11-14T22:13:20.123Z\tnot-an-id\tINFO\tx"},
		{"not a time in the first field", "yesterday " + rid + " Task timed out after 3.00 seconds", "", "yesterday " + rid + " Task timed out after 3.00 seconds"},
		{"short RequestId", "RequestId: 1234", "", "RequestId: 1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lineOf("fn", cw(tc.msg))
			if l.RequestID != tc.id || l.Text != tc.text {
				t.Errorf("lineOf(%q) = id %q text %q; want id %q text %q", tc.msg, l.RequestID, l.Text, tc.id, tc.text)
			}
			if l.Function != "fn" || l.Cursor != "e1" || l.Stream == "" || !l.Time.Equal(time.UnixMilli(1700000000123)) {
				t.Errorf("lineOf fields: %+v", l)
			}
		})
	}
}

func TestLooksLikeID(t *testing.T) {
	for s, want := range map[string]bool{
		rid: true, "6F1D1F5E-0C2A-4D3B-9E8F-0123456789AB": true,
		"": false, "6f1d1f5e0c2a4d3b9e8f0123456789ab": false, "6f1d1f5e-0c2a-4d3b-9e8f-0123456789a": false,
		"6f1d1f5e-0c2a-4d3b-9e8f-0123456789ag": false, "6f1d1f5e-0c2a-4d3b-9e8f_0123456789ab": false,
		"arn:aws:lambda:us-east-1:1:function:f": false,
	} {
		if got := looksLikeID(s); got != want {
			t.Errorf("looksLikeID(%q) = %v", s, got)
		}
	}
}

// TestTrackerStatus derives an event's status from its log lines, as a plain
// (non-durable) function's status is derived from CloudWatch Logs.
func TestTrackerStatus(t *testing.T) {
	ts := "2023-11-14T22:13:20.123Z"
	start := "START RequestId: " + rid + " Version: $LATEST"
	end := "END RequestId: " + rid
	report := "REPORT RequestId: " + rid + "\tDuration: 3003.41 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 45 MB"
	info := func(s string) string { return ts + "\t" + rid + "\tINFO\t" + s }
	errLine := func(s string) string { return ts + "\t" + rid + "\tERROR\t" + s }
	for _, tc := range []struct {
		name     string
		lines    []string
		status   event.Status
		attempts int
		errType  string
		errMsg   string
		duration int64
	}{
		{"nothing but a log line: QUEUED", []string{info("hi")}, event.Queued, 0, "", "", 0},
		{"START: RUNNING", []string{start, info("working")}, event.Running, 1, "", "", 0},
		{"END: SUCCEEDED", []string{start, info("working"), end}, event.Succeeded, 1, "", "", 0},
		{"REPORT: duration", []string{start, end, report}, event.Succeeded, 1, "", "", 3003},
		{"console.error is not a failure", []string{start, errLine("warning: cache cold"), errLine("something odd happened"), end, report},
			event.Succeeded, 1, "", "", 3003},
		{"Node's Invoke Error: FAILED", []string{start, errLine(`Invoke Error 	{"errorType":"TypeError","errorMessage":"x is undefined","stack":["TypeError: x is undefined"]}`), end, report},
			event.Failed, 1, "TypeError", "x is undefined", 3003},
		{"Invoke Error without JSON", []string{start, errLine("Invoke Error \tsomething"), end}, event.Failed, 1, "Runtime.Unknown", "something", 0},
		{"typed error line: FAILED", []string{start, errLine("Error: boom"), end}, event.Failed, 1, "Error", "boom", 0},
		{"dotted error type", []string{start, errLine("Runtime.UserCodeSyntaxError: SyntaxError: Unexpected token"), end},
			event.Failed, 1, "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected token", 0},
		{"JSON error line", []string{start, errLine(`{"errorType":"ValueError","errorMessage":"bad"}`), end}, event.Failed, 1, "ValueError", "bad", 0},
		{"timeout before END", []string{start, ts + " " + rid + " Task timed out after 3.00 seconds", end, report},
			event.TimedOut, 1, "Sandbox.Timedout", "Task timed out after 3.00 seconds", 3003},
		{"timeout after REPORT", []string{start, end, report, ts + " " + rid + " Task timed out after 3.00 seconds"},
			event.TimedOut, 1, "Sandbox.Timedout", "Task timed out after 3.00 seconds", 3003},
		{"REPORT Status: timeout", []string{start, end, report + "\tStatus: timeout"}, event.TimedOut, 1, "Sandbox.Timedout", "", 3003},
		{"REPORT Status: error", []string{start, end, report + "\tStatus: error\tError Type: Runtime.OutOfMemory"},
			event.Failed, 1, "Runtime.OutOfMemory", "", 3003},
		{"runtime exited", []string{start, "RequestId: " + rid + " Error: Runtime exited with error: exit status 1", end},
			event.Failed, 1, "Runtime.ExitError", "Runtime exited with error: exit status 1", 0},
		{"retry after a failure: RUNNING again", []string{start, errLine("Error: boom"), end, report, start}, event.Running, 2, "", "", 0},
		{"retry succeeded", []string{start, errLine("Error: boom"), end, report, start, end}, event.Succeeded, 2, "", "", 0},
		{"failed twice", []string{start, errLine("Error: boom 1"), end, start, errLine("Error: boom 2"), end}, event.Failed, 2, "Error", "boom 2", 0},
		{"TERMINATED", []string{start, "TERMINATED RequestId: " + rid}, event.Terminated, 1, "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker("fn")
			at := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
			for i, text := range tc.lines {
				l := lineOf("fn", cwtypes.FilteredLogEvent{Message: aws.String(text), Timestamp: aws.Int64(at.Add(time.Duration(i) * time.Second).UnixMilli())})
				tr.add(l)
			}
			e := tr.events[rid]
			if e == nil {
				t.Fatalf("no event derived from %q", tc.lines)
			}
			if e.Status != tc.status || e.Attempts != tc.attempts || e.ErrorType != tc.errType || e.ErrorMessage != tc.errMsg || e.DurationMs != tc.duration {
				t.Errorf("got %s, %d attempts, %q: %q, %d ms; want %s, %d, %q: %q, %d ms", e.Status, e.Attempts, e.ErrorType, e.ErrorMessage, e.DurationMs,
					tc.status, tc.attempts, tc.errType, tc.errMsg, tc.duration)
			}
			if !e.CreatedAt.Equal(at) || e.Function != "fn" || e.InvokeType != event.InvokeEvent {
				t.Errorf("event fields: %+v", e.Event)
			}
			if tc.status.Terminal() && tc.attempts > 0 && e.EndedAt == nil {
				t.Errorf("a finished event without EndedAt: %+v", e.Event)
			}
		})
	}
}

func TestTrackerKeepsEventsApart(t *testing.T) {
	tr := newTracker("fn")
	for _, text := range []string{
		"START RequestId: " + rid, "START RequestId: " + rid2,
		"2023-11-14T22:13:20.123Z\t" + rid2 + "\tINFO\tlooking at " + rid, // mentions rid, belongs to rid2
		"2023-11-14T22:13:20.123Z\t" + rid + "\tERROR\tError: boom",
		"END RequestId: " + rid, "END RequestId: " + rid2,
		"INIT_START Runtime Version: nodejs:20", // no request: ignored
	} {
		tr.add(lineOf("fn", cw(text)))
	}
	if len(tr.order) != 2 || tr.order[0] != rid || tr.order[1] != rid2 {
		t.Fatalf("order = %q", tr.order)
	}
	if tr.events[rid].Status != event.Failed || tr.events[rid2].Status != event.Succeeded {
		t.Errorf("statuses: %s, %s", tr.events[rid].Status, tr.events[rid2].Status)
	}
}

func TestInvokeError(t *testing.T) {
	for _, tc := range []struct {
		rest, typ, msg string
		ok             bool
	}{
		{`Invoke Error 	{"errorType":"Error","errorMessage":"boom"}`, "Error", "boom", true},
		{"Error: boom", "Error", "boom", true},
		{"TypeError: Cannot read properties of undefined (reading 'x')", "TypeError", "Cannot read properties of undefined (reading 'x')", true},
		{"QuotaException: over", "QuotaException", "over", true},
		{"Sandbox.Timedout: late", "Sandbox.Timedout", "late", true},
		{`{"errorType":"KeyError","errorMessage":"'x'"}`, "KeyError", "'x'", true},
		{"warning: cache cold", "", "", false},
		{"Something failed: badly", "", "", false}, // a space in the "type"
		{"retrying after: 5s", "", "", false},
		{"plain text", "", "", false},
		{`{"level":"error","msg":"x"}`, "", "", false},
		{": no type", "", "", false},
	} {
		typ, msg, ok := invokeError(tc.rest)
		if typ != tc.typ || msg != tc.msg || ok != tc.ok {
			t.Errorf("invokeError(%q) = %q, %q, %v; want %q, %q, %v", tc.rest, typ, msg, ok, tc.typ, tc.msg, tc.ok)
		}
	}
}

func TestFilterPattern(t *testing.T) {
	for _, tc := range []struct{ id, filter, want string }{
		{"", "", ""},
		{rid, "", `"` + rid + `"`},
		{"", "aws-cli", `"aws-cli"`},
		{rid, "frame 2", `"` + rid + `" "frame 2"`},
		{"", `say "hi"`, `"say hi"`}, // quotes cannot be escaped in a term: dropped
		{"", `""`, ""},
	} {
		if got := filterPattern(tc.id, tc.filter); got != tc.want {
			t.Errorf("filterPattern(%q, %q) = %q, want %q", tc.id, tc.filter, got, tc.want)
		}
	}
}

// TestAwaitRetries: a failed or timed-out attempt with a retry still due
// (attempts within MaximumRetryAttempts, the event younger than
// MaximumEventAgeInSeconds) shows QUEUED with its error; the last allowed
// attempt, an event past its age, and successes are final.
func TestAwaitRetries(t *testing.T) {
	created := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	policy := fnInfo{retries: 1, maxAge: time.Hour}
	for _, tc := range []struct {
		name     string
		status   event.Status
		attempts int
		now      time.Time
		want     event.Status
	}{
		{"failed, retry due", event.Failed, 1, created.Add(time.Minute), event.Queued},
		{"timed out, retry due", event.TimedOut, 1, created.Add(time.Minute), event.Queued},
		{"failed, retries used", event.Failed, 2, created.Add(time.Minute), event.Failed},
		{"failed, too old to retry", event.Failed, 1, created.Add(time.Hour), event.Failed},
		{"succeeded", event.Succeeded, 1, created.Add(time.Minute), event.Succeeded},
		{"running", event.Running, 1, created.Add(time.Minute), event.Running},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ended := created.Add(time.Second)
			tr := newTracker("f")
			tr.events[rid] = &tracked{Event: adapters.Event{RequestID: rid, Status: tc.status, Attempts: tc.attempts, CreatedAt: created, EndedAt: &ended,
				ErrorType: "Error", ErrorMessage: "boom"}}
			tr.awaitRetries(policy, tc.now)
			got := tr.events[rid]
			if got.Status != tc.want || got.ErrorMessage != "boom" {
				t.Errorf("status %s (error %q), want %s", got.Status, got.ErrorMessage, tc.want)
			}
		})
	}
}

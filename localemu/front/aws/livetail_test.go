package aws

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// liveTailHandler waits (so that a tail can start after the invoke
// returned the request id), then logs three lines.
const liveTailHandler = `
exports.three = async (event, context) => {
  await new Promise((r) => setTimeout(r, event.ms || 0));
  console.log("line 1 of " + context.awsRequestId);
  console.log("line 2 of " + (event.tag || ""));
  console.log("line 3");
  return "ok";
};
`

// noHostPrefix stops the SDK from prefixing StartLiveTail's host with
// "stream-", which it does even for a custom endpoint such as the emulator's.
func noHostPrefix(o *cloudwatchlogs.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("asyncfnNoHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// liveTailServer runs the fronts with strict credentials and deploys the
// function "tail" (an AWS function, region eu-west-1).
func liveTailServer(t *testing.T) (*localemu.Engine, string) {
	t.Helper()
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	ts := httptest.NewServer(emutest.Handler(New(e, &front.Credentials{ID: awsTestKeyID, Key: awsTestSecret}, e.Logger())))
	t.Cleanup(func() {
		emutest.CloseEngine(t, e) // ends open sessions (SessionStreamingException) before the server waits for them
		ts.Close()
	})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(liveTailHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	cfg := localemu.FunctionConfig{Name: "tail", Provider: "aws", Region: "eu-west-1", Runtime: "nodejs20.x", Handler: "index.three", MemorySize: 128, Timeout: 30,
		Async: localemu.AsyncConfig{Enabled: true, RetryAttempts: &zero}}
	if _, err := e.Deploy(context.Background(), cfg, zip); err != nil {
		t.Fatal(err)
	}
	return e, ts.URL
}

func liveTailSubs(e *localemu.Engine) int { return e.LogSubscribers() }

// TestStartLiveTailWithSDK starts a live tail with the SDK over a loopback
// HTTP/1.1 connection, filtered to one request id, and receives the
// sessionStart and then that event's lines, formatted as FilterLogEvents
// formats them, in sessionUpdates about a second apart.
func TestStartLiveTailWithSDK(t *testing.T) {
	e, url := liveTailServer(t)
	cw := cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, awsTestSecret), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) }, noHostPrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Two events; the tail follows the first only.
	id := emutest.InvokeAsync(t, e, "tail", `{"ms": 1500, "tag": "mine"}`).RequestID
	other := emutest.InvokeAsync(t, e, "tail", `{"ms": 1500, "tag": "other"}`).RequestID
	group := "arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/tail"
	pattern := `"` + id + `"`
	out, err := cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{group}, LogEventFilterPattern: aws.String(pattern)})
	if err != nil {
		t.Fatal(err)
	}
	stream := out.GetStream()
	defer stream.Close()
	if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); !ok {
		t.Errorf("no raw response in the metadata")
	} else {
		if raw.ProtoMajor != 1 || len(raw.TransferEncoding) != 1 || raw.TransferEncoding[0] != "chunked" {
			t.Errorf("response %s, transfer encoding %v: want a chunked HTTP/1.1 stream", raw.Proto, raw.TransferEncoding)
		}
		if ct := raw.Header.Get("Content-Type"); ct != "application/vnd.amazon.eventstream" {
			t.Errorf("Content-Type %q", ct)
		}
	}

	var start *cwtypes.LiveTailSessionStart
	var got []cwtypes.LiveTailSessionLogEvent
	var updates []time.Time
	done := false
	for !done {
		var ev cwtypes.StartLiveTailResponseStream
		var ok bool
		select {
		case ev, ok = <-stream.Events():
		case <-ctx.Done():
			t.Fatalf("no REPORT line of %s; got %d lines", id, len(got))
		}
		if !ok {
			t.Fatalf("stream ended: %v (got %d lines)", stream.Err(), len(got))
		}
		switch v := ev.(type) {
		case *cwtypes.StartLiveTailResponseStreamMemberSessionStart:
			if start != nil || len(updates) > 0 {
				t.Errorf("sessionStart is not the first event, or came twice")
			}
			start = &v.Value
		case *cwtypes.StartLiveTailResponseStreamMemberSessionUpdate:
			if start == nil {
				t.Fatalf("sessionUpdate before sessionStart")
			}
			updates = append(updates, time.Now())
			if v.Value.SessionMetadata == nil || v.Value.SessionMetadata.Sampled {
				t.Errorf("session metadata %+v", v.Value.SessionMetadata)
			}
			for _, l := range v.Value.SessionResults {
				got = append(got, l)
				if strings.HasPrefix(aws.ToString(l.Message), "REPORT RequestId: "+id) {
					done = true
				}
			}
		default:
			t.Fatalf("unexpected event %T", ev)
		}
	}
	if aws.ToString(start.RequestId) == "" || aws.ToString(start.SessionId) == "" || aws.ToString(start.LogEventFilterPattern) != pattern ||
		len(start.LogGroupIdentifiers) != 1 || start.LogGroupIdentifiers[0] != group {
		t.Errorf("sessionStart %+v", start)
	}
	// The updates come about once a second (the first ones carry nothing:
	// the handler waits 1.5 s before it logs).
	if len(updates) < 2 {
		t.Errorf("%d sessionUpdates in the ~2 s the event ran", len(updates))
	}
	for i := 1; i < len(updates); i++ {
		if gap := updates[i].Sub(updates[i-1]); gap < 500*time.Millisecond || gap > 3*time.Second {
			t.Errorf("sessionUpdate %d came %s after the previous one", i, gap)
		}
	}

	// Exactly the lines FilterLogEvents returns for the same pattern, from
	// "line 1" on (the START line may come before the session started).
	emutest.Wait(t, e, id)
	filtered, err := cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String(group), FilterPattern: aws.String(pattern)})
	if err != nil {
		t.Fatal(err)
	}
	want := filtered.Events
	if len(got) > len(want) || len(got) < 5 {
		t.Fatalf("live lines:\n%s\nFilterLogEvents:\n%s", liveTexts(got), filteredTexts(want))
	}
	want = want[len(want)-len(got):]
	for i := range want {
		g, w := got[i], want[i]
		if aws.ToString(g.Message) != aws.ToString(w.Message) || aws.ToInt64(g.Timestamp) != aws.ToInt64(w.Timestamp) ||
			aws.ToString(g.LogStreamName) != aws.ToString(w.LogStreamName) || aws.ToString(g.LogGroupIdentifier) != group ||
			aws.ToInt64(g.IngestionTime) < aws.ToInt64(g.Timestamp) {
			t.Errorf("line %d: live %+v, FilterLogEvents %+v", i, g, w)
		}
		if strings.Contains(aws.ToString(g.Message), other) || strings.Contains(aws.ToString(g.Message), "line 2 of other") {
			t.Errorf("a line of the other event: %q", aws.ToString(g.Message))
		}
	}
	n := len(got)
	for i, suffix := range map[int]string{n - 5: "\tINFO\tline 1 of " + id + "\n", n - 4: "\tINFO\tline 2 of mine\n", n - 3: "\tINFO\tline 3\n"} {
		if !strings.HasSuffix(aws.ToString(got[i].Message), suffix) {
			t.Errorf("line %d = %q, want suffix %q", i, aws.ToString(got[i].Message), suffix)
		}
	}
	if !strings.HasPrefix(aws.ToString(got[n-2].Message), "END RequestId: "+id) {
		t.Errorf("line %d = %q, want END", n-2, aws.ToString(got[n-2].Message))
	}

	// The client goes away: the session ends and unsubscribes.
	stream.Close()
	deadline := time.Now().Add(10 * time.Second)
	for liveTailSubs(e) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the session still holds %d log subscriptions after the client left", liveTailSubs(e))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func liveTexts(l []cwtypes.LiveTailSessionLogEvent) string {
	var b strings.Builder
	for _, e := range l {
		b.WriteString(aws.ToString(e.Message))
	}
	return b.String()
}

func filteredTexts(l []cwtypes.FilteredLogEvent) string {
	var b strings.Builder
	for _, e := range l {
		b.WriteString(aws.ToString(e.Message))
	}
	return b.String()
}

// TestStartLiveTailErrors: errors before the stream starts are JSON 1.1
// errors the SDK maps to its types; a bad signature is refused as for every
// other operation.
func TestStartLiveTailErrors(t *testing.T) {
	e, url := liveTailServer(t)
	cw := cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, awsTestSecret), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) }, noHostPrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err := cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/nope"}})
	wantAPIError(t, err, "ResourceNotFoundException")
	var nf *cwtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown group: %T, want *cwtypes.ResourceNotFoundException", err)
	}
	_, err = cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/aws/lambda/tail"}, LogEventFilterPattern: aws.String(`{ $.level = "x" }`)})
	wantAPIError(t, err, "InvalidParameterException")
	_, err = cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/aws/lambda/tail"},
		LogStreamNames: []string{"a"}, LogStreamNamePrefixes: []string{"b"}})
	wantAPIError(t, err, "InvalidParameterException")

	wrong := cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, "not-the-secret"), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) }, noHostPrefix)
	_, err = wrong.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/aws/lambda/tail"}})
	wantAPIError(t, err, "InvalidSignatureException")
	if n := liveTailSubs(e); n != 0 {
		t.Errorf("%d log subscriptions left by refused sessions", n)
	}
}

// TestStartLiveTailTimesOut: a session ends with SessionTimeoutException
// at its time limit (three hours; shortened here, before the server starts
// and restored after it has stopped).
func TestStartLiveTailTimesOut(t *testing.T) {
	interval, limit := cwLiveTailInterval, cwLiveTailMaxSession
	cwLiveTailInterval, cwLiveTailMaxSession = 100*time.Millisecond, 700*time.Millisecond
	t.Cleanup(func() { cwLiveTailInterval, cwLiveTailMaxSession = interval, limit })
	_, url := liveTailServer(t)
	cw := cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, awsTestSecret), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) }, noHostPrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out, err := cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/aws/lambda/tail"}})
	if err != nil {
		t.Fatal(err)
	}
	defer out.GetStream().Close()
	began := time.Now()
	n := drainLiveTail(out.GetStream())
	var timeout *cwtypes.SessionTimeoutException
	if err := out.GetStream().Err(); !errors.As(err, &timeout) {
		t.Errorf("after the session limit: %v (%T), want *cwtypes.SessionTimeoutException", err, err)
	}
	if took := time.Since(began); n < 4 || took < 600*time.Millisecond || took > 5*time.Second {
		t.Errorf("%d updates in %s, for a 700 ms session of 100 ms updates", n, took)
	}
}

// TestStartLiveTailShutdown: a session ends with SessionStreamingException
// when the emulator shuts down.
func TestStartLiveTailShutdown(t *testing.T) {
	e, url := liveTailServer(t)
	cw := cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, awsTestSecret), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) }, noHostPrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/aws/lambda/tail"}})
	if err != nil {
		t.Fatal(err)
	}
	defer out.GetStream().Close()
	ended := make(chan error, 1)
	go func() { drainLiveTail(out.GetStream()); ended <- out.GetStream().Err() }()
	time.Sleep(300 * time.Millisecond)
	emutest.CloseEngine(t, e)
	select {
	case err := <-ended:
		var streaming *cwtypes.SessionStreamingException
		if !errors.As(err, &streaming) {
			t.Errorf("at shutdown: %v (%T), want *cwtypes.SessionStreamingException", err, err)
		}
	case <-ctx.Done():
		t.Fatal("the session did not end when the emulator shut down")
	}
}

// drainLiveTail reads a session to its end and counts its updates.
func drainLiveTail(s *cloudwatchlogs.StartLiveTailEventStream) (updates int) {
	for ev := range s.Events() {
		if _, ok := ev.(*cwtypes.StartLiveTailResponseStreamMemberSessionUpdate); ok {
			updates++
		}
	}
	return updates
}

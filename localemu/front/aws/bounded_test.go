package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// TestLogTailIsTheLastBytes: Invoke's X-Amz-Log-Result is the last 4 KB of
// the event's log (read newest first, a page of lines), or all of it when
// it is shorter; the lines of other events are not in it.
func TestLogTailIsTheLastBytes(t *testing.T) {
	const long, short = "6f1d1f5e-0000-4000-8000-000000000001", "6f1d1f5e-0000-4000-8000-000000000002"
	var lines []store.LogLine
	at := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	for seq := int64(1); seq <= 3000; seq++ {
		l := store.LogLine{Seq: seq, Function: "tail", RequestID: long, Attempt: 1, Time: at.Add(time.Duration(seq) * time.Millisecond),
			Stream: []string{"stdout", "stderr", "platform"}[seq%3], Text: fmt.Sprintf("line %d %s", seq, strings.Repeat("x", int(seq%40)))}
		switch {
		case seq%3 == 0:
			l.RequestID = "6f1d1f5e-0000-4000-8000-000000000003"
		case seq%500 == 0:
			l.RequestID = short
		}
		lines = append(lines, l)
	}
	e := engineWithLogs(t, []string{"tail"}, lines)
	f := New(e, nil, e.Logger())
	for _, id := range []string{long, short, "6f1d1f5e-0000-4000-8000-000000000009"} {
		var all strings.Builder
		for _, l := range lines {
			if l.RequestID == id {
				all.WriteString(cwMessage(l))
			}
		}
		want := all.String()
		if len(want) > logTailBytes {
			want = want[len(want)-logTailBytes:]
		}
		if got := string(f.logTail(context.Background(), id)); got != want {
			t.Errorf("%s: tail of %d bytes\n%.200q...\nwant %d bytes\n%.200q...", id, len(got), got, len(want), want)
		}
	}
}

// TestListExecutionsByName: DurableExecutionName selects the one execution
// of that name (the store filters it); without it the list pages.
func TestListExecutionsByName(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	ctx := context.Background()
	cfg := localemu.FunctionConfig{Name: "fn", Provider: cloud.AWS, Region: "eu-west-1", Runtime: "nodejs18.x", Handler: "index.ok", Timeout: 30, MemorySize: 128,
		Async: nativeapi.AsyncConfig{Durable: &nativeapi.DurableConfig{ExecutionTimeout: 3600}}} // durable: its events are executions
	if _, err := e.Deploy(ctx, cfg, emutest.CodeZip(t)); err != nil {
		t.Fatal(err)
	}
	named := map[string]store.Event{}
	for i, name := range []string{"a", "", "b", "", "c"} {
		ev, err := e.Invoke(ctx, localemu.InvokeRequest{Function: "fn", Payload: []byte(fmt.Sprintf(`{"i":%d}`, i)), Type: event.InvokeEvent, DurableName: name})
		if err != nil {
			t.Fatal(err)
		}
		if name != "" {
			named[name] = ev
		}
	}
	c := lambdaClient(emutest.Serve(t, New(e, nil, e.Logger())), awsTestKeyID, awsTestSecret)
	for name, ev := range named {
		out, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("fn"), DurableExecutionName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.DurableExecutions) != 1 || aws.ToString(out.DurableExecutions[0].DurableExecutionArn) != executionARN("eu-west-1", ev) ||
			aws.ToString(out.DurableExecutions[0].DurableExecutionName) != name || out.NextMarker != nil {
			t.Errorf("%s: %+v", name, out)
		}
	}
	out, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("fn"), DurableExecutionName: aws.String("z")})
	if err != nil || len(out.DurableExecutions) != 0 || out.NextMarker != nil {
		t.Errorf("unknown name: %+v %v", out, err)
	}
	var names []string
	in := lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("fn"), MaxItems: 2}
	for pages := 0; ; pages++ {
		out, err := c.ListDurableExecutionsByFunction(ctx, &in)
		if err != nil || pages > 3 {
			t.Fatalf("page %d: %+v %v", pages, out, err)
		}
		for _, x := range out.DurableExecutions {
			names = append(names, aws.ToString(x.DurableExecutionName))
		}
		if out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	if len(names) != 5 || names[0] != "a" || names[2] != "b" || names[4] != "c" {
		t.Errorf("pages of 2: %v", names)
	}
}

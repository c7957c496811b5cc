package aws

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// TestGetLogEventsBackwardPaging pages GetLogEvents backwards, from the
// latest events to the start of the stream, over a few thousand lines of two
// functions and two days, and compares every page with a slow reference:
// the last limit lines of the window before the page that followed.
func TestGetLogEventsBackwardPaging(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

	var all []store.LogLine
	at := day.Add(30 * time.Minute)
	for seq := int64(1); seq <= 2600; seq++ {
		l := store.LogLine{Seq: seq, Function: "pager", RequestID: fmt.Sprintf("6f1d1f5e-0000-4000-8000-%012d", seq/10), Attempt: 1,
			Time: at, Stream: []string{"stdout", "stderr", "platform"}[seq%3], Text: fmt.Sprintf("line %d", seq)}
		if seq%4 == 0 {
			l.Function = "other"
		}
		if seq == 2001 {
			at = day.Add(24 * time.Hour) // the first line of the next day's stream, at its first instant
			l.Time = at
		}
		all = append(all, l)
		if seq%5 != 0 { // some lines share their millisecond
			at = at.Add(time.Duration(seq%7) * 7 * time.Second)
		}
	}
	e := engineWithLogs(t, []string{"pager", "other"}, all)
	url := emutest.Serve(t, New(e, nil, e.Logger()))
	// A read, retried as the SDK's default retryer would on a connection
	// lost under load (the pages are compared, not the transport).
	cw := cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, awsTestSecret), func(o *cloudwatchlogs.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = 3
	})

	// window is the reference: pager's lines of a stream's day within
	// [since, until), in order.
	window := func(d time.Time, since, until time.Time) []store.LogLine {
		var out []store.LogLine
		for _, l := range all {
			if l.Function == "pager" && !l.Time.Before(d) && l.Time.Before(d.Add(24*time.Hour)) &&
				(since.IsZero() || !l.Time.Before(since)) && (until.IsZero() || l.Time.Before(until)) {
				out = append(out, l)
			}
		}
		return out
	}
	mid := day.Add(30*time.Minute + 2*time.Hour)
	cases := []struct {
		name         string
		day          time.Time
		since, until time.Time
		limits       []int32
	}{
		{"whole day", day, time.Time{}, time.Time{}, []int32{7, 100, 10000}},
		{"next day", day.Add(24 * time.Hour), time.Time{}, time.Time{}, []int32{1, 50}},
		{"startTime and endTime", day, mid, mid.Add(3 * time.Hour), []int32{1, 13}},
	}
	for _, c := range cases {
		lines := window(c.day, c.since, c.until)
		if len(lines) < 100 {
			t.Fatalf("%s: only %d lines in the window", c.name, len(lines))
		}
		for _, limit := range c.limits {
			t.Run(fmt.Sprintf("%s, limit %d", c.name, limit), func(t *testing.T) {
				in := cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/pager"),
					LogStreamName: aws.String(cwStreamName("pager", c.day)), Limit: aws.Int32(limit)}
				if !c.since.IsZero() {
					in.StartTime, in.EndTime = aws.Int64(c.since.UnixMilli()), aws.Int64(c.until.UnixMilli())
				}
				end := len(lines) // the reference page ends before lines[end]
				pages := 0
				for {
					out, err := cw.GetLogEvents(ctx, &in)
					if err != nil {
						t.Fatal(err)
					}
					want := lines[max(0, end-int(limit)):end]
					if got, w := eventTexts(out.Events), lineTexts(want); got != w {
						t.Fatalf("page %d (token %s):\n got %s\nwant %s", pages, aws.ToString(in.NextToken), got, w)
					}
					if len(want) == 0 {
						if aws.ToString(out.NextBackwardToken) != aws.ToString(in.NextToken) {
							t.Errorf("at the start of the stream the backward token moved: %s after %s", aws.ToString(out.NextBackwardToken), aws.ToString(in.NextToken))
						}
						break
					}
					if w := fmt.Sprintf("b/%d", want[0].Seq); aws.ToString(out.NextBackwardToken) != w {
						t.Fatalf("page %d: nextBackwardToken %s, want %s", pages, aws.ToString(out.NextBackwardToken), w)
					}
					end -= len(want)
					in.NextToken = out.NextBackwardToken
					pages++
				}
				if want := (len(lines) + int(limit) - 1) / int(limit); pages != want {
					t.Errorf("%d pages of %d lines, want %d", pages, len(lines), want)
				}
			})
		}
	}

	// A backward token before the first line: nothing comes before it.
	for _, token := range []string{"b/1", "b/0", "b/-5"} {
		out, err := cw.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/pager"),
			LogStreamName: aws.String(cwStreamName("pager", day)), NextToken: aws.String(token)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 0 {
			t.Errorf("%s: %d events before it", token, len(out.Events))
		}
	}
}

// engineWithLogs starts an engine whose store holds the AWS functions fns
// (not run: their code is the test handlers) and the log lines given,
// written to the store directly.
func engineWithLogs(t *testing.T, fns []string, lines []store.LogLine) *localemu.Engine {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := emutest.NewEngine(t, localemu.Options{StateDir: dir})
	for _, name := range fns {
		cfg := localemu.FunctionConfig{Name: name, Provider: cloud.AWS, Region: "eu-west-1", Runtime: "nodejs18.x", Handler: "index.ok", Timeout: 30, MemorySize: 128}
		if _, err := e.Deploy(ctx, cfg, emutest.CodeZip(t)); err != nil {
			t.Fatal(err)
		}
	}
	emutest.CloseEngine(t, e)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendLogs(ctx, lines); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return emutest.NewEngine(t, localemu.Options{StateDir: dir})
}

func eventTexts(evs []cwtypes.OutputLogEvent) string {
	var b []byte
	for _, ev := range evs {
		b = fmt.Appendf(b, "%d %q; ", aws.ToInt64(ev.Timestamp), aws.ToString(ev.Message))
	}
	return string(b)
}

func lineTexts(lines []store.LogLine) string {
	var b []byte
	for _, l := range lines {
		ev := cwEventOf(l, false)
		b = fmt.Appendf(b, "%d %q; ", ev.Timestamp, ev.Message)
	}
	return string(b)
}

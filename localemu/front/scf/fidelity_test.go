package scf

import (
	"encoding/base64"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
)

// fidelityServer is the front over a fresh engine, its sync Invoke wait set
// to syncWait, and an SDK client for it.
func fidelityServer(t *testing.T, syncWait time.Duration) (*scf.Client, string) {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	f := New(e, nil, e.Logger())
	f.syncWait = syncWait
	ts := httptest.NewServer(emutest.Handler(f))
	t.Cleanup(func() {
		ts.Close()
		emutest.CloseEngine(t, e)
	})
	return sdkClient(t, ts.URL, "any", "any"), ts.URL
}

// createFn creates a function with the test handlers and waits until it is
// Active.
func createFn(t *testing.T, c *scf.Client, name, handler, async, trace string, timeout int64) {
	t.Helper()
	req := scf.NewCreateFunctionRequest()
	req.FunctionName, req.Handler, req.Runtime = ptr(name), ptr(handler), ptr("Nodejs16.13")
	req.Code = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(emutest.CodeZip(t)))}
	req.Timeout, req.AsyncRunEnable, req.TraceEnable = ptr(timeout), ptr(async), ptr(trace)
	if _, err := c.CreateFunction(req); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settleTime + 50*time.Millisecond)
}

func invoke(t *testing.T, c *scf.Client, fn, typ, payload string) *scf.InvokeResponse {
	t.Helper()
	req := scf.NewInvokeRequest()
	req.FunctionName, req.InvocationType, req.ClientContext = ptr(fn), ptr(typ), ptr(payload)
	r, err := c.Invoke(req)
	if err != nil {
		t.Fatalf("Invoke %s %s: %v", fn, typ, err)
	}
	return r
}

// Item 8: ListAsyncEvents, GetAsyncEventStatus and TerminateAsyncEvent serve
// functions in async run mode with event tracking; for any other function
// they answer as SCF does: its events are not recorded.
func TestAsyncEventActionsNeedAsyncModeAndTracking(t *testing.T) {
	emutest.NeedNode(t)
	c, url := fidelityServer(t, syncInvokeLimit)
	createFn(t, c, "sync", "index.ok", "FALSE", "FALSE", 30)
	createFn(t, c, "untracked", "index.ok", "TRUE", "FALSE", 30)
	createFn(t, c, "tracked", "index.ok", "TRUE", "TRUE", 30)
	ids := map[string]string{
		"sync":      *invoke(t, c, "sync", "RequestResponse", `{}`).Response.Result.FunctionRequestId,
		"untracked": *invoke(t, c, "untracked", "Event", `{}`).Response.Result.FunctionRequestId,
		"tracked":   *invoke(t, c, "tracked", "Event", `{}`).Response.Result.FunctionRequestId,
	}
	for _, fn := range []string{"sync", "untracked", "tracked"} {
		want := "InvalidParameterValue.FunctionName"
		statusWant := "ResourceNotFound.AsyncEvent"
		if fn == "tracked" {
			want, statusWant = "", ""
		}
		la := scf.NewListAsyncEventsRequest()
		la.FunctionName = ptr(fn)
		_, err := c.ListAsyncEvents(la)
		if got := codeOf(t, err); got != want {
			t.Errorf("ListAsyncEvents %s: %q, want %q", fn, got, want)
		}
		// SDK v1.0.162 has no GetAsyncEventStatus: a raw request.
		if got := errorCode(rawSCF(t, url, "GetAsyncEventStatus", apiVersion, `{"InvokeRequestId":"`+ids[fn]+`"}`, nil)); got != statusWant {
			t.Errorf("GetAsyncEventStatus of a %s event: %q, want %q", fn, got, statusWant)
		}
		te := scf.NewTerminateAsyncEventRequest()
		te.FunctionName, te.InvokeRequestId = ptr(fn), ptr(ids[fn])
		_, err = c.TerminateAsyncEvent(te)
		got := codeOf(t, err)
		if fn == "tracked" {
			// Finished by now, or still running: either answer is SCF's.
			if got != "" && got != "FailedOperation.AsyncEventStatus" {
				t.Errorf("TerminateAsyncEvent tracked: %q", got)
			}
		} else if got != want {
			t.Errorf("TerminateAsyncEvent %s: %q, want %q", fn, got, want)
		}
	}
}

func codeOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	return sdkCode(t, err)
}

// Item 10: a running attempt is RetCode 2 with InvokeFinished 0; once
// terminated it is RetCode 3 (interrupted) and ended, InvokeFinished 1.
func TestFunctionLogRetCodeRunningAndInterrupted(t *testing.T) {
	emutest.NeedNode(t)
	c, _ := fidelityServer(t, syncInvokeLimit)
	createFn(t, c, "long", "index.stubborn", "TRUE", "TRUE", 120)
	id := *invoke(t, c, "long", "Event", `{}`).Response.Result.FunctionRequestId
	logOf := func() *scf.FunctionLog {
		gl := scf.NewGetFunctionLogsRequest()
		gl.FunctionName, gl.FunctionRequestId = ptr("long"), ptr(id)
		r, err := c.GetFunctionLogs(gl)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Response.Data) == 0 {
			return nil
		}
		return r.Response.Data[0]
	}
	waitFor := func(what string, ok func(*scf.FunctionLog) bool) *scf.FunctionLog {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if d := logOf(); d != nil && ok(d) {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("the attempt never %s: %+v", what, logOf())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	d := waitFor("ran", func(d *scf.FunctionLog) bool { return *d.RetCode == logRunning })
	if *d.InvokeFinished != 0 {
		t.Errorf("running attempt: InvokeFinished %d, want 0", *d.InvokeFinished)
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$`).MatchString(*d.StartTime) {
		t.Errorf("StartTime %q is not in milliseconds", *d.StartTime)
	}
	te := scf.NewTerminateAsyncEventRequest()
	te.FunctionName, te.InvokeRequestId = ptr("long"), ptr(id)
	if _, err := c.TerminateAsyncEvent(te); err != nil {
		t.Fatal(err)
	}
	d = waitFor("ended", func(d *scf.FunctionLog) bool { return *d.InvokeFinished == 1 })
	if *d.RetCode != logInterrupted {
		t.Errorf("terminated attempt: RetCode %d, want %d (interrupted)", *d.RetCode, logInterrupted)
	}
	if *d.BillDuration != billDuration(int64(*d.Duration)) {
		t.Errorf("BillDuration %d for a Duration of %v ms", *d.BillDuration, *d.Duration)
	}
}

// Item 11: the documented limits, each refused with the code the action's
// error list gives.
func TestDocumentedLimitsAndCodes(t *testing.T) {
	emutest.NeedNode(t)
	c, url := fidelityServer(t, syncInvokeLimit)
	createFn(t, c, "fn", "index.ok", "TRUE", "TRUE", 30)
	zip := base64.StdEncoding.EncodeToString(emutest.CodeZip(t))
	create := func(name string, mem, timeout int64, async string) func() error {
		return func() error {
			req := scf.NewCreateFunctionRequest()
			req.FunctionName, req.Handler, req.Runtime = ptr(name), ptr("index.ok"), ptr("Nodejs16.13")
			req.Code = &scf.Code{ZipFile: ptr(zip)}
			req.MemorySize, req.Timeout, req.AsyncRunEnable = ptr(mem), ptr(timeout), ptr(async)
			_, err := c.CreateFunction(req)
			return err
		}
	}
	retry := func(retryNum, ttl int64) func() error {
		return func() error {
			req := scf.NewUpdateFunctionEventInvokeConfigRequest()
			req.FunctionName = ptr("fn")
			req.AsyncTriggerConfig = &scf.AsyncTriggerConfig{RetryConfig: []*scf.RetryConfig{{RetryNum: ptr(retryNum)}}, MsgTTL: ptr(ttl)}
			_, err := c.UpdateFunctionEventInvokeConfig(req)
			if err == nil {
				time.Sleep(settleTime + 50*time.Millisecond) // an accepted update settles
			}
			return err
		}
	}
	runtime := func(rt string) func() error {
		return func() error {
			req := scf.NewUpdateFunctionConfigurationRequest()
			req.FunctionName, req.Runtime = ptr("fn"), ptr(rt)
			_, err := c.UpdateFunctionConfiguration(req)
			if err == nil {
				time.Sleep(settleTime + 50*time.Millisecond) // an accepted update settles
			}
			return err
		}
	}
	logs := func(body string) func() error {
		return func() error {
			if code := errorCode(rawSCF(t, url, "GetFunctionLogs", apiVersion, body, nil)); code != "" {
				return &apiError{Code: code}
			}
			return nil
		}
	}
	raw := func(action, body string) func() error {
		return func() error {
			if code := errorCode(rawSCF(t, url, action, apiVersion, body, nil)); code != "" {
				return &apiError{Code: code}
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"MemorySize 64", create("m64", 64, 3, "FALSE"), ""},
		{"MemorySize 3072", create("m3072", 3072, 3, "FALSE"), ""},
		{"MemorySize 96", create("m96", 96, 3, "FALSE"), "InvalidParameterValue.MemorySize"},
		{"MemorySize 200", create("m200", 200, 3, "FALSE"), "InvalidParameterValue.MemorySize"},
		{"MemorySize 3200", create("m3200", 3200, 3, "FALSE"), "LimitExceeded.Memory"},
		{"MemorySize 10240", create("m10240", 10240, 3, "FALSE"), "LimitExceeded.Memory"},
		{"Timeout 0", create("t0", 128, 0, "FALSE"), "InvalidParameterValue"},
		{"Timeout 900", create("t900", 128, 900, "FALSE"), ""},
		{"Timeout 901", create("t901", 128, 901, "FALSE"), "LimitExceeded.Timeout"},
		{"Timeout 86400 async", create("t86400", 128, 86400, "TRUE"), ""},
		{"Timeout 86401 async", create("t86401", 128, 86401, "TRUE"), "LimitExceeded.Timeout"},
		{"no Code", raw("CreateFunction", `{"FunctionName":"nocode","Handler":"index.ok"}`), "MissingParameter.Code"},
		{"Runtime unchanged", runtime("Nodejs16.13"), ""},
		{"Runtime changed", runtime("Python3.6"), "InvalidParameterValue.Runtime"},
		{"RetryNum 2", retry(2, 60), ""},
		{"RetryNum 3", retry(3, 60), "LimitExceeded.RetryNum"},
		{"RetryNum -1", retry(-1, 60), "InvalidParameterValue.AsyncTriggerConfig"},
		{"MsgTTL 21600", retry(0, 21600), ""},
		{"MsgTTL 21601", retry(0, 21601), "LimitExceeded.MsgTTL"},
		{"MsgTTL 59", retry(0, 59), "InvalidParameterValue.AsyncTriggerConfig"},
		{"logs Offset+Limit 10000", logs(`{"FunctionName":"fn","Offset":9990,"Limit":10}`), ""},
		{"logs Offset+Limit 10001", logs(`{"FunctionName":"fn","Offset":9991,"Limit":10}`), "LimitExceeded.Offset"},
		{"logs Offset -1", logs(`{"FunctionName":"fn","Offset":-1}`), "InvalidParameterValue.Offset"},
		{"logs StartTime alone", logs(`{"FunctionName":"fn","StartTime":"2026-01-01 00:00:00"}`), "InvalidParameterValue.StartTimeOrEndTime"},
		{"logs EndTime alone", logs(`{"FunctionName":"fn","EndTime":"2026-01-01 00:00:00"}`), "InvalidParameterValue.StartTimeOrEndTime"},
		{"logs with milliseconds", logs(`{"FunctionName":"fn","StartTime":"2026-01-01 00:00:00.250","EndTime":"2026-01-01 10:00:00.750"}`), ""},
		{"logs malformed time", logs(`{"FunctionName":"fn","StartTime":"yesterday","EndTime":"2026-01-01 00:00:00"}`), "InvalidParameterValue.DateTime"},
		{"logs inverted", logs(`{"FunctionName":"fn","StartTime":"2026-01-02 00:00:00","EndTime":"2026-01-01 00:00:00"}`), "InvalidParameterValue.DateTime"},
		{"logs one day", logs(`{"FunctionName":"fn","StartTime":"2026-01-01 00:00:00","EndTime":"2026-01-02 00:00:00"}`), ""},
		{"logs over a day", logs(`{"FunctionName":"fn","StartTime":"2026-01-01 00:00:00","EndTime":"2026-01-02 00:00:01"}`), "InvalidParameterValue.DateTime"},
		{"logs Order", logs(`{"FunctionName":"fn","Order":"up"}`), "InvalidParameterValue.Order"},
		{"logs OrderBy", logs(`{"FunctionName":"fn","OrderBy":"size"}`), "InvalidParameterValue.OrderBy"},
		{"logs version", logs(`{"FunctionName":"fn","Qualifier":"1"}`), "ResourceNotFound.Function"},
		{"events Orderby", raw("ListAsyncEvents", `{"FunctionName":"fn","Orderby":"Size"}`), "InvalidParameterValue.Order"},
		{"events Limit 101", raw("ListAsyncEvents", `{"FunctionName":"fn","Limit":101}`), "InvalidParameterValue.Limit"},
		{"events version", raw("ListAsyncEvents", `{"FunctionName":"fn","Qualifier":"1"}`), ""},
		{"invoke not JSON", raw("Invoke", `{"FunctionName":"fn","InvocationType":"Event","ClientContext":"not json"}`), "InvalidParameterValue.Param"},
		{"invoke type", raw("Invoke", `{"FunctionName":"fn","InvocationType":"Later"}`), "InvalidParameterValue"},
		{"invoke version", raw("Invoke", `{"FunctionName":"fn","Qualifier":"1"}`), "ResourceNotFound.Function"},
		{"delete version", raw("DeleteFunction", `{"FunctionName":"fn","Qualifier":"1"}`), "ResourceNotFound.Qualifier"},
	} {
		got := ""
		if err := tc.call(); err != nil {
			if ae, ok := err.(*apiError); ok {
				got = ae.Code
			} else {
				got = sdkCode(t, err)
			}
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Item 11: a RequestResponse Invoke waits at most the API's 300 s (here
// shortened) and then fails with FailedOperation.InvokeFunction; the
// invocation goes on. A quick one reports BillDuration in whole
// milliseconds, as SCF bills.
func TestSyncInvokeWaitIsBounded(t *testing.T) {
	emutest.NeedNode(t)
	c, _ := fidelityServer(t, 300*time.Millisecond)
	createFn(t, c, "slow", "index.ok", "FALSE", "FALSE", 30)
	req := scf.NewInvokeRequest()
	req.FunctionName, req.ClientContext = ptr("slow"), ptr(`{"ms":2000}`)
	if _, err := c.Invoke(req); codeOf(t, err) != "FailedOperation.InvokeFunction" {
		t.Errorf("a sync invoke longer than the API's wait: %v, want FailedOperation.InvokeFunction", err)
	}
	c, _ = fidelityServer(t, syncInvokeLimit)
	createFn(t, c, "quick", "index.ok", "FALSE", "FALSE", 30)
	res := invoke(t, c, "quick", "RequestResponse", `{}`).Response.Result
	if res.BillDuration == nil || res.Duration == nil || *res.BillDuration != billDuration(int64(*res.Duration)) || *res.BillDuration < 1 {
		t.Errorf("Duration %v BillDuration %v", res.Duration, res.BillDuration)
	}
}

func TestBillDuration(t *testing.T) {
	for ms, want := range map[int64]int64{0: 1, 1: 1, 37: 37, 1760: 1760} {
		if got := billDuration(ms); got != want {
			t.Errorf("billDuration(%d) = %d, want %d", ms, got, want)
		}
	}
}

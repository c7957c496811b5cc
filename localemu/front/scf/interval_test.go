package scf

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
)

// A TimeInterval takes both bounds, as SCF requires; one-sided ones are
// refused with SCF's documented code.
func TestTimeIntervalNeedsBothBounds(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, nil, e.Logger()))
	zero := 0
	if _, err := e.Deploy(context.Background(), localemu.FunctionConfig{Name: "fn", Provider: cloud.Tencent, Runtime: "Nodejs16.13", Handler: "index.ok",
		MemorySize: 128, Timeout: 30, Async: localemu.AsyncConfig{Enabled: true, Trace: true, RetryAttempts: &zero}}, emutest.CodeZip(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		body string
		code string
	}{
		{`{"FunctionName":"fn","StartTimeInterval":{"Start":"2026-01-01 00:00:00"}}`, "InvalidParameterValue.StartTimeOrEndTime"},
		{`{"FunctionName":"fn","EndTimeInterval":{"End":"2026-01-01 00:00:00"}}`, "InvalidParameterValue.StartTimeOrEndTime"},
		{`{"FunctionName":"fn","StartTimeInterval":{"Start":"2026-01-01 00:00:00","End":"2099-01-01 00:00:00"}}`, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-TC-Action", "ListAsyncEvents")
		req.Header.Set("X-TC-Version", apiVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Response struct {
				Error *struct{ Code string }
			}
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		got := ""
		if out.Response.Error != nil {
			got = out.Response.Error.Code
		}
		if got != c.code {
			t.Errorf("%s: error %q, want %q", c.body, got, c.code)
		}
	}
}

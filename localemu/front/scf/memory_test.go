package scf

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
)

// An attempt killed for outgrowing its memory size is SCF's 434
// MemoryLimitReached, and GetFunctionLogs' Filter.RetCode
// ResourceLimitExceeded selects exactly such attempts.
func TestSCFOutOfMemoryIsResourceLimitExceeded(t *testing.T) {
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	defer emutest.CloseEngine(t, e)
	srv := httptest.NewServer(emutest.Handler(New(e, nil, e.Logger())))
	defer srv.Close()

	dir := t.TempDir()
	code := `exports.main = async (event) => {
  if (event.hog) {
    const keep = [];
    for (let i = 0; i < 30; i++) { keep.push(Buffer.alloc(10 << 20, 1)); await new Promise((r) => setTimeout(r, 50)); }
    return keep.length;
  }
  if (event.fail) throw new Error("boom");
  return "ok";
};`
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	if _, err := e.Deploy(context.Background(), localemu.FunctionConfig{Name: "mem", Provider: "tencent", Runtime: "Nodejs16.13", Handler: "index.main",
		MemorySize: 128, Timeout: 60, Async: localemu.AsyncConfig{Enabled: true, Trace: true, RetryAttempts: &zero}}, zip); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, kind := range []string{"hog", "fail", "ok"} {
		ev := emutest.InvokeAsync(t, e, "mem", `{"`+kind+`": true}`)
		final := emutest.Wait(t, e, ev.RequestID)
		ids[kind] = ev.RequestID
		if kind == "hog" && (final.Status != event.Failed || final.ErrorType != localemu.ErrTypeOutOfMemory) {
			t.Fatalf("the hog ended %s %s (%s); the test needs an attempt killed for its memory", final.Status, final.ErrorType, final.ErrorMessage)
		}
	}

	logs := func(retCode string) (kinds []string, codes map[string]float64) {
		t.Helper()
		resp := rawSCF(t, srv.URL, "GetFunctionLogs", apiVersion, `{"FunctionName":"mem","Filter":{"RetCode":"`+retCode+`"}}`, nil)
		if c := errorCode(resp); c != "" {
			t.Fatalf("GetFunctionLogs RetCode=%s: %s", retCode, c)
		}
		var data []struct {
			RequestId string
			RetCode   float64
		}
		b, _ := json.Marshal(resp["Data"])
		if err := json.Unmarshal(b, &data); err != nil {
			t.Fatal(err)
		}
		codes = map[string]float64{}
		for _, d := range data {
			for kind, id := range ids {
				if d.RequestId == id {
					kinds = append(kinds, kind)
					codes[kind] = d.RetCode
				}
			}
		}
		sort.Strings(kinds)
		return kinds, codes
	}
	for _, tc := range []struct {
		retCode string
		want    []string
	}{
		{"ResourceLimitExceeded", []string{"hog"}},
		{"UserCodeException", []string{"fail"}},
		{"not0", []string{"fail", "hog"}},
		{"is0", []string{"ok"}},
		{"", []string{"fail", "hog", "ok"}},
	} {
		got, codes := logs(tc.retCode)
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[1] != tc.want[1]) {
			t.Errorf("Filter.RetCode %q selects %v, want %v", tc.retCode, got, tc.want)
		}
		if c, ok := codes["hog"]; ok && c != codeMemory {
			t.Errorf("Filter.RetCode %q: the out-of-memory attempt has RetCode %v, want %d (MemoryLimitReached)", tc.retCode, c, codeMemory)
		}
	}
	st := rawSCF(t, srv.URL, "GetAsyncEventStatus", apiVersion, `{"InvokeRequestId":"`+ids["hog"]+`"}`, nil)
	if r, _ := st["Result"].(map[string]any); r["StatusCode"] != float64(codeMemory) || r["Status"] != "FAILED" {
		t.Errorf("GetAsyncEventStatus of the out-of-memory event: %v, want FAILED with StatusCode %d", st["Result"], codeMemory)
	}
}

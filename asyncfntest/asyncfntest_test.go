package asyncfntest_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/asyncfntest"
)

func handlerDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the function these tests deploy is Node.js")
	}
	dir := t.TempDir()
	code := `exports.handler = async (e) => { console.log("got", e.n); return {twice: e.n * 2}; };`
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func status(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestStartDeployInvokeCleanup: an emulator serves until its test ends,
// runs what is deployed to it, and is gone after t.Cleanup.
func TestStartDeployInvokeCleanup(t *testing.T) {
	dir := handlerDir(t)
	var url string
	t.Run("inner", func(t *testing.T) {
		emu := asyncfntest.Start(t)
		url = emu.URL
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Errorf("URL %q is not on loopback", url)
		}
		if v := emu.Deploy(t, dir, asyncfntest.Function{Name: "double", Handler: "index.handler"}); v != 1 {
			t.Errorf("first deploy is version %d", v)
		}
		ev := emu.Wait(t, emu.InvokeAsync(t, "double", `{"n": 21}`))
		if ev.Status != "SUCCEEDED" || !strings.Contains(string(ev.Result), `"twice":42`) {
			t.Errorf("event %s, result %s", ev.Status, ev.Result)
		}
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/health", nil)
		if st := status(t, req); st != http.StatusOK {
			t.Errorf("health = %d", st)
		}
	})
	req, _ := http.NewRequest(http.MethodGet, url+"/v1/health", nil)
	if st := status(t, req); st != 0 {
		t.Errorf("the emulator still answers (%d) after its test ended", st)
	}
}

// TestWithCredentials: the native API then takes the pair as Basic auth.
func TestWithCredentials(t *testing.T) {
	emu := asyncfntest.Start(t, asyncfntest.WithCredentials("AKIDTEST", "secret"))
	req, _ := http.NewRequest(http.MethodGet, emu.URL+"/v1/functions", nil)
	if st := status(t, req); st != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want 401", st)
	}
	req.SetBasicAuth("AKIDTEST", "secret")
	if st := status(t, req); st != http.StatusOK {
		t.Errorf("with credentials: %d, want 200", st)
	}
}

// TestEnvPointsTheAWSCLI: Env is all the aws CLI needs to reach the emulator.
func TestEnvPointsTheAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	dir := handlerDir(t)
	for _, creds := range []bool{false, true} {
		var opts []asyncfntest.Option
		if creds {
			opts = append(opts, asyncfntest.WithCredentials("AKIDTEST", "secret"))
		}
		emu := asyncfntest.Start(t, opts...)
		emu.Deploy(t, dir, asyncfntest.Function{Name: "double", Handler: "index.handler"})
		cmd := exec.Command("aws", "lambda", "get-function-configuration", "--function-name", "double")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, emu.Env()...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"FunctionName": "double"`) {
			t.Errorf("credentials %v: aws lambda get-function-configuration: %v\n%s", creds, err, out)
		}
	}
}

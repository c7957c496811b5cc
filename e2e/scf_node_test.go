package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// scfNodePackage is the Tencent Cloud Node.js SDK (SCF service package) the
// test drives the emulator with. CI pre-installs it with
//
//	npm install --prefix "$HOME/.cache/asyncfn-e2e/scf-node" --no-audit --no-fund tencentcloud-sdk-nodejs-scf@4.1.151
//
// (or into $ASYNCFN_SCF_NODE_DIR).
const scfNodePackage = "tencentcloud-sdk-nodejs-scf@4.1.151"

// scfNodeModules returns a node_modules directory holding the SDK, installing
// it with npm when it is missing; it skips the test when that is impossible.
func scfNodeModules(t *testing.T) string {
	t.Helper()
	needNode(t)
	dir := os.Getenv("ASYNCFN_SCF_NODE_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache directory for the Tencent Cloud Node.js SDK (%v); set ASYNCFN_SCF_NODE_DIR", err)
		}
		dir = filepath.Join(cache, "asyncfn-e2e", "scf-node")
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "tencentcloud-sdk-nodejs-scf", "package.json")); err == nil {
		return modules
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skipf("the Tencent Cloud Node.js SDK is not in %s and npm is not installed to fetch it (npm install --prefix %s %s)", dir, dir, scfNodePackage)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--no-audit", "--no-fund", scfNodePackage).CombinedOutput()
	if err != nil {
		t.Skipf("could not install the Tencent Cloud Node.js SDK (offline?): npm install --prefix %s %s: %v\n%s", dir, scfNodePackage, err, out)
	}
	return modules
}

// nodeZip returns the base64 zip of a small SCF-style Node.js function.
func nodeZip(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.js")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`exports.main_handler = async (event, context) => {
  console.log("hello from node " + JSON.stringify(event));
  return { greeting: process.env.GREETING, who: event.who };
};
`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func runSCFNode(t *testing.T, modules, endpoint, id, key, fn string) ([]byte, []byte, error) {
	t.Helper()
	zipFile := filepath.Join(t.TempDir(), "code.b64")
	if err := os.WriteFile(zipFile, []byte(nodeZip(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "scf-node", "run.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "SCF_ENDPOINT="+strings.TrimPrefix(endpoint, "http://"),
		"SCF_SECRET_ID="+id, "SCF_SECRET_KEY="+key, "SCF_FUNCTION="+fn, "SCF_ZIP="+zipFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// TestSCFNodeSDK drives the SCF front with Tencent's own Node.js SDK against
// an emulator that verifies signatures: the Node.js SDK signs another
// service name ("127", from the endpoint) and the host without its port,
// unlike the Go SDK, and both must be accepted.
func TestSCFNodeSDK(t *testing.T) {
	modules := scfNodeModules(t)
	const id, key = "AKIDnodetest", "node-secret-key"
	url := startEmulator(t, conformance.WithCredentials(id, key))

	stdout, stderr, err := runSCFNode(t, modules, url, id, key, "node-sdk-fn")
	if err != nil {
		t.Fatalf("node script: %v\nstderr: %s", err, stderr)
	}
	var got struct {
		AsyncRunEnable  string `json:"asyncRunEnable"`
		Timeout         int    `json:"timeout"`
		RequestID       string `json:"requestId"`
		Status          string `json:"status"`
		StatusCode      int    `json:"statusCode"`
		StatusRequestID string `json:"statusRequestId"`
		Listed          []struct {
			ID, Status, Type, Start, End string
		} `json:"listed"`
		FinishedTotal    int    `json:"finishedTotal"`
		Log              string `json:"log"`
		RetMsg           string `json:"retMsg"`
		UnknownEventCode string `json:"unknownEventCode"`
		UnknownEventReq  string `json:"unknownEventRequestId"`
	}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("node output %q: %v", stdout, err)
	}
	if got.AsyncRunEnable != "TRUE" || got.Timeout != 1200 {
		t.Errorf("GetFunction: AsyncRunEnable %q Timeout %d", got.AsyncRunEnable, got.Timeout)
	}
	if len(got.RequestID) != 36 || got.StatusRequestID != got.RequestID {
		t.Errorf("request ids: invoke %q, status %q", got.RequestID, got.StatusRequestID)
	}
	if got.Status != "FINISHED" || got.StatusCode != 200 {
		t.Errorf("GetAsyncEventStatus: %s %d", got.Status, got.StatusCode)
	}
	if len(got.Listed) != 1 || got.Listed[0].ID != got.RequestID || got.Listed[0].Status != "FINISHED" || got.Listed[0].Type != "Event" ||
		got.Listed[0].Start == "" || got.Listed[0].End == "" {
		t.Errorf("ListAsyncEvents by id: %+v", got.Listed)
	}
	if got.FinishedTotal < 1 {
		t.Errorf("ListAsyncEvents FINISHED total %d", got.FinishedTotal)
	}
	if !strings.Contains(got.Log, `hello from node {"who":"node"}`) || !strings.Contains(got.RetMsg, `"greeting":"hello"`) {
		t.Errorf("GetFunctionLogs: log %q, RetMsg %q", got.Log, got.RetMsg)
	}
	if got.UnknownEventCode != "ResourceNotFound.AsyncEvent" || got.UnknownEventReq == "" {
		t.Errorf("unknown event: code %q, RequestId %q", got.UnknownEventCode, got.UnknownEventReq)
	}

	// The same client with a wrong key is refused.
	_, stderr, err = runSCFNode(t, modules, url, id, "wrong-key", "node-sdk-wrong")
	if err == nil || !strings.Contains(string(stderr), "AuthFailure.SignatureFailure") {
		t.Errorf("wrong key: err %v, stderr %s", err, stderr)
	}
}

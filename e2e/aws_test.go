package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/spec"
)

// awsEnv is the environment without the developer's AWS settings, plus extra.
func awsEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "ASYNCFN_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestAWSCLIEventInvoke drives the emulator with the real aws CLI (Debian's
// awscli package, or v2): an Event invoke answers 202, with the CLI's own
// SigV4 signature checked against --credentials.
func TestAWSCLIEventInvoke(t *testing.T) {
	needNode(t)
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws CLI is not installed (apt-get install awscli, or AWS CLI v2): skipping the aws CLI test")
	}
	url := startEmulator(t, conformance.WithCredentials("AKIDAWSCLITEST", "aws-cli-secret"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte("exports.h = async (e) => { console.log('got', JSON.stringify(e)); return e; };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := &spec.Service{Name: "cli", Region: "us-east-1", Dir: dir, Provider: spec.Provider{Name: "aws", Role: "arn:aws:iam::000000000000:role/cli"}}
	fn := spec.Function{Name: "h", DeployedName: "cli-h", Handler: "index.h", Runtime: "nodejs18.x", MemorySize: 128, Timeout: 10}
	p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: url, Getenv: func(k string) (string, bool) {
		return map[string]string{"AWS_ACCESS_KEY_ID": "AKIDAWSCLITEST", "AWS_SECRET_ACCESS_KEY": "aws-cli-secret"}[k], true
	}})
	if err != nil {
		t.Fatal(err)
	}
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Deploy(context.Background(), fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256}); err != nil {
		t.Fatal(err)
	}

	version, _ := exec.Command(awsCLI, "--version").CombinedOutput()
	out := filepath.Join(dir, "out.json")
	args := []string{"lambda", "invoke", "--invocation-type", "Event", "--endpoint-url", url, "--region", "us-east-1",
		"--function-name", "cli-h", "--payload", `{"from":"aws-cli"}`, out}
	if strings.HasPrefix(string(version), "aws-cli/2") {
		args = append(args, "--cli-binary-format", "raw-in-base64-out")
	}
	run := func(secret string) ([]byte, error) {
		cmd := exec.Command(awsCLI, args...)
		cmd.Env = awsEnv("AWS_ACCESS_KEY_ID=AKIDAWSCLITEST", "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
		return cmd.CombinedOutput()
	}
	stdout, err := run("aws-cli-secret")
	if err != nil {
		t.Fatalf("aws lambda invoke: %v\n%s", err, stdout)
	}
	var res struct{ StatusCode int }
	if err := json.Unmarshal(stdout, &res); err != nil || res.StatusCode != 202 {
		t.Fatalf("aws lambda invoke printed %s, want StatusCode 202", stdout)
	}
	// The event ran: its log shows the payload the CLI sent.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := p.Logs(context.Background(), adapters.LogQuery{Function: "cli-h", Filter: `aws-cli`})
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.Next(context.Background())
		if err == nil && strings.Contains(l.Text, `got {"from":"aws-cli"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event the aws CLI started never logged its payload")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A wrong secret is refused as AWS refuses it.
	stdout, err = run("wrong")
	if err == nil || !strings.Contains(string(stdout), "InvalidSignatureException") {
		t.Errorf("wrong secret: %v\n%s", err, stdout)
	}
}

// TestAWSExampleThroughCLI deploys example/aws (transcode with retries and
// destinations, notify) through the aws adapter with --endpoint, then
// invokes async and tails. transcode is a plain Lambda function, so
// terminate is refused as Lambda would (no API stops a plain async invoke)
// and the event runs to its end; its destination record is delivered.
func TestAWSExampleThroughCLI(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "example", "aws", "serverless.yml")
	run := func(args ...string) result {
		t.Helper()
		return mustRun(t, awsEnv(), append([]string{"-c", file, "--endpoint", url}, args...)...)
	}
	dep := run("deploy")
	if !strings.Contains(dep.stderr, "Active") {
		t.Logf("deploy progress: %s", dep.stderr)
	}

	// A transcode: async invoke, live tail; terminate is refused.
	id := strings.TrimSpace(run("invoke", "-f", "transcode", "--async", "-d", `{"frames": 30, "delayMs": 100}`).stdout)
	if len(id) != 36 {
		t.Fatalf("invoke --async printed %q, want only a RequestId", id)
	}
	tail := exec.Command(binary, "-c", file, "--endpoint", url, "logs", "-f", "transcode", "--request-id", id, "--tail")
	tail.Env = awsEnv()
	tp := startTail(t, tail)
	tp.waitFor(t, "transcode: frame 2/30")
	refused := runBinary(t, awsEnv(), "-c", file, "--endpoint", url, "events", "terminate", id, "-f", "transcode", "--grace", "5s")
	if refused.code == 0 || !strings.Contains(refused.stderr, "durableConfig") {
		t.Fatalf("terminate of a plain function's event: exit %d, %s; want a refusal suggesting durableConfig", refused.code, refused.stderr)
	}
	tp.waitFor(t, "REPORT RequestId: "+id)
	var ev struct{ Status string }
	if err := json.Unmarshal([]byte(run("events", "get", id, "-f", "transcode", "--output", "json").stdout), &ev); err != nil || ev.Status != "SUCCEEDED" {
		t.Fatalf("after its end: %+v %v", ev, err)
	}

	// transcode runs probe from the media-tools layer deploy published.
	sync := run("invoke", "-f", "transcode", "-d", `{"frames": 1, "delayMs": 1}`, "-o", "json").stdout
	if !strings.Contains(sync, `"file": "handler.js"`) || !strings.Contains(sync, `"sha256": "`) {
		t.Errorf("transcode did not probe with the layer's binary: %s", sync)
	}
	if !strings.Contains(dep.stderr, "published arn:aws:lambda:us-east-1:000000000000:layer:media-tools:") && !strings.Contains(dep.stderr, "layer media-tools is unchanged") {
		t.Errorf("deploy did not publish the layer:\n%s", dep.stderr)
	}

	// A short transcode succeeds and its record reaches notify (the destination).
	id2 := strings.TrimSpace(run("invoke", "-f", "transcode", "--async", "-d", `{"frames": 2, "delayMs": 10}`).stdout)
	deadline := time.Now().Add(60 * time.Second)
	for {
		logs := run("logs", "-f", "notify").stdout
		if strings.Contains(logs, "notify: Success for request "+id2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notify never logged the destination record of %s:\n%s", id2, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	list := run("events", "list", "-f", "transcode", "--output", "json").stdout
	if !strings.Contains(list, id) || !strings.Contains(list, id2) {
		t.Errorf("events list lacks %s or %s:\n%s", id, id2, list)
	}
}

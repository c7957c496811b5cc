package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// run executes the CLI in-process with a fake environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = RunContext(context.Background(), append([]string{"asyncfn"}, args...), IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: getenv})
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadConfigurationExitsTwo(t *testing.T) {
	cases := []struct {
		name string
		yml  string
		env  map[string]string
		want []string // substrings of stderr, including file:line:col and path
	}{
		{"yaml syntax error", "service: a\nprovider:\n  name: aws\n  runtime: [nodejs18.x\n", nil,
			[]string{"serverless.yml:"}},
		{"unknown provider", "service: a\nprovider:\n  name: azure\nfunctions:\n  f:\n    handler: h.f\n", nil,
			[]string{"serverless.yml:3:9", "provider.name", "azure"}},
		{"env variable unset without fallback", "service: a\nprovider:\n  name: aws\n  runtime: nodejs18.x\n  stage: ${env:ASYNCFN_NOPE}\nfunctions:\n  f:\n    handler: h.f\n", nil,
			[]string{"serverless.yml:5:10", "provider.stage", "env:ASYNCFN_NOPE"}},
		{"cycle", "service: a\nprovider:\n  name: aws\n  runtime: nodejs18.x\ncustom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\nfunctions:\n  f:\n    handler: h.f\n", nil,
			[]string{"custom.a", "cycle"}},
		{"object inside a string", "service: a\nprovider:\n  name: aws\n  runtime: nodejs18.x\ncustom:\n  obj:\n    k: v\n  s: x-${self:custom.obj}\nfunctions:\n  f:\n    handler: h.f\n", nil,
			[]string{"serverless.yml:8:6", "custom.s", "self:custom.obj"}},
		{"timeout over its limit", "service: a\nprovider:\n  name: tencent\n  runtime: Nodejs16.13\nfunctions:\n  transcode:\n    handler: index.main\n    timeout: 90000\n    asyncRunEnable: true\n", nil,
			[]string{"serverless.yml:8:14", "functions.transcode.timeout", "90000", "86400"}},
		{"missing handler", "service: a\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  f:\n    timeout: 10\n", nil,
			[]string{"functions.f", "handler"}},
	}
	// The Framework prints these files (configValidationMode: warn), so
	// print does too (see print_test.go); only validate refuses them.
	printed := map[string]bool{"unknown provider": true, "timeout over its limit": true, "missing handler": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, "serverless.yml", c.yml)
			cmds := []string{"validate", "print"}
			if printed[c.name] {
				cmds = cmds[:1]
			}
			for _, cmd := range cmds {
				code, stdout, stderr := run(t, c.env, "-c", path, cmd)
				if code != exitUsage {
					t.Fatalf("%s: exit %d, want 2\nstdout: %s\nstderr: %s", cmd, code, stdout, stderr)
				}
				if stdout != "" {
					t.Errorf("%s: wrote to stdout on error: %q", cmd, stdout)
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", cmd, w, stderr)
					}
				}
			}
		})
	}
}

func TestPrintJSONKeepsTypesAndResolves(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "serverless.yml", `service: svc
provider:
  name: aws
  runtime: nodejs18.x
  stage: ${opt:stage, 'dev'}
  memorySize: ${self:custom.mem.${sls:stage}}
custom:
  mem:
    dev: 256
    prod: 1024
  flag: true
  region: ${param:where, 'eu-west-1'}
functions:
  f:
    handler: h.f
    environment:
      HOME_DIR: ${env:HOME_DIR}
`)
	code, stdout, stderr := run(t, map[string]string{"HOME_DIR": "/home/x"}, "-c", path, "--stage", "prod", "--param", "where=ap-south-1", "--output", "json", "print")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("print --output json is not JSON: %v\n%s", err, stdout)
	}
	provider := doc["provider"].(map[string]any)
	custom := doc["custom"].(map[string]any)
	got := map[string]any{
		"stage":  provider["stage"],
		"memory": provider["memorySize"],
		"flag":   custom["flag"],
		"region": custom["region"],
		"home":   doc["functions"].(map[string]any)["f"].(map[string]any)["environment"].(map[string]any)["HOME_DIR"],
	}
	want := map[string]any{"stage": "prod", "memory": float64(1024), "flag": true, "region": "ap-south-1", "home": "/home/x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolved values = %v, want %v", got, want)
	}
}

func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "serverless.yml", "service: svc\nprovider:\n  name: aws\n  runtime: nodejs18.x\n  stage: ${opt:stage, 'dev'}\nfunctions:\n  f:\n    handler: h.f\n")
	code, stdout, stderr := run(t, nil, "validate", "-c", path, "--output", "json", "--stage", "qa")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Valid bool   `json:"valid"`
		Stage string `json:"stage"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || !res.Valid || res.Stage != "qa" {
		t.Fatalf("validate --output json = %s (%v)", stdout, err)
	}
}

func TestArgumentOrder(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{[]string{"asyncfn", "events", "get", "ID", "-f", "fn", "--output", "json"}, []string{"asyncfn", "--output", "json", "events", "get", "-f", "fn", "ID"}},
		{[]string{"asyncfn", "--local", "events", "terminate", "ID", "--grace", "5s", "-f", "x"}, []string{"asyncfn", "--local", "events", "terminate", "--grace", "5s", "-f", "x", "ID"}},
		{[]string{"asyncfn", "invoke", "-f", "fn", "-d", `{"a":1}`, "--async", "-c", "s.yml"}, []string{"asyncfn", "-c", "s.yml", "invoke", "-f", "fn", "-d", `{"a":1}`, "--async"}},
		{[]string{"asyncfn", "local", "start", "--addr=127.0.0.1:1"}, []string{"asyncfn", "local", "start", "--addr=127.0.0.1:1"}},
		// issue 9: --poll-interval's value was taken for an argument.
		{[]string{"asyncfn", "logs", "-f", "transcode", "--poll-interval", "2s", "--tail"}, []string{"asyncfn", "logs", "-f", "transcode", "--poll-interval", "2s", "--tail"}},
		{[]string{"asyncfn", "logs", "ID", "--filter", "x", "--", "-y"}, []string{"asyncfn", "logs", "--filter", "x", "ID", "--", "-y"}},
	}
	app := newApp(&Globals{}, IO{})
	for _, c := range cases {
		if got := orderArgs(app, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("orderArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "serverless.yml", "service: svc\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  f:\n    handler: h.f\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-c", path, "--output", "xml", "validate"}, "--output"},
		{[]string{"-c", path, "--param", "novalue", "validate"}, "--param"},
		{[]string{"-c", path, "--local", "invoke", "-f", "nope"}, `function "nope" is not in`},
		{[]string{"-c", path, "--local", "invoke", "-f", "f", "-d", "{x"}, "not valid JSON"},
		{[]string{"-c", path, "--local", "events", "list", "-f", "f", "--since", "yesterday"}, "--since"},
		{[]string{"-c", path, "--local", "events", "get", "-f", "f"}, "REQUEST_ID"},
		{[]string{"-c", filepath.Join(dir, "missing.yml"), "validate"}, "missing.yml"},
		{[]string{"-c", path, "nosuchcommand"}, ""},
	}
	for _, c := range cases {
		code, _, stderr := run(t, nil, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("asyncfn %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

func TestHelpListsOnlyWorkingCommands(t *testing.T) {
	code, stdout, _ := run(t, nil, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, cmd := range []string{"print", "validate", "local", "dev", "deploy", "remove", "invoke", "logs", "events"} {
		if !strings.Contains(stdout, "   "+cmd) {
			t.Errorf("--help lacks %s:\n%s", cmd, stdout)
		}
	}
}

func TestAWSDeployWithoutRoleIsAClearError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "h.js", "exports.f = async () => 1;\n")
	path := writeFile(t, dir, "serverless.yml", "service: svc\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  f:\n    handler: h.f\n")
	// The role is checked before any request: the unroutable endpoint is never reached.
	code, _, stderr := run(t, nil, "-c", path, "--endpoint", "http://127.0.0.1:1", "deploy")
	if code == 0 || !strings.Contains(stderr, "provider.iam.role") || !strings.Contains(stderr, "provider.role") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

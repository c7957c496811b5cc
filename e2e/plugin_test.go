package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// frameworks are the Serverless Frameworks the plugin test drives, each
// installed with npm into a directory of its own (both install a
// `serverless` command) under the cache. CI pre-installs them with
//
//	npm install --prefix "$HOME/.cache/asyncfn-e2e/serverless/sls3" serverless@3.40.0
//	npm install --prefix "$HOME/.cache/asyncfn-e2e/serverless/osls" osls@4.3.1
//
// (or under $ASYNCFN_SERVERLESS_DIR).
var frameworks = []struct{ name, dir, pkg, module string }{
	{"serverless3", "sls3", "serverless@3.40.0", "serverless"},
	{"osls", "osls", "osls@4.3.1", "osls"},
}

// frameworkBin returns the `serverless` command of one Framework,
// installing it with npm when it is missing; it skips the test when that
// is impossible (no npm, or no network).
func frameworkBin(t *testing.T, dir, pkg, module string) string {
	t.Helper()
	needNode(t)
	root := os.Getenv("ASYNCFN_SERVERLESS_DIR")
	if root == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache directory for the Serverless Framework (%v); set ASYNCFN_SERVERLESS_DIR", err)
		}
		root = filepath.Join(cache, "asyncfn-e2e", "serverless")
	}
	prefix := filepath.Join(root, dir)
	bin := filepath.Join(prefix, "node_modules", ".bin", "serverless")
	if _, err := os.Stat(filepath.Join(prefix, "node_modules", module, "package.json")); err == nil {
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skipf("%s is not in %s and npm is not installed to fetch it (npm install --prefix %s %s)", pkg, prefix, prefix, pkg)
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error", pkg).CombinedOutput()
	if err != nil {
		t.Skipf("could not install %s (offline?): npm install --prefix %s %s: %v\n%s", pkg, prefix, pkg, err, out)
	}
	return bin
}

// packPlugin packs plugin/ with npm pack, as it would be published, and
// returns the tarball.
func packPlugin(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "plugin"))
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dest, root)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack: %v\n%s", err, out)
	}
	return filepath.Join(dest, strings.TrimSpace(string(out)))
}

// newPluginService writes a service's files into a new directory and
// installs the packed plugin into it, as a user would.
func newPluginService(t *testing.T, tgz string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["package.json"] = `{"name": "plugin-e2e", "private": true}`
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--offline", tgz)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s: %v\n%s", tgz, err, out)
	}
	return dir
}

// slsRun runs a Framework's serverless command in dir.
func slsRun(t *testing.T, bin, dir string, env []string, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	t.Logf("serverless %s: %s", strings.Join(args, " "), r.took.Round(10*time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("serverless %s did not end within %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), timeout, r.stdout, r.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("serverless %v: %v", args, err)
	}
	return r
}

func mustSls(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	r := slsRun(t, bin, dir, env, 2*time.Minute, args...)
	if r.code != 0 {
		t.Fatalf("serverless %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// frameworkEnv is the environment the Framework runs in: no telemetry or
// update checks, the built binary, dummy cloud credentials (nothing reaches
// a cloud: every endpoint is the emulator on loopback).
func frameworkEnv(extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "TENCENTCLOUD_") || strings.HasPrefix(k, "ASYNCFN_") || strings.HasPrefix(k, "SLS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env,
		"ASYNCFN_BIN="+binary,
		"SLS_TELEMETRY_DISABLED=1", "SLS_NOTIFICATIONS_MODE=off", "SLS_DEPRECATION_DISABLE=*",
		"TENCENTCLOUD_SECRET_ID=e2e-dummy", "TENCENTCLOUD_SECRET_KEY=e2e-dummy",
		"AWS_ACCESS_KEY_ID=e2e-dummy", "AWS_SECRET_ACCESS_KEY=e2e-dummy", "AWS_EC2_METADATA_DISABLED=true",
	), extra...)
}

// pluginTencentYML is a Tencent service whose environment holds a value of
// each kind the Framework resolves: ${env:}, ${file()}, and ${vault:}, a
// source that only the test-local plugin below provides.
const pluginTencentYML = `service: SERVICE
provider:
  name: tencent
  runtime: Nodejs16.13
  region: ap-guangzhou
plugins:
  - ./vault-plugin
  - serverless-asyncfn
package:
  patterns: ['!node_modules/**', '!*.tgz']
functions:
  job:
    handler: index.main_handler
    timeout: 600
    asyncRunEnable: true
    retryNum: 0
    environment:
      variables:
        TOKEN: ${env:PLUGIN_E2E_TOKEN}
        FROM_FILE: ${file(./extra.yml):value}
        FROM_PLUGIN: ${vault:secret}
`

const pluginVaultJS = `'use strict';
// A variable source registered by another plugin: only the Framework can resolve it.
class Vault {
  constructor() {
    this.configurationVariablesSources = {
      vault: { async resolve({ address }) { return { value: 'vault-' + address }; } },
    };
  }
}
module.exports = Vault;
`

const pluginHandlerJS = `exports.main_handler = async (event) => {
  const steps = event.steps || 3;
  for (let i = 1; i <= steps; i++) {
    console.log('step ' + i + '/' + steps);
    await new Promise((r) => setTimeout(r, event.delayMs || 50));
  }
  return { token: process.env.TOKEN, fromFile: process.env.FROM_FILE, fromPlugin: process.env.FROM_PLUGIN };
};
`

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestPluginInServerlessFramework drives the packed plugin with Serverless
// Framework v3 and osls against the built binary and the emulator: the
// tencent provider's deploy, invoke, logs, info, deploy function and
// remove; serverless async invoke / logs --tail / events get, terminate,
// list and stats; values resolved by the Framework (one by another plugin)
// in the deployed function's environment; and for AWS, durableConfig
// written into the packaged CloudFormation template.
func TestPluginInServerlessFramework(t *testing.T) {
	needNode(t)
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: the plugin test needs it to install the Serverless Framework and pack the plugin")
	}
	// The plugin's own unit tests (node:test, no dependencies).
	if out, err := exec.Command("node", "--test", filepath.Join("..", "plugin", "test")).CombinedOutput(); err != nil {
		t.Fatalf("node --test plugin/test: %v\n%s", err, out)
	}
	bins := map[string]string{}
	for _, fw := range frameworks {
		bins[fw.name] = frameworkBin(t, fw.dir, fw.pkg, fw.module)
	}
	tgz := packPlugin(t)
	emu := startLocal(t, freePort(t), t.TempDir())

	for _, fw := range frameworks {
		bin := bins[fw.name]
		t.Run(fw.name, func(t *testing.T) {
			t.Parallel()
			t.Run("tencent", func(t *testing.T) { t.Parallel(); pluginTencent(t, bin, tgz, emu.url, "plug-"+fw.dir) })
			t.Run("aws", func(t *testing.T) { t.Parallel(); pluginAWS(t, bin, tgz, emu.url, "plugaws-"+fw.dir) })
		})
	}
}

func pluginTencent(t *testing.T, bin, tgz, url, service string) {
	dir := newPluginService(t, tgz, map[string]string{
		"serverless.yml":  strings.Replace(pluginTencentYML, "SERVICE", service, 1),
		"vault-plugin.js": pluginVaultJS,
		"index.js":        pluginHandlerJS,
		"extra.yml":       "value: from-a-file\n",
	})
	env := frameworkEnv("PLUGIN_E2E_TOKEN=t0k-" + service)
	withEndpoint := append(env[:len(env):len(env)], "ASYNCFN_ENDPOINT="+url)
	deployed := service + "-dev-job"

	// deploy: --endpoint reaches the tencent provider's deploy.
	r := mustSls(t, bin, dir, env, "deploy", "--endpoint", url)
	if !strings.Contains(r.stderr+r.stdout, deployed) {
		t.Errorf("deploy did not name %s:\nstdout: %s\nstderr: %s", deployed, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "plugins:") {
		t.Errorf("the binary warns about plugins: the Framework loaded:\n%s", r.stderr)
	}

	// serverless async invoke prints only the RequestId.
	r = mustSls(t, bin, dir, withEndpoint, "async", "invoke", "-f", "job", "-d", `{"steps": 3, "delayMs": 200}`)
	id := strings.TrimSpace(r.stdout)
	if !requestIDRE.MatchString(id) {
		t.Fatalf("async invoke printed %q, want only a RequestId\nstderr: %s", r.stdout, r.stderr)
	}

	// logs --tail --request-id ends by itself when the event ends.
	r = slsRun(t, bin, dir, withEndpoint, time.Minute, "async", "logs", "-f", "job", "--request-id", id, "--tail")
	if r.code != 0 || !strings.Contains(r.stdout, "step 3/3") || !strings.Contains(r.stdout, "REPORT RequestId: "+id) {
		t.Errorf("async logs --tail: exit %d after %s\nstdout: %s\nstderr: %s", r.code, r.took, r.stdout, r.stderr)
	}

	// events get: the values the Framework resolved reached the function.
	r = mustSls(t, bin, dir, withEndpoint, "async", "events", "get", "-f", "job", "--request-id", id, "--output", "json")
	var ev struct {
		Status string            `json:"status"`
		Result map[string]string `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatalf("events get --output json: %v\n%s", err, r.stdout)
	}
	want := map[string]string{"token": "t0k-" + service, "fromFile": "from-a-file", "fromPlugin": "vault-secret"}
	if ev.Status != "SUCCEEDED" || ev.Result["token"] != want["token"] || ev.Result["fromFile"] != want["fromFile"] || ev.Result["fromPlugin"] != want["fromPlugin"] {
		t.Errorf("event = %+v, want SUCCEEDED with %v", ev, want)
	}

	// events terminate of a long event, with a grace period.
	r = mustSls(t, bin, dir, withEndpoint, "async", "invoke", "-f", "job", "-d", `{"steps": 600, "delayMs": 100}`)
	long := strings.TrimSpace(r.stdout)
	// Waits and after-checks ask the emulator directly: each serverless
	// run starts Node and the Framework, which takes seconds.
	waitFor(t, 30*time.Second, "the long event to run", func() bool {
		ev, _, err := getNativeEvent(url, deployed, long)
		return err == nil && ev.Status == "RUNNING"
	})
	r = mustSls(t, bin, dir, withEndpoint, "async", "events", "terminate", "-f", "job", "--request-id", long, "--grace", "1s")
	if ev, _, err := getNativeEvent(url, deployed, long); err != nil || ev.Status != "TERMINATED" {
		t.Errorf("after terminate: %+v (%v)\nstderr: %s", ev, err, r.stderr)
	}

	// list and stats; --local reaches the emulator's own API.
	r = mustSls(t, bin, dir, withEndpoint, "async", "events", "list", "-f", "job", "--status", "TERMINATED")
	if !strings.Contains(r.stdout, long) || strings.Contains(r.stdout, id) {
		t.Errorf("events list --status TERMINATED:\n%s", r.stdout)
	}
	r = mustSls(t, bin, dir, append(env[:len(env):len(env)], "ASYNCFN_LOCAL_URL="+url), "async", "events", "stats", "-f", "job", "--local", "--output", "json")
	var st struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"byStatus"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Total != 2 || st.ByStatus["SUCCEEDED"] != 1 || st.ByStatus["TERMINATED"] != 1 {
		t.Errorf("events stats --local: %+v (%v)\n%s", st, err, r.stdout)
	}

	// The Framework's own commands, through the tencent provider.
	r = mustSls(t, bin, dir, withEndpoint, "invoke", "-f", "job", "--type", "Event", "-d", `{"steps": 1}`)
	if !requestIDRE.MatchString(strings.TrimSpace(r.stdout)) {
		t.Errorf("invoke --type Event printed %q", r.stdout)
	}
	r = mustSls(t, bin, dir, withEndpoint, "invoke", "-f", "job", "-d", `{"steps": 1}`)
	if !strings.Contains(r.stdout, `"fromPlugin":"vault-secret"`) {
		t.Errorf("sync invoke printed %q", r.stdout)
	}
	r = mustSls(t, bin, dir, withEndpoint, "logs", "-f", "job")
	if !strings.Contains(r.stdout, "step 1/1") {
		t.Errorf("logs:\n%s", r.stdout)
	}
	mustSls(t, bin, dir, withEndpoint, "deploy", "function", "-f", "job")
	r = mustSls(t, bin, dir, withEndpoint, "info")
	if !strings.Contains(r.stdout, deployed) || !strings.Contains(r.stdout, "deployed, 4 event(s)") {
		t.Errorf("info:\n%s", r.stdout)
	}

	// The exit status is the binary's: a usage error is 2.
	r = slsRun(t, bin, dir, withEndpoint, time.Minute, "async", "events", "list", "-f", "job", "--order", "sideways")
	if r.code != 2 {
		t.Errorf("events list --order sideways: exit %d, want 2\nstderr: %s", r.code, r.stderr)
	}

	mustSls(t, bin, dir, withEndpoint, "remove")
	if resp, err := http.Get(url + "/v1/functions/" + deployed); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("after remove: GET the function: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Without ASYNCFN_BIN, asyncfn on PATH or a shipped binary: one error naming all three.
	node, _ := exec.LookPath("node")
	noBin := []string{"PATH=" + filepath.Dir(node), "HOME=" + os.Getenv("HOME"), "SLS_TELEMETRY_DISABLED=1", "PLUGIN_E2E_TOKEN=x"}
	r = slsRun(t, bin, dir, noBin, time.Minute, "async", "events", "stats", "-f", "job")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "ASYNCFN_BIN") || !strings.Contains(r.stdout+r.stderr, "on PATH") || !strings.Contains(r.stdout+r.stderr, "ships one") {
		t.Errorf("without a binary: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

const pluginAWSYML = `service: SERVICE
provider:
  name: aws
  runtime: nodejs22.x
  region: us-east-1
  iam:
    role: arn:aws:iam::123456789012:role/asyncfn-e2e
plugins:
  - serverless-asyncfn
package:
  patterns: ['!node_modules/**', '!*.tgz']
functions:
  durable:
    handler: index.handler
    durableConfig:
      executionTimeout: 86400
      retentionPeriodInDays: 7
  plain:
    handler: index.handler
`

func pluginAWS(t *testing.T, bin, tgz, url, service string) {
	dir := newPluginService(t, tgz, map[string]string{
		"serverless.yml": strings.Replace(pluginAWSYML, "SERVICE", service, 1),
		"index.js":       "exports.handler = async (event) => { console.log('aws says hi'); return { ok: true }; };\n",
	})
	env := frameworkEnv()

	// serverless package compiles the template offline (no AWS call for a
	// service like this one); DurableConfig is in it.
	mustSls(t, bin, dir, env, "package")
	raw, err := os.ReadFile(filepath.Join(dir, ".serverless", "cloudformation-template-update-stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	var durable map[string]int
	if err := json.Unmarshal(tmpl.Resources["DurableLambdaFunction"].Properties["DurableConfig"], &durable); err != nil ||
		!reflect.DeepEqual(durable, map[string]int{"ExecutionTimeout": 86400, "RetentionPeriodInDays": 7}) {
		t.Errorf("DurableLambdaFunction DurableConfig = %v (%v)", durable, err)
	}
	if got, ok := tmpl.Resources["PlainLambdaFunction"].Properties["DurableConfig"]; ok {
		t.Errorf("PlainLambdaFunction has DurableConfig %s", got)
	}

	// The async commands work on functions by the names the Framework gave
	// them (deployed here by the binary, to the emulator's Lambda front).
	mustRun(t, append(env[:len(env):len(env)], "ASYNCFN_ENDPOINT="+url), "-c", filepath.Join(dir, "serverless.yml"), "deploy")
	withEndpoint := append(env[:len(env):len(env)], "ASYNCFN_ENDPOINT="+url)
	r := mustSls(t, bin, dir, withEndpoint, "async", "invoke", "-f", "durable")
	id := strings.TrimSpace(r.stdout)
	if !requestIDRE.MatchString(id) {
		t.Fatalf("aws async invoke printed %q\nstderr: %s", r.stdout, r.stderr)
	}
	waitFor(t, 30*time.Second, "the durable execution to succeed", func() bool {
		ev, _, err := getNativeEvent(url, service+"-dev-durable", id)
		return err == nil && ev.Status == "SUCCEEDED"
	})
	r = mustSls(t, bin, dir, withEndpoint, "async", "events", "get", "-f", "durable", "--request-id", id)
	if !strings.Contains(r.stdout, "SUCCEEDED") {
		t.Errorf("aws async events get:\n%s", r.stdout)
	}
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

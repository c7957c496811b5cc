package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolvedConfig: --resolved-config (a file, or stdin) gives the
// commands the same service as resolving serverless.yml, and its errors
// name the field and where the configuration came from.
func TestResolvedConfig(t *testing.T) {
	dir := t.TempDir()
	yml := writeFile(t, dir, "serverless.yml", `service: media
provider:
  name: aws
  iam:
    role: arn:aws:iam::123456789012:role/r
functions:
  run:
    handler: h.run
    environment:
      TOKEN: ${env:TOKEN}
    durableConfig:
      executionTimeout: 3600
      retentionPeriodInDays: 7
`)
	// What the Framework hands over: variables resolved, nothing else done.
	resolved := `{"service":"media","provider":{"name":"aws","iam":{"role":"arn:aws:iam::123456789012:role/r"}},
  "functions":{"run":{"handler":"h.run","environment":{"TOKEN":"t0k"},"durableConfig":{"executionTimeout":3600,"retentionPeriodInDays":7}}}}`
	jsonFile := writeFile(t, dir, "resolved.json", resolved)
	env := map[string]string{"TOKEN": "t0k"}

	code, fromYAML, stderr := run(t, env, "-c", yml, "--stage", "prod", "validate", "--output", "json")
	if code != 0 {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	if !strings.Contains(fromYAML, `"durableConfig": {`) || !strings.Contains(fromYAML, `"executionTimeout": 3600`) {
		t.Errorf("validate --output json has no durableConfig:\n%s", fromYAML)
	}
	code, fromFile, stderr := run(t, nil, "-c", yml, "--stage", "prod", "--resolved-config", jsonFile, "validate", "--output", "json")
	if code != 0 || fromFile != fromYAML {
		t.Errorf("from a file: exit %d %s\n%s\nwant\n%s", code, stderr, fromFile, fromYAML)
	}

	var out, errb bytes.Buffer
	code = RunContext(context.Background(), []string{"asyncfn", "-c", yml, "--resolved-config", "-", "--stage", "prod", "print", "--output", "json"},
		IO{In: strings.NewReader(resolved), Out: &out, Err: &errb, Getenv: func(string) (string, bool) { return "", false }})
	if code != 0 || !strings.Contains(out.String(), `"TOKEN": "t0k"`) || !strings.Contains(out.String(), `"name": "media-prod-run"`) {
		t.Errorf("from stdin: exit %d %s\n%s", code, errb.String(), out.String())
	}

	bad := writeFile(t, dir, "bad.json", `{"service":"media","provider":{"name":"tencent"},"functions":{"run":{"handler":"h.run","asyncRunEnable":true,"timeout":90000}}}`)
	code, _, stderr = run(t, nil, "-c", yml, "--resolved-config", bad, "validate")
	want := yml + " (from the Framework's resolved configuration): functions.run.timeout: 90000 exceeds 86400"
	if code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("bad: exit %d, stderr %q, want %q", code, stderr, want)
	}
	code, _, stderr = run(t, nil, "-c", yml, "--resolved-config", filepath.Join(dir, "missing.json"), "validate")
	if code != 2 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "-c", yml, "--resolved-config", "-", "invoke", "-f", "run", "-p", "-")
	if code != 2 || !strings.Contains(stderr, "standard input") {
		t.Errorf("two readers of stdin: exit %d, stderr %q", code, stderr)
	}
}

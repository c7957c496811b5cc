package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// frameworkJSON is what the Framework hands the plugin for the file at
// path: the configuration as written, with every variable resolved and
// nothing normalized yet (serverless.configurationInput). It is made here
// with the YAML path's own parser and resolver; ok is false when the file
// does not get that far (the Framework would have refused it itself).
func frameworkJSON(t *testing.T, path string, opts Options) (data []byte, ok bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, errs := parseConfig(path, raw)
	if len(errs) > 0 || root.kind != kindMap {
		return nil, false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	r := newResolver(path, filepath.Dir(abs), root, opts, "1")
	r.resolveTree(root, "")
	if len(r.errs) > 0 {
		return nil, false
	}
	var buf bytes.Buffer
	root.appendJSON(&buf, "")
	return buf.Bytes(), true
}

// problem is an Error without its place, which only the YAML path knows.
type problem struct{ Path, Msg string }

// problems lists es by path and message, in that order: the YAML path
// sorts errors by their line, which JSON does not have.
func problems(es []*Error) []problem {
	out := []problem{}
	for _, e := range es {
		out = append(out, problem{e.Path, e.Msg})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Msg < out[j].Msg
	})
	return out
}

// sameLoad checks that the JSON path gave what the YAML path gave: the same
// Service, and the same warnings and deploy errors by path and message.
func sameLoad(t *testing.T, fromYAML, fromJSON *Loaded) {
	t.Helper()
	if !reflect.DeepEqual(fromYAML.Service, fromJSON.Service) {
		t.Errorf("Service differs\nYAML: %+v\nJSON: %+v", fromYAML.Service, fromJSON.Service)
	}
	// The one difference: the warning about plugins:, which the Framework
	// has loaded (TestLoadResolvedPlugins).
	var yamlWarnings []*Error
	for _, w := range fromYAML.Warnings {
		if w.Path != "plugins" {
			yamlWarnings = append(yamlWarnings, w)
		}
	}
	if a, b := problems(yamlWarnings), problems(fromJSON.Warnings); !reflect.DeepEqual(a, b) {
		t.Errorf("warnings differ\nYAML: %v\nJSON: %v", a, b)
	}
	if a, b := problems(fromYAML.DeployErrors), problems(fromJSON.DeployErrors); !reflect.DeepEqual(a, b) {
		t.Errorf("deploy errors differ\nYAML: %v\nJSON: %v", a, b)
	}
}

// TestLoadResolvedMatchesLoad: the configuration the Framework resolved,
// handed over as JSON, yields the same model as reading serverless.yml.
func TestLoadResolvedMatchesLoad(t *testing.T) {
	env := mapEnv(map[string]string{"ASYNCFN_USER": "ada", "TOKEN": "s3cr3t"})
	cases := []struct {
		name  string
		yml   string
		files map[string]string
		opts  Options
	}{
		{"tencent framework form", `service: media
provider:
  name: tencent
  runtime: Nodejs16.13
  region: ap-shanghai
  memorySize: 512
  environment:
    variables: {TOKEN: "${env:TOKEN}", USER: "${env:ASYNCFN_USER}"}
functions:
  transcode:
    handler: index.main
    timeout: 86400
    asyncRunEnable: true
    traceEnable: "false"
    retryNum: 1
    msgTTL: 3600
    environment:
      variables: {FROM_FILE: "${file(./extra.yml):value}", N: 5}
  quick:
    handler: index.quick
    runtime: Python3.9
    name: custom-quick
`, map[string]string{"extra.yml": "value: from-a-file\n"}, Options{Env: env}},
		{"aws with durable and destinations", `service: jobs
provider:
  name: aws
  runtime: nodejs20.x
  stage: ${opt:stage, 'dev'}
  iam:
    role: arn:aws:iam::123456789012:role/r
  environment:
    STAGE: ${sls:stage}
    LEVEL: ${param:level, 'info'}
package:
  patterns: ['!node_modules/**', 'src/**']
functions:
  run:
    handler: src/run.handler
    timeout: "600"
    memorySize: 1024
    maximumRetryAttempts: 0
    maximumEventAge: 120
    destinations:
      onFailure: report
    durableConfig:
      executionTimeout: 86400
      retentionPeriodInDays: 7
  report:
    handler: src/report.handler
    reservedConcurrency: 2
    package:
      patterns: ['extra/**']
`, nil, Options{Stage: "prod", Params: map[string]string{"level": "warn"}, Env: env}},
		{"functions as a list, with warnings", `service: listed
provider: aws
custom:
  anything: 1
resources:
  Resources: {}
functions:
  - a:
      handler: a.h
      events:
        - http: {path: /, method: get}
  - b:
      handler: b.h
`, nil, Options{Region: "eu-west-1", Env: env}},
		{"tencent component form", `component: scf
name: worker
inputs:
  src: ./src
  handler: index.main
  runtime: Nodejs16.13
  region: ap-guangzhou
  asyncRunEnable: true
  timeout: 7200
  msgTTL: 600
  environment:
    variables: {A: "${env:ASYNCFN_USER}"}
`, nil, Options{Env: env}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeService(t, tc.yml, tc.files)
			fromYAML, err := Load(p, tc.opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			data, ok := frameworkJSON(t, p, tc.opts)
			if !ok {
				t.Fatal("the configuration does not resolve")
			}
			// The plugin passes --stage, --region and --param as well; the
			// environment is the Framework's business now.
			jopts := tc.opts
			jopts.Env = mapEnv(nil)
			fromJSON, err := LoadResolved(p, data, jopts)
			if err != nil {
				t.Fatalf("LoadResolved: %v\n%s", err, data)
			}
			sameLoad(t, fromYAML, fromJSON)
			// What print shows is the same too: normalization happens once
			// either way, and runs on the Framework's output unchanged.
			if a, b := docJSON(t, fromYAML), docJSON(t, fromJSON); !reflect.DeepEqual(a, b) {
				t.Errorf("Loaded.JSON differs\nYAML: %v\nJSON: %v", a, b)
			}
		})
	}
}

// TestLoadResolvedFrameworkRecordings feeds what Framework 3.40.0 printed
// for the parity files (testdata/framework) through LoadResolved: the
// Framework's own resolved (and normalized) output gives the model asyncfn
// reads from the files.
func TestLoadResolvedFrameworkRecordings(t *testing.T) {
	cases := []struct {
		record, config string
		opts           Options
	}{
		{"aws-lambda-destinations", filepath.Join(corpusDir, "aws-lambda-destinations.yml"), Options{}},
		{"tencent-framework-project", filepath.Join(corpusDir, "tencent-framework-project.yml"), Options{}},
		{"parity-vars", filepath.Join("testdata", "parity", "vars", "serverless.yml"), Options{
			Stage: "prod", Params: map[string]string{"owner": "ops"},
			Env: mapEnv(map[string]string{"ASYNCFN_USER": "ada", "ASYNCFN_DEBUG": "yes"}),
		}},
		{"parity-files-prod", filepath.Join("testdata", "parity", "files", "serverless.yml"), Options{Stage: "prod"}},
		{"parity-tags", filepath.Join("testdata", "parity", "tags", "serverless.yml"), Options{}},
		{"print-tencent", filepath.Join("testdata", "parity", "print-tencent", "serverless.yml"), Options{}},
		// print-functions-list is left out: print shows the list of
		// functions already merged, so a function declared twice cannot be
		// seen in it (the plugin passes the configuration as written).
	}
	for _, tc := range cases {
		t.Run(tc.record, func(t *testing.T) {
			if tc.opts.Env == nil {
				tc.opts.Env = mapEnv(nil)
			}
			data, err := os.ReadFile(filepath.Join("testdata", "framework", tc.record+".json"))
			if err != nil {
				t.Fatal(err)
			}
			load, loadResolved := Load, LoadResolved
			if strings.HasPrefix(tc.record, "print-") {
				load, loadResolved = LoadForPrint, LoadResolvedForPrint
				if _, err := LoadResolved(tc.config, data, tc.opts); err == nil {
					t.Error("LoadResolved accepts a configuration asyncfn cannot deploy")
				}
			}
			fromYAML, err := load(tc.config, tc.opts)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			fromJSON, err := loadResolved(tc.config, data, tc.opts)
			if err != nil {
				t.Fatalf("LoadResolved: %v", err)
			}
			sameLoad(t, fromYAML, fromJSON)
		})
	}
}

// TestLoadResolvedErrors: every bad input that survives the Framework's
// own resolution gives the same errors either way (by path and message),
// named as coming from the resolved configuration, without a line.
func TestLoadResolvedErrors(t *testing.T) {
	tested := 0
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			p := writeService(t, tc.yml, nil)
			data, ok := frameworkJSON(t, p, Options{Env: mapEnv(nil)})
			if !ok {
				t.Skip("the Framework refuses this before resolving it")
			}
			tested++
			_, yerr := Load(p, Options{Env: mapEnv(nil)})
			_, jerr := LoadResolved(p, data, Options{Env: mapEnv(nil)})
			if yerr == nil || jerr == nil {
				t.Fatalf("want errors both ways, got YAML %v, JSON %v", yerr, jerr)
			}
			yes, jes := configErrors(t, yerr), configErrors(t, jerr)
			if a, b := problems(yes), problems(jes); !reflect.DeepEqual(a, b) {
				t.Fatalf("errors differ\nYAML: %v\nJSON: %v", a, b)
			}
			for _, e := range jes {
				if e.File != p+ResolvedSuffix || e.Line != 0 {
					t.Errorf("error %q: file %q line %d, want %q and no line", e, e.File, e.Line, p+ResolvedSuffix)
				}
			}
		})
	}
	if tested < 10 {
		t.Errorf("only %d bad inputs compared", tested)
	}

	t.Run("message", func(t *testing.T) {
		_, err := LoadResolved("serverless.yml", []byte(`{"service":"svc","provider":{"name":"tencent"},
			"functions":{"transcode":{"handler":"index.main","asyncRunEnable":true,"timeout":90000}}}`), Options{Env: mapEnv(nil)})
		want := "serverless.yml (from the Framework's resolved configuration): functions.transcode.timeout: 90000 exceeds 86400 (the maximum with asyncRunEnable)"
		if err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	})
	for _, bad := range []struct{ name, data, msg string }{
		{"not JSON", `service: s`, "the resolved configuration is not JSON"},
		{"truncated", `{"service": "s"`, "the resolved configuration is not JSON"},
		{"not an object", `["a"]`, "the configuration must be a mapping"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := LoadResolved("serverless.yml", []byte(bad.data), Options{})
			es := configErrors(t, err)
			if len(es) != 1 || !strings.Contains(es[0].Msg, bad.msg) || es[0].File != "serverless.yml"+ResolvedSuffix {
				t.Errorf("got %v, want %q", err, bad.msg)
			}
		})
	}
}

// TestLoadResolvedPlugins: plugins: is warned about when asyncfn reads the
// file, not when the Framework, which loaded the plugins, hands it over.
func TestLoadResolvedPlugins(t *testing.T) {
	p := writeService(t, "service: svc\nprovider:\n  name: tencent\nplugins:\n  - serverless-asyncfn\nfunctions:\n  f:\n    handler: index.main\n", nil)
	fromYAML, err := Load(p, Options{Env: mapEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(fromYAML.Warnings); len(got) != 1 || got[0].Path != "plugins" {
		t.Fatalf("YAML warnings = %v, want one about plugins", got)
	}
	data, _ := frameworkJSON(t, p, Options{Env: mapEnv(nil)})
	fromJSON, err := LoadResolved(p, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromJSON.Warnings) != 0 || !reflect.DeepEqual(fromYAML.Service, fromJSON.Service) {
		t.Errorf("JSON warnings = %v; same service: %v", problems(fromJSON.Warnings), reflect.DeepEqual(fromYAML.Service, fromJSON.Service))
	}
}

// TestLoadResolvedDoesNotResolveAgain: a resolved value that happens to
// hold "${" (an environment variable's text) is kept as it is.
func TestLoadResolvedDoesNotResolveAgain(t *testing.T) {
	l, err := LoadResolved("serverless.yml", []byte(`{"service":"svc","provider":{"name":"aws","iam":{"role":"arn:aws:iam::1:role/r"}},
		"functions":{"f":{"handler":"h.h","environment":{"TEMPLATE":"${env:HOME} and ${AWS::Region}"}}}}`), Options{Env: mapEnv(map[string]string{"HOME": "/root"})})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Service.Functions[0].Environment["TEMPLATE"]; got != "${env:HOME} and ${AWS::Region}" {
		t.Errorf("TEMPLATE = %q", got)
	}
}

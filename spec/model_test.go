package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func loadYML(t *testing.T, yml string, opts Options) *Loaded {
	t.Helper()
	if opts.Env == nil {
		opts.Env = mapEnv(nil)
	}
	l, err := Load(writeService(t, yml, nil), opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return l
}

func TestModelRules(t *testing.T) {
	t.Run("defaults and provider flow", func(t *testing.T) {
		l := loadYML(t, `service: svc
provider:
  name: tencent
  runtime: Nodejs16.13
  memorySize: 512
  environment:
    variables: {A: a, B: b}
functions:
  long:
    handler: index.main
    timeout: 86400
    asyncRunEnable: "TRUE"
    traceEnable: "false"
    retryNum: "1"
    msgTTL: 3600
    memorySize: "1024"
    environment:
      variables: {B: fn, N: 5}
  quick:
    handler: index.quick
    runtime: python3.9
    name: custom-name
`, Options{Region: "ap-chengdu"})
		s := l.Service
		if s.Stage != "dev" || s.Region != "ap-chengdu" {
			t.Errorf("stage %q region %q", s.Stage, s.Region)
		}
		long := fn(t, s, "long")
		want := Async{Enabled: true, TraceSet: true, RetryAttempts: intp(1), MaxEventAge: 3600} // traceEnable: "false" given
		if !reflect.DeepEqual(long.Async, want) || long.Timeout != 86400 || long.MemorySize != 1024 || long.Runtime != "Nodejs16.13" ||
			long.DeployedName != "svc-dev-long" {
			t.Errorf("long = %+v", long)
		}
		if w := map[string]string{"A": "a", "B": "fn", "N": "5"}; !reflect.DeepEqual(long.Environment, w) {
			t.Errorf("environment = %v, want %v", long.Environment, w)
		}
		quick := fn(t, s, "quick")
		if quick.Timeout != scfDefaultTimeout || quick.MemorySize != 512 || quick.Runtime != "python3.9" || quick.DeployedName != "custom-name" {
			t.Errorf("quick = %+v", quick)
		}
	})
	t.Run("aws defaults, destinations, durable, role", func(t *testing.T) {
		l := loadYML(t, `service: svc
provider:
  name: aws
  role: arn:aws:iam::1:role/old
  iam:
    role: arn:aws:iam::1:role/new
  environment: {SHARED: s}
functions:
  job:
    handler: h.main
    reservedConcurrency: 2
    destinations:
      onSuccess: other
      onFailure:
        arn: arn:aws:sqs:us-east-1:1:dlq
        type: sqs
    durableConfig:
      executionTimeout: 86400
      retentionPeriodInDays: 7
`, Options{})
		s := l.Service
		f := fn(t, s, "job")
		if s.Provider.Role != "arn:aws:iam::1:role/new" || s.Region != "us-east-1" || f.Runtime != awsDefaultRuntime ||
			f.MemorySize != awsDefaultMemory || f.Timeout != awsDefaultTimeout || *f.ReservedConcurrency != 2 {
			t.Errorf("service %+v function %+v", s, f)
		}
		want := Async{OnSuccess: "other", OnFailure: "arn:aws:sqs:us-east-1:1:dlq", Durable: &Durable{ExecutionTimeout: 86400, RetentionPeriodInDays: 7}}
		if !reflect.DeepEqual(f.Async, want) || !reflect.DeepEqual(f.Environment, map[string]string{"SHARED": "s"}) {
			t.Errorf("async %+v env %v", f.Async, f.Environment)
		}
	})
	t.Run("functions as a list, service as an object, package merge", func(t *testing.T) {
		l := loadYML(t, `service:
  name: svc
provider: aws
package:
  patterns: ['!tests/**', src/**]
  exclude: [docs/**]
functions:
  - a:
      handler: a.h
      package:
        patterns: ['!src/big/**', extra/**]
        artifact: a.zip
  - b:
      handler: b.h
`, Options{})
		s := l.Service
		if got := s.FunctionNames(); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Fatalf("functions %v", got)
		}
		a := fn(t, s, "a")
		if want := []string{"!docs/**", "!tests/**", "!src/big/**", "src/**", "extra/**"}; !reflect.DeepEqual(a.Package.Patterns, want) || a.Package.Artifact != "a.zip" {
			t.Errorf("a package = %+v, want %q", a.Package, want)
		}
		if b := fn(t, s, "b"); !reflect.DeepEqual(b.Package.Patterns, []string{"!docs/**", "!tests/**", "src/**"}) {
			t.Errorf("b package = %+v", b.Package)
		}
	})
	t.Run("configValidationMode", func(t *testing.T) {
		base := "service: svc\nprovider:\n  name: aws\n  apiGateway: {x: 1}\nfunctions:\n  f: {handler: h.h}\n"
		if l := loadYML(t, base, Options{}); len(l.Warnings) != 1 || l.Warnings[0].Path != "provider.apiGateway" || l.Warnings[0].Line != 4 {
			t.Errorf("warn mode: %v", l.Warnings)
		}
		if l := loadYML(t, "configValidationMode: off\n"+base, Options{}); len(l.Warnings) != 0 {
			t.Errorf("off mode: %v", l.Warnings)
		}
		_, err := Load(writeService(t, "configValidationMode: error\n"+base, nil), Options{})
		if es := configErrors(t, err); len(es) != 1 || es[0].Path != "provider.apiGateway" {
			t.Errorf("error mode: %v", err)
		}
	})
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	if _, err := Find(dir); err == nil || !strings.Contains(err.Error(), "no serverless.yml, serverless.yaml, serverless.json in") {
		t.Errorf("empty dir: %v", err)
	}
	for _, name := range []string{"serverless.json", "serverless.yaml", "serverless.yml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Find(dir)
		if err != nil || got != filepath.Join(dir, name) {
			t.Errorf("Find = %q, %v; want %s", got, err, name)
		}
	}
}

func TestJSONConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "serverless.json")
	os.WriteFile(p, []byte(`{"service": "svc", "provider": {"name": "aws", "stage": "${opt:stage, 'x'}"}, "functions": {"f": {"handler": "h.h"}}}`), 0o644)
	l, err := Load(p, Options{})
	if err != nil || l.Service.Stage != "x" {
		t.Fatalf("Load = %v, %v", l, err)
	}
}

func TestOutputs(t *testing.T) {
	l := loadYML(t, `service: svc
provider:
  name: aws
  stage: prod
custom:
  n: 1.5
  big: 100000000000000000000000
  int: 10
  yes: "yes"
  num: "123"
  b: true
  nul: null
  multi: "a\nb"
  ref: !Ref X
  empty: {}
  list: []
functions:
  f: {handler: h.h}
`, Options{})
	j, _ := l.JSON()
	for _, want := range []string{`"n": 1.5`, `"big": 1e+23`, `"int": 10`, `"yes": "yes"`, `"num": "123"`, `"b": true`, `"nul": null`, `"ref": {` + "\n" + `      "Ref": "X"`, `"empty": {}`, `"list": []`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("JSON lacks %s:\n%s", want, j)
		}
	}
	if !strings.HasPrefix(string(j), "{\n  \"service\": \"svc\",\n  \"provider\": {") {
		t.Errorf("JSON does not keep key order:\n%s", j)
	}
	y, err := l.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"n: 1.5\n", "int: 10\n", `yes: "yes"`, `num: "123"`, "b: true\n", "nul: null\n", "Ref: X\n", "multi: |-\n"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("YAML lacks %q:\n%s", want, y)
		}
	}
	// The YAML reads back to the same document.
	back := writeService(t, string(y), nil)
	l2, err := Load(back, Options{})
	if err != nil {
		t.Fatal(err)
	}
	j2, _ := l2.JSON()
	if string(j2) != string(j) {
		t.Errorf("YAML round trip changed the document:\n%s\nvs\n%s", j2, j)
	}
}

// SCF event tracking defaults to async run mode; a given traceEnable wins.
func TestTencentTrackingDefault(t *testing.T) {
	for _, c := range []struct {
		a    Async
		want bool
	}{
		{Async{Enabled: true}, true},
		{Async{}, false},
		{Async{Enabled: true, TraceSet: true}, false},
		{Async{Trace: true, TraceSet: true}, true},
	} {
		if got := c.a.Tracking(); got != c.want {
			t.Errorf("%+v: Tracking %t, want %t", c.a, got, c.want)
		}
	}
}

package spec

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// badInput is one kind of bad input, with the error Load gives for it.
type badInput struct {
	name      string
	yml       string
	line, col int
	path      string
	msg       string
}

// badInputs are the kinds of bad input TestBadInput and TestLoadForPrint check.
var badInputs = []badInput{
	{"yaml syntax", "service: s\nprovider:\n  name: aws\n  runtime: [a\n", 4, 1, "", "YAML syntax error: did not find expected ',' or ']'"},
	{"yaml scanner error", "service: s\nprovider:\n  name: aws: x\n", 3, 1, "", "YAML syntax error: mapping values are not allowed in this context"},
	{"yaml bad indentation", "service: s\nprovider:\n  name: aws\n runtime: x\n", 4, 1, "", "YAML syntax error"},
	{"unknown tag", "service: s\nprovider:\n  name: aws\ncustom:\n  x: !Transform y\n", 5, 6, "custom.x", "unknown tag !Transform"},
	{"duplicate key", "service: s\nprovider:\n  name: aws\nservice: t\n", 4, 1, "service", `duplicated mapping key "service"`},
	{"unknown provider", "service: s\nprovider:\n  name: azure\n", 3, 9, "provider.name", `unknown provider "azure": asyncfn deploys to aws or tencent`},
	{"env unset", "service: s\nprovider:\n  name: aws\n  stage: ${env:NOPE}\n", 4, 10, "provider.stage", "cannot resolve ${env:NOPE}: environment variable NOPE is not set, and there is no fallback"},
	{"cycle", "service: s\nprovider:\n  name: aws\ncustom:\n  a: ${self:custom.b}\n  b: x-${self:custom.a}\n", 6, 6, "custom.b", "circular reference: custom.a → custom.b → custom.a"},
	{"object in string", "service: s\nprovider:\n  name: aws\n  environment:\n    X: v-${self:custom.o}\ncustom:\n  o: {k: v}\n", 5, 8, "provider.environment.X", "${self:custom.o} resolves to an object, which cannot be part of a string"},
	{"aws timeout", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    timeout: 901\n", 7, 14, "functions.f.timeout", "901 exceeds 900 (the maximum for AWS Lambda, in seconds)"},
	{"scf async timeout", "service: s\nprovider:\n  name: tencent\nfunctions:\n  transcode:\n    handler: index.main\n    asyncRunEnable: true\n    timeout: 90000\n", 8, 14, "functions.transcode.timeout", "90000 exceeds 86400 (the maximum with asyncRunEnable)"},
	{"scf timeout without async", "service: s\nprovider:\n  name: tencent\n  timeout: 3600\nfunctions:\n  f:\n    handler: index.main\n", 4, 12, "provider.timeout", "3600 exceeds 900 (the maximum without asyncRunEnable; set asyncRunEnable: true to run up to 86400)"},
	{"missing handler", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    runtime: nodejs18.x\n", 6, 5, "functions.f.handler", "handler is required"},
	{"missing component handler", "component: scf\nname: n\ninputs:\n  src: ./src\n", 4, 3, "inputs.handler", "handler is required"},
	{"scf memory", "component: scf\nname: job\ninputs:\n  handler: i.h\n  memorySize: 200\n", 5, 15, "inputs.memorySize", "200 is not an SCF memory size: 64, or 128 to 3072 in steps of 128 (MB)"},
	{"aws memory", "service: s\nprovider:\n  name: aws\n  memorySize: 64\nfunctions:\n  f:\n    handler: h.h\n", 4, 15, "provider.memorySize", "64 is below 128 (the minimum for AWS Lambda memorySize, in MB)"},
	{"durable without executionTimeout", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    durableConfig:\n      retentionPeriodInDays: 7\n", 8, 7, "functions.f.durableConfig.executionTimeout", "executionTimeout is required"},
	{"retries", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    maximumRetryAttempts: 3\n", 7, 27, "functions.f.maximumRetryAttempts", "3 exceeds 2"},
	{"event age", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    maximumEventAge: 30\n", 7, 22, "functions.f.maximumEventAge", "30 is below 60"},
	{"msgTTL", "component: scf\nname: job\ninputs:\n  handler: i.h\n  msgTTL: 30000\n", 5, 11, "inputs.msgTTL", "30000 exceeds 21600"},
	{"retryNum", "component: scf\nname: job\ninputs:\n  handler: i.h\n  retryNum: 5\n", 5, 13, "inputs.retryNum", "5 exceeds 2"},
	{"service name", "service: 1bad\nprovider:\n  name: aws\n", 1, 10, "service", `service name "1bad" must start with a letter`},
	{"function key", "service: s\nprovider:\n  name: aws\nfunctions:\n  bad.name:\n    handler: h.h\n", 6, 5, "functions.bad.name", `function name "bad.name" may only hold letters, digits, - and _`},
	{"lambda name length", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    name: " + strings.Repeat("n", 65) + "\n", 7, 11, "functions.f.name", "is 65 characters; AWS Lambda allows 64"},
	{"scf name", "service: s\nprovider:\n  name: tencent\nfunctions:\n  f:\n    handler: h.h\n    name: bad_\n", 7, 11, "functions.f.name", `function name "bad_" is not an SCF name`},
	{"env name", "service: s\nprovider:\n  name: aws\n  environment:\n    1BAD: x\n", 5, 11, "provider.environment.1BAD", `environment variable name "1BAD"`},
	{"tencent flat environment", "service: s\nprovider:\n  name: tencent\n  environment:\n    KEY: v\n", 5, 10, "provider.environment.KEY", "Tencent's environment is nested"},
	{"bad boolean", "component: scf\nname: job\ninputs:\n  handler: i.h\n  asyncRunEnable: maybe\n", 5, 19, "inputs.asyncRunEnable", `must be true or false, not "maybe"`},
	{"not a number", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    timeout: soon\n", 7, 14, "functions.f.timeout", `must be a whole number, not "soon"`},
	{"not a mapping", "- a\n- b\n", 1, 1, "", "the configuration must be a mapping"},
	{"empty file", "", 1, 1, "", "the file is empty"},
	{"validation mode", "service: s\nconfigValidationMode: loud\nprovider:\n  name: aws\n", 2, 23, "configValidationMode", `"loud" is not a validation mode`},
	{"unsupported component", "component: express\nname: n\ninputs: {}\n", 1, 12, "component", `component "express" is not supported`},
	{"cfn destination", "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    destinations:\n      onFailure:\n        arn: !GetAtt Q.Arn\n", 9, 14, "functions.f.destinations.onFailure.arn", "a CloudFormation function cannot be resolved"},
	{"cfn function as destination", "service: sv\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    destinations:\n      onFailure:\n        Fn::GetAtt: [Dlq, Arn]\n", 9, 9, "functions.f.destinations.onFailure", "a CloudFormation function cannot be resolved by asyncfn, which deploys through the API: give the ARN or a function name of this service (found Fn::GetAtt)"},
	{"destination without arn", "service: sv\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    destinations:\n      onSuccess:\n        type: sqs\n", 9, 9, "functions.f.destinations.onSuccess.arn", "arn is required"},
	{"function declared twice", "service: sv\nprovider:\n  name: aws\nfunctions:\n  - f:\n      handler: h.f\n  - f:\n      handler: h.g\n", 8, 7, "functions.1.f", `function "f" is declared twice`},
	{"function list item", "service: sv\nprovider:\n  name: aws\nfunctions:\n  - f:\n      handler: h.f\n  - oops\n", 7, 5, "functions.1", "must be a mapping of function names to functions, not a string"},
	{"function not a mapping", "service: sv\nprovider:\n  name: aws\nfunctions:\n  f: h.f\n", 5, 6, "functions.f", "must be a mapping (handler, runtime, ...), not a string"},
	{"no service", "provider:\n  name: aws\n", 1, 1, "service", "service is required"},
	{"no provider", "service: sv\n", 1, 1, "provider", "provider is required"},
	{"no provider name", "service: sv\nprovider:\n  runtime: nodejs18.x\n", 3, 3, "provider.name", "provider.name is required"},
	{"aws package string", "service: sv\nprovider:\n  name: aws\npackage: nope\n", 4, 10, "package", "must be a mapping (patterns, individually, artifact), not a string"},
	{"cfn environment value", "service: sv\nprovider:\n  name: aws\n  environment:\n    Q: !Ref Q\n", 5, 8, "provider.environment.Q", "CloudFormation functions cannot be resolved"},
	{"generated lambda name", "service: sv\nprovider:\n  name: aws\nfunctions:\n  bad.key:\n    handler: h.h\n", 6, 5, "functions.bad.key.name", `function name "sv-dev-bad.key" may only hold`},
	{"cloud variable", "service: sv\nprovider:\n  name: aws\ncustom:\n  x: ${ssm:/a/b}\n", 5, 6, "custom.x", `the "ssm" variable source reads from the cloud`},
	{"aws variable not region", "service: sv\nprovider:\n  name: aws\ncustom:\n  x: ${aws:accountId}\n", 5, 6, "custom.x", `the "aws" variable source reads from the cloud`},
	{"aws region of another provider", "service: sv\nprovider:\n  name: tencent\ncustom:\n  x: ${aws:region}\n", 5, 6, "custom.x", `the "aws" variable source reads from the cloud`},
}

// TestBadInput checks each kind of bad input gives one clear error at the
// exact place it is written.
func TestBadInput(t *testing.T) {
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			p := writeService(t, tc.yml, nil)
			_, err := Load(p, Options{Env: mapEnv(nil)})
			if err == nil {
				t.Fatal("want an error, got none")
			}
			es := configErrors(t, err)
			for _, e := range es {
				if e.File == p && e.Line == tc.line && e.Col == tc.col && e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("want %d:%d: %s: %s, got:\n%v", tc.line, tc.col, tc.path, tc.msg, err)
		})
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "serverless.yml", Line: 14, Col: 7, Path: "functions.transcode.timeout", Msg: "90000 exceeds 86400 (the maximum with asyncRunEnable)"}
	if got, want := e.Error(), "serverless.yml:14:7: functions.transcode.timeout: 90000 exceeds 86400 (the maximum with asyncRunEnable)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	cause := errors.New("cause")
	es := Errors{e, {File: "f.yml", Msg: "m", Err: cause}}
	if got := es.Error(); got != e.Error()+"\nf.yml: m" {
		t.Errorf("Errors.Error() = %q", got)
	}
	if !errors.Is(es[1], cause) {
		t.Error("Unwrap does not reach the cause")
	}
}

// TestAllErrorsAtOnce: independent problems are all reported, in file order.
func TestAllErrorsAtOnce(t *testing.T) {
	yml := "service: s\nprovider:\n  name: aws\ncustom:\n  a: ${env:A}\n  b: ${env:B}\n  c: ${foo:x}\n"
	_, err := Load(writeService(t, yml, nil), Options{Env: mapEnv(nil)})
	es := configErrors(t, err)
	if len(es) != 3 || es[0].Path != "custom.a" || es[1].Path != "custom.b" || es[2].Path != "custom.c" {
		t.Fatalf("want 3 errors in file order, got:\n%v", err)
	}
	yml = "service: svc\nprovider:\n  name: aws\n  timeout: 1000\nfunctions:\n  f: {handler: h.h}\n  g: {handler: h.h, memorySize: 1}\n  h: {runtime: x}\n"
	_, err = Load(writeService(t, yml, nil), Options{Env: mapEnv(nil)})
	es = configErrors(t, err)
	if len(es) != 3 { // provider.timeout once (not once per function), memorySize, handler
		t.Fatalf("want 3 errors, got:\n%v", err)
	}
}

func TestIOErrorIsNotConfigError(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml", Options{})
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want a not-exist error, got %v", err)
	}
	var es Errors
	if errors.As(err, &es) {
		t.Fatal("an I/O error must not be spec.Errors")
	}
}

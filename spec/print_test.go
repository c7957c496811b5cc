package spec

import (
	"strings"
	"testing"
)

// printRefuses names the badInputs that `serverless print` (Framework v3)
// refuses too: YAML it cannot read, variables it cannot resolve, no service
// or provider, functions that are not mappings, a package its AWS packager
// fails on. For the other badInputs it prints the file (they break its
// schema at most, and configValidationMode defaults to warn), and so does
// LoadForPrint; see also testdata/framework/print-*.json.
var printRefuses = map[string]bool{
	"yaml syntax": true, "yaml scanner error": true, "yaml bad indentation": true, "unknown tag": true,
	"duplicate key": true, "env unset": true, "cycle": true, "object in string": true, "not a mapping": true,
	"empty file": true, "unsupported component": true, "function list item": true, "function not a mapping": true,
	"no service": true, "no provider": true, "no provider name": true, "aws package string": true,
	"cloud variable": true, "aws variable not region": true, "aws region of another provider": true,
}

// TestLoadForPrint: every problem Load reports for a badInput is, from
// LoadForPrint, either the same error (what print refuses too) or the same
// problem in DeployErrors, with the same position and path.
func TestLoadForPrint(t *testing.T) {
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			p := writeService(t, tc.yml, nil)
			opts := Options{Env: mapEnv(nil)}
			is := func(e *Error) bool {
				return e.File == p && e.Line == tc.line && e.Col == tc.col && e.Path == tc.path && strings.Contains(e.Msg, tc.msg)
			}
			l, err := LoadForPrint(p, opts)
			if printRefuses[tc.name] {
				if err == nil {
					t.Fatal("LoadForPrint accepts a file the Framework's print refuses")
				}
				for _, e := range configErrors(t, err) {
					if is(e) {
						return
					}
				}
				t.Fatalf("want %d:%d: %s: %s, got:\n%v", tc.line, tc.col, tc.path, tc.msg, err)
			}
			if err != nil {
				t.Fatalf("LoadForPrint refuses a file the Framework prints: %v", err)
			}
			for _, e := range l.DeployErrors {
				if is(e) {
					if _, err := l.JSON(); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
			t.Fatalf("DeployErrors lack %d:%d: %s: %s, got %v", tc.line, tc.col, tc.path, tc.msg, Errors(l.DeployErrors))
		})
	}
}

// TestLoadForPrintValidationMode: under configValidationMode: error, print
// refuses what the Framework's AWS schema refuses, and still prints what
// the schema takes (a CloudFormation function as an environment value) or
// what no schema checks (provider tencent). Load refuses all of them.
func TestLoadForPrintValidationMode(t *testing.T) {
	const aws = "configValidationMode: error\nservice: sv\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n"
	const scf = "configValidationMode: error\nservice: sv\nprovider:\n  name: tencent\nfunctions:\n  f:\n    handler: h.h\n"
	cases := []struct {
		name, yml string
		printed   bool
	}{
		{"aws limit", aws + "    timeout: 901\n", false},
		{"aws unknown key", aws + "    bogus: 1\n", false},
		{"aws key not acted on", aws + "    tracing: Active\n", true},
		{"aws cfn environment", aws + "    environment:\n      Q: !Ref Q\n", true},
		{"aws function key", strings.Replace(aws, "  f:", "  bad.key:", 1), false},
		{"aws lambda name", aws + "    name: my.fn\n", true},
		{"tencent limit", scf + "    timeout: 2000\n", true},
		{"tencent unknown key", scf + "    bogus: 1\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeService(t, tc.yml, nil)
			if _, err := Load(p, Options{Env: mapEnv(nil)}); err == nil {
				t.Error("Load accepts it")
			}
			l, err := LoadForPrint(p, Options{Env: mapEnv(nil)})
			if tc.printed && err != nil {
				t.Fatalf("LoadForPrint: %v", err)
			}
			if !tc.printed && err == nil {
				t.Fatalf("LoadForPrint accepts it (warnings %v, deploy errors %v)", Errors(l.Warnings), Errors(l.DeployErrors))
			}
		})
	}
}

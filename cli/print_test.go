package cli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonAt follows a dotted path (map keys) into decoded JSON.
func jsonAt(doc any, path string) (any, bool) {
	cur := doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// TestPrintPrintsWhatTheFrameworkPrints: `serverless print` (Framework v3,
// configValidationMode warn by default) prints each of these files, so
// asyncfn print does too: exit 0, the value printed as written, the problem
// as a warning on stderr. validate and deploy still refuse the file, with
// the same file:line:col and dotted path.
func TestPrintPrintsWhatTheFrameworkPrints(t *testing.T) {
	const aws = "service: svc\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.f\n"
	const scf = "service: svc\nprovider:\n  name: tencent\nfunctions:\n  f:\n    handler: index.main\n"
	cases := []struct {
		name  string
		yml   string
		at    string // dotted path into print's JSON output
		want  any    // what print shows there
		where string // file:line:col: dotted.path: of the problem
		msg   string
	}{
		{"cloudformation function as a destination (issue 9)", aws + "    destinations:\n      onFailure:\n        Fn::GetAtt: [Dlq, Arn]\n",
			"functions.f.destinations.onFailure", map[string]any{"Fn::GetAtt": []any{"Dlq", "Arn"}},
			"serverless.yml:9:9: functions.f.destinations.onFailure: ", "a CloudFormation function cannot be resolved by asyncfn"},
		{"!GetAtt as a destination arn", aws + "    destinations:\n      onSuccess:\n        arn: !GetAtt Done.Arn\n        type: sqs\n",
			"functions.f.destinations.onSuccess.arn", map[string]any{"Fn::GetAtt": []any{"Done", "Arn"}},
			"serverless.yml:9:14: functions.f.destinations.onSuccess.arn: ", "a CloudFormation function cannot be resolved by asyncfn"},
		{"destination without arn", aws + "    destinations:\n      onFailure:\n        type: sqs\n",
			"functions.f.destinations.onFailure", map[string]any{"type": "sqs"},
			"serverless.yml:9:9: functions.f.destinations.onFailure.arn: ", "arn is required"},
		{"cloudformation function as an environment value", aws + "    environment:\n      QUEUE_URL:\n        Ref: Jobs\n",
			"functions.f.environment.QUEUE_URL", map[string]any{"Ref": "Jobs"},
			"serverless.yml:9:9: functions.f.environment.QUEUE_URL: ", "CloudFormation functions cannot be resolved"},
		{"aws timeout over the limit", aws + "    timeout: 901\n",
			"functions.f.timeout", float64(901),
			"serverless.yml:7:14: functions.f.timeout: ", "901 exceeds 900"},
		{"aws memory below the limit", aws + "    memorySize: 64\n",
			"functions.f.memorySize", float64(64),
			"serverless.yml:7:17: functions.f.memorySize: ", "64 is below 128"},
		{"retries over the limit", aws + "    maximumRetryAttempts: 5\n",
			"functions.f.maximumRetryAttempts", float64(5),
			"serverless.yml:7:27: functions.f.maximumRetryAttempts: ", "5 exceeds 2"},
		{"negative reservedConcurrency", aws + "    reservedConcurrency: -1\n",
			"functions.f.reservedConcurrency", float64(-1),
			"serverless.yml:7:26: functions.f.reservedConcurrency: ", "-1 is below 0"},
		{"lambda name too long", aws + "    name: " + strings.Repeat("n", 70) + "\n",
			"functions.f.name", strings.Repeat("n", 70),
			"serverless.yml:7:11: functions.f.name: ", "is 70 characters; AWS Lambda allows 64"},
		{"missing handler", "service: svc\nprovider:\n  name: aws\nfunctions:\n  f:\n    timeout: 10\n",
			"functions.f.name", "svc-dev-f",
			"serverless.yml:6:5: functions.f.handler: ", "handler is required"},
		{"service name the schema refuses", "service: my_svc\nprovider:\n  name: aws\n",
			"service", "my_svc",
			"serverless.yml:1:10: service: ", `service name "my_svc" must start with a letter`},
		{"unknown validation mode", "service: svc\nconfigValidationMode: loud\nprovider:\n  name: aws\n",
			"configValidationMode", "loud",
			"serverless.yml:2:23: configValidationMode: ", `"loud" is not a validation mode`},
		{"unknown provider", "service: svc\nprovider:\n  name: azure\nfunctions:\n  f:\n    handler: h.f\n",
			"functions.f.name", "svc-dev-f",
			"serverless.yml:3:9: provider.name: ", `unknown provider "azure"`},
		{"function declared twice (the Framework merges them)", "service: svc\nprovider:\n  name: aws\nfunctions:\n  - f:\n      handler: h.f\n  - f:\n      handler: h.g\n",
			"functions.f.handler", "h.g",
			"serverless.yml:8:7: functions.1.f: ", `function "f" is declared twice`},
		{"scf async timeout over the limit", scf + "    asyncRunEnable: true\n    timeout: 90000\n",
			"functions.f.timeout", float64(90000),
			"serverless.yml:8:14: functions.f.timeout: ", "90000 exceeds 86400"},
		{"scf memory size", scf + "    memorySize: 100\n",
			"functions.f.memorySize", float64(100),
			"serverless.yml:7:17: functions.f.memorySize: ", "100 is not an SCF memory size"},
		{"flat tencent environment", scf + "    environment:\n      KEY: v\n",
			"functions.f.environment.KEY", "v",
			"serverless.yml:8:12: functions.f.environment.KEY: ", "Tencent's environment is nested"},
		{"scf async flag that is not a boolean", scf + "    asyncRunEnable: maybe\n",
			"functions.f.asyncRunEnable", "maybe",
			"serverless.yml:7:21: functions.f.asyncRunEnable: ", `must be true or false, not "maybe"`},
		{"configValidationMode error: the schema takes a CloudFormation environment value", "configValidationMode: error\n" + aws + "    environment:\n      ARN: !GetAtt Jobs.Arn\n",
			"functions.f.environment.ARN", map[string]any{"Fn::GetAtt": []any{"Jobs", "Arn"}},
			"serverless.yml:9:12: functions.f.environment.ARN: ", "CloudFormation functions cannot be resolved"},
		{"configValidationMode error: tencent has no schema", "configValidationMode: error\n" + scf + "    memorySize: 100\n",
			"functions.f.memorySize", float64(100),
			"serverless.yml:8:17: functions.f.memorySize: ", "100 is not an SCF memory size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "serverless.yml", c.yml)
			code, stdout, stderr := run(t, nil, "-c", path, "-o", "json", "print")
			if code != exitOK {
				t.Fatalf("print: exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			var doc any
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("print: %v\n%s", err, stdout)
			}
			if got, ok := jsonAt(doc, c.at); !ok || !reflect.DeepEqual(got, c.want) {
				t.Errorf("print: %s = %#v, want %#v\n%s", c.at, got, c.want, stdout)
			}
			if !strings.Contains(stderr, "Warning: "+strings.TrimSuffix(path, "serverless.yml")+c.where) || !strings.Contains(stderr, c.msg) {
				t.Errorf("print: stderr lacks the warning %q … %q:\n%s", c.where, c.msg, stderr)
			}
			for _, cmd := range [][]string{{"validate"}, {"--endpoint", "http://127.0.0.1:1", "deploy"}} {
				code, stdout, stderr := run(t, nil, append([]string{"-c", path}, cmd...)...)
				if code != exitUsage {
					t.Fatalf("%s: exit %d, want 2\nstdout: %s\nstderr: %s", cmd, code, stdout, stderr)
				}
				if stdout != "" {
					t.Errorf("%s: wrote to stdout: %q", cmd, stdout)
				}
				if !strings.HasPrefix(stderr, "Error: ") || !strings.Contains(stderr, c.where) || !strings.Contains(stderr, c.msg) {
					t.Errorf("%s: stderr lacks the error %q … %q:\n%s", cmd, c.where, c.msg, stderr)
				}
			}
		})
	}
}

// TestPrintRefusesWhatTheFrameworkRefuses: files `serverless print` (v3)
// refuses too stay errors, named by file:line:col and dotted path.
func TestPrintRefusesWhatTheFrameworkRefuses(t *testing.T) {
	cases := []struct{ name, yml, want string }{
		{"no service", "provider:\n  name: aws\n", "serverless.yml:1:1: service: service is required"},
		{"no provider", "service: svc\n", "serverless.yml:1:1: provider: provider is required"},
		{"provider without a name", "service: svc\nprovider:\n  runtime: nodejs18.x\n", "serverless.yml:3:3: provider.name: provider.name is required"},
		{"functions not a mapping", "service: svc\nprovider:\n  name: aws\nfunctions: nope\n", "serverless.yml:4:12: functions: must be a mapping"},
		{"function not a mapping", "service: svc\nprovider:\n  name: aws\nfunctions:\n  f: h.f\n", "serverless.yml:5:6: functions.f: must be a mapping"},
		{"functions list item not a mapping", "service: svc\nprovider:\n  name: aws\nfunctions:\n  - f:\n      handler: h.f\n  - oops\n", "serverless.yml:7:5: functions.1: must be a mapping"},
		{"aws package not a mapping", "service: svc\nprovider:\n  name: aws\npackage: nope\n", "serverless.yml:4:10: package: must be a mapping"},
		{"unset variable", "service: svc\nprovider:\n  name: aws\n  stage: ${env:ASYNCFN_NOPE}\n", "serverless.yml:4:10: provider.stage: cannot resolve ${env:ASYNCFN_NOPE}"},
		{"cloud variable source", "service: svc\nprovider:\n  name: aws\ncustom:\n  out: ${cf:stack.Out, 'x'}\n", `serverless.yml:5:8: custom.out: cannot resolve ${cf:stack.Out, 'x'}: the "cf" variable source`},
		{"configValidationMode error: schema limit", "configValidationMode: error\nservice: svc\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.f\n    memorySize: 64\n", "serverless.yml:8:17: functions.f.memorySize: 64 is below 128"},
		{"configValidationMode error: unknown aws key", "configValidationMode: error\nservice: svc\nprovider:\n  name: aws\n  bogus: 1\n", "serverless.yml:5:10: provider.bogus: unknown key"},
		{"configValidationMode error: cloudformation destination", "configValidationMode: error\nservice: svc\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.f\n    destinations:\n      onFailure:\n        Fn::GetAtt: [Dlq, Arn]\n",
			"serverless.yml:10:9: functions.f.destinations.onFailure: a CloudFormation function"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "serverless.yml", c.yml)
			for _, cmd := range []string{"print", "validate"} {
				code, stdout, stderr := run(t, nil, "-c", path, cmd)
				if code != exitUsage || stdout != "" {
					t.Fatalf("%s: exit %d, want 2 and nothing on stdout\nstdout: %s\nstderr: %s", cmd, code, stdout, stderr)
				}
				if !strings.Contains(stderr, c.want) {
					t.Errorf("%s: stderr lacks %q:\n%s", cmd, c.want, stderr)
				}
			}
		})
	}
}

// TestPrintResolvesAWSRegion: ${aws:region} needs no cloud call (--region,
// else provider.region, else us-east-1), so print and validate resolve it.
func TestPrintResolvesAWSRegion(t *testing.T) {
	yml := "service: svc\nprovider:\n  name: aws\n  region: eu-west-1\ncustom:\n  region: ${aws:region}\nfunctions:\n  f:\n    handler: h.f\n"
	path := writeFile(t, t.TempDir(), "serverless.yml", yml)
	for _, tc := range []struct {
		args []string
		want string
	}{{nil, "eu-west-1"}, {[]string{"--region", "ap-south-1"}, "ap-south-1"}} {
		code, stdout, stderr := run(t, nil, append([]string{"-c", path, "-o", "json"}, append(tc.args, "print")...)...)
		var doc any
		if code != exitOK || json.Unmarshal([]byte(stdout), &doc) != nil {
			t.Fatalf("print %v: exit %d\nstdout: %s\nstderr: %s", tc.args, code, stdout, stderr)
		}
		if got, _ := jsonAt(doc, "custom.region"); got != tc.want {
			t.Errorf("print %v: custom.region = %v, want %s", tc.args, got, tc.want)
		}
	}
	if code, _, stderr := run(t, nil, "-c", path, "validate"); code != exitOK {
		t.Errorf("validate: exit %d\n%s", code, stderr)
	}
}

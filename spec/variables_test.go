package spec

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// varTemplate wraps a case's custom: lines (or is replaced by full).
const varTemplate = `service: svc
provider:
  name: aws
  runtime: nodejs18.x
custom:
%s
functions:
  fn:
    handler: h.main
`

func TestVariables(t *testing.T) {
	files := map[string]string{
		"conf/base.yml":  "region: ap-east-1\nnested:\n  deep:\n    value: 7\nlist: [x, y]\nself: svc-is-${self:service}\n",
		"conf/data.json": `{"color": "blue", "sizes": {"s": 1}}`,
		"conf/note.txt":  "hello\n",
	}
	env := map[string]string{
		"SET": "from-env", "EMPTY": "", "B": "second", "NUM": "12",
		"INDIRECT": "${opt:stage}", "LOOP": "${env:LOOP}", "FLAG": "0",
	}
	cases := []struct {
		name    string
		custom  string // lines under custom:, indented two spaces
		full    string // a whole file instead of the template
		opts    Options
		path    string // default custom.x
		want    any    // decoded-JSON form
		match   string // regexp the string value must match, instead of want
		wantErr string // substring of the error; path is checked too
		errPath string // default: path
	}{
		// opt
		{name: "opt given", custom: "  x: ${opt:stage}", opts: Options{Stage: "prod"}, want: "prod"},
		{name: "opt from Opts map", custom: "  x: ${opt:color}", opts: Options{Opts: map[string]string{"color": "red"}}, want: "red"},
		{name: "opt fallback literal", custom: "  x: ${opt:foo, 'bar'}", want: "bar"},
		{name: "opt missing", custom: "  x: ${opt:foo}", wantErr: "option --foo was not given, and there is no fallback"},
		// env
		{name: "env set", custom: "  x: ${env:SET}", want: "from-env"},
		{name: "env unset fallback", custom: "  x: ${env:NOPE, 'fb'}", want: "fb"},
		{name: "env unset no fallback", custom: "  x: ${env:NOPE}", wantErr: "cannot resolve ${env:NOPE}: environment variable NOPE is not set"},
		{name: "env empty string is a value", custom: "  x: ${env:EMPTY, 'fb'}", want: ""},
		{name: "env value holding a variable is resolved", custom: "  x: ${env:INDIRECT}", opts: Options{Stage: "qa"}, want: "qa"},
		{name: "env value resolving to itself", custom: "  x: ${env:LOOP}", wantErr: "excessive variable nesting"},
		{name: "env number stays a string", custom: "  x: ${env:NUM}", want: "12"},
		// self
		{name: "self string", custom: "  a: hi\n  x: ${self:custom.a}", want: "hi"},
		{name: "self object keeps type", custom: "  a: {k: 1, l: [true]}\n  x: ${self:custom.a}", want: map[string]any{"k": 1.0, "l": []any{true}}},
		{name: "self number keeps type", custom: "  a: 5\n  x: ${self:custom.a}", want: 5.0},
		{name: "self bool keeps type", custom: "  a: false\n  x: ${self:custom.a}", want: false},
		{name: "self list index", custom: "  a: [p, q]\n  x: ${self:custom.a.1}", want: "q"},
		{name: "self top-level", custom: "  x: ${self:service}", want: "svc"},
		{name: "self through a variable", custom: "  a: ${self:custom.b}\n  b: ${env:SET}\n  x: ${self:custom.a}", want: "from-env"},
		{name: "self object with variables inside", custom: "  a:\n    k: ${env:SET}\n  x: ${self:custom.a}", want: map[string]any{"k": "from-env"}},
		{name: "self missing", custom: "  x: ${self:custom.nope}", wantErr: `nothing at "custom.nope" in this file`},
		{name: "self missing with fallback", custom: "  x: ${self:custom.nope, self:service}", want: "svc"},
		{name: "cycle between two properties", custom: "  a: ${self:custom.b}\n  b: ${self:custom.a}\n  x: ok", path: "custom.a", wantErr: "circular reference: custom.a → custom.b → custom.a", errPath: "custom.b"},
		{name: "property referring to itself", custom: "  x: ${self:custom.x}", wantErr: "circular reference: custom.x refers to itself"},
		{name: "property referring to its parent", custom: "  x: ${self:custom}", wantErr: "circular reference"},
		// sls
		{name: "sls stage default", custom: "  x: ${sls:stage}", want: "dev"},
		{name: "sls stage from option", custom: "  x: ${sls:stage}", opts: Options{Stage: "prod"}, want: "prod"},
		{name: "sls stage from provider", full: "service: svc\nprovider:\n  name: aws\n  stage: ${env:SET}\ncustom:\n  x: ${sls:stage}\n", want: "from-env"},
		{name: "sls instanceId", custom: "  x: ${sls:instanceId}", match: `^\d+$`},
		{name: "sls unknown address", custom: "  x: ${sls:nope}", wantErr: `unsupported "nope" address`},
		// param
		{name: "param from CLI", custom: "  x: ${param:p}", opts: Options{Params: map[string]string{"p": "cli"}}, want: "cli"},
		{name: "param from params.default", full: "service: svc\nprovider: aws\nparams:\n  default: {p: d}\ncustom:\n  x: ${param:p}\n", want: "d"},
		{name: "param stage beats default", full: "service: svc\nprovider: aws\nparams:\n  default: {p: d}\n  prod: {p: pr}\ncustom:\n  x: ${param:p}\n", opts: Options{Stage: "prod"}, want: "pr"},
		{name: "param CLI beats config", full: "service: svc\nprovider: aws\nparams:\n  default: {p: d}\ncustom:\n  x: ${param:p}\n", opts: Options{Params: map[string]string{"p": "cli"}}, want: "cli"},
		{name: "param missing", custom: "  x: ${param:nope}", wantErr: `param "nope" is not set`},
		// file
		{name: "file whole yml", custom: "  x: ${file(./conf/data.json)}", want: map[string]any{"color": "blue", "sizes": map[string]any{"s": 1.0}}},
		{name: "file key", custom: "  x: ${file(./conf/base.yml):region}", want: "ap-east-1"},
		{name: "file dotted key", custom: "  x: ${file(./conf/base.yml):nested.deep.value}", want: 7.0},
		{name: "file json key", custom: "  x: ${file(conf/data.json):sizes.s}", want: 1.0},
		{name: "file text", custom: "  x: ${file(./conf/note.txt)}", want: "hello\n"},
		{name: "file content resolved against this file", custom: "  x: ${file(./conf/base.yml):self}", want: "svc-is-svc"},
		{name: "file missing falls back", custom: "  x: ${file(./conf/nope.yml):a, 'fb'}", want: "fb"},
		{name: "file missing key falls back", custom: "  x: ${file(./conf/base.yml):nope, 'fb'}", want: "fb"},
		{name: "file missing no fallback", custom: "  x: ${file(./conf/nope.yml)}", wantErr: "file ./conf/nope.yml does not exist"},
		{name: "file path from a variable", custom: "  x: ${file(./conf/${opt:f, 'base'}.yml):region}", want: "ap-east-1"},
		// fallbacks and literals
		{name: "fallback chain", custom: "  x: ${env:A, env:B, 'c'}", want: "second"},
		{name: "literal number", custom: "  x: ${env:A, 42}", want: 42.0},
		{name: "literal float", custom: "  x: ${env:A, 1.5}", want: 1.5},
		{name: "literal true", custom: "  x: ${env:A, true}", want: true},
		{name: "literal null", custom: "  x: ${env:A, null}", want: nil},
		{name: "double-quoted literal", custom: `  x: ${env:A, "a, b"}`, want: "a, b"},
		{name: "all fallbacks missing", custom: "  x: ${env:A, env:C}", wantErr: "environment variable C is not set, nor in any fallback"},
		{name: "a literal alone is not a variable", custom: "  x: ${'lit'}", want: "${'lit'}"},
		// nesting
		{name: "nested address", custom: "  mem: {dev: 1, prod: 2}\n  x: ${self:custom.mem.${sls:stage}}", opts: Options{Stage: "prod"}, want: 2.0},
		{name: "nested address with fallback", custom: "  mem: {dev: 1}\n  x: ${self:custom.mem.${opt:s, 'dev'}}", want: 1.0},
		{name: "nested fallback source", custom: "  x: ${env:A, ${env:SET}}", wantErr: "Invalid variable source"},
		// strings
		{name: "interpolation", custom: "  x: a-${env:SET}-${opt:s, 'z'}", want: "a-from-env-z"},
		{name: "number inside string", custom: "  n: 1.5\n  x: v${self:custom.n}", want: "v1.5"},
		{name: "bool inside string", custom: "  b: true\n  x: is-${self:custom.b}", want: "is-true"},
		{name: "object inside string", custom: "  o: {k: v}\n  x: pre-${self:custom.o}", wantErr: "${self:custom.o} resolves to an object, which cannot be part of a string"},
		{name: "null inside string", custom: "  x: pre-${env:A, null}", wantErr: "resolves to null, which cannot be part of a string"},
		{name: "escaped variable", custom: `  x: \${self:service}`, want: "${self:service}"},
		{name: "escaped with backslash kept", custom: `  x: a\\${self:service}`, want: `a\svc`},
		{name: "pseudo parameter ${AWS::Region}", custom: "  x: arn:${AWS::Region}:${self:service}", want: "arn:${AWS::Region}:svc"},
		{name: "pseudo parameter #{}", custom: "  x: '#{AWS::AccountId}'", want: "#{AWS::AccountId}"},
		{name: "foreign ${stage}", custom: "  x: ${stage}-x", want: "${stage}-x"},
		{name: "space after ${ is not a variable", custom: "  x: ${ env:SET }", want: "${ env:SET }"},
		{name: "keys are not resolved", custom: "  x:\n    ${opt:stage}: v", opts: Options{Stage: "prod"}, want: map[string]any{"${opt:stage}": "v"}},
		// sources and syntax
		{name: "strToBool", custom: "  x: ${strToBool(${env:FLAG})}", want: false},
		{name: "unknown source", custom: "  x: ${foo:bar}", wantErr: `unknown variable source "foo"`},
		{name: "cloud source", custom: "  x: ${ssm:/path}", wantErr: `the "ssm" variable source reads from the cloud`},
		{name: "unterminated", custom: "  x: ${self:service", wantErr: "Missing variable closing bracket"},
		{name: "bad source", custom: "  x: ${env:A, @}", wantErr: "Invalid variable source"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			yml := tc.full
			if yml == "" {
				yml = strings.Replace(varTemplate, "%s", tc.custom, 1)
			}
			opts := tc.opts
			opts.Env = mapEnv(env)
			path := tc.path
			if path == "" {
				path = "custom.x"
			}
			l, err := Load(writeService(t, yml, files), opts)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("want error %q, got none", tc.wantErr)
				}
				es := configErrors(t, err)
				errPath := tc.errPath
				if errPath == "" {
					errPath = path
				}
				for _, e := range es {
					if strings.Contains(e.Msg, tc.wantErr) && e.Path == errPath && e.Line > 0 {
						return
					}
				}
				t.Fatalf("want error at %s containing %q, got:\n%v", errPath, tc.wantErr, err)
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got, ok := at(docJSON(t, l), path)
			if !ok {
				t.Fatalf("%s not in the resolved document", path)
			}
			if tc.match != "" {
				if s, _ := got.(string); !regexp.MustCompile(tc.match).MatchString(s) {
					t.Fatalf("%s = %#v, want a match for %s", path, got, tc.match)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s = %#v, want %#v", path, got, tc.want)
			}
		})
	}
}

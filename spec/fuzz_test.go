package spec

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeeds cover every parser state and resolver path; they run as part
// of the normal tests.
var fuzzSeeds = []string{
	"", "plain", "$", "${", "${}", "}", "$${", "\\${", "\\\\${self:service}", "\\\\\\${x}", "a\\$b", "$\\{",
	"${self:service}", "${self:}", "${self:custom.a}", "${self:custom.b}", "${self:custom}", "${self:custom.a.0}",
	"${opt:stage}", "${opt:}", "${opt:stage, 'dev'}", "${opt:x, opt:y, \"z\"}", "${env:HOME, null}", "${env:X, true}",
	"${env:X, 1.5e3}", "${env:X, -0x10}", "${env:X, Infinity}", "${env:X,'a','b'}", "${env:X, 'unterminated}",
	"${env:X, \"esc\\\"aped\"}", "${env:X, \"bad\\q\"}", "${sls:stage}", "${sls:instanceId}", "${sls:}", "${param:p}",
	"${file(./x.yml)}", "${file(./x.yml):a.b}", "${file()}", "${file(,)}", "${file(1)}", "${file('q')}", "${file(\"q\"):k}",
	"${file(${opt:f}):${opt:k}}", "${strToBool(true)}", "${strToBool(maybe)}", "${strToBool()}", "${foo:bar}", "${ssm:/a}",
	"${AWS::Region}", "${AWS::${self:service}}", "#{AWS::AccountId}", "${stage}", "${ self:service }", "${Self:x}",
	"${self:custom.${opt:stage, 'a'}}", "${self:${self:custom.k}}", "${self:a${self:b}c}", "${self:'quoted'}", "${self:\"q\"}",
	"${self:a, }", "${self:a,,}", "${self:a:b}", "${x(a)(b)}", "${x(a):b:c}", "${x(a) b}", "${x('a' b)}", "${x(\"a\" b)}",
	"${x(${y:z}, ${w:v})}", "${x(${y:z}}", "${x:${y:${z:${w:v}}}}", "pre ${self:service} mid ${opt:o, 1} post",
	"${${self:service}}", "${a${b}}", "${$}", "${$$}", "${{}}", "${a:{}}", "${a-b:c}", "${a.b:c}", "${A:b}", "${1:b}",
	"${'x'}", "${1}", "${true}", "${env:A, ${env:B}}", "${env:A, @}", "${env:A, 'x' y}", "${env:A, x y}",
	"\u00e9${self:service}\u00e9", "${self:service}\x00", "${self:\u2028}",
}

func FuzzResolve(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	dir := f.TempDir()
	abs := filepath.Join(dir, "serverless.yml")
	f.Fuzz(func(t *testing.T, s string) { fuzzOne(t, abs, s) })
}

// fuzzOne parses s as a variable expression, then loads a configuration
// that uses s in several places: nothing may panic, and a failure must be
// spec.Errors with a message and a file.
func fuzzOne(t *testing.T, abs, s string) {
	{
		refs, perr := parseVariables(s)
		if perr == nil {
			checkRefs(t, s, refs)
		}
		q, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
		yml := "service: svc\nprovider:\n  name: aws\n  stage: " + string(q) + "\ncustom:\n  k: a\n  a: " + string(q) +
			"\n  b: ${self:custom.a}\n  c: x-" + strings.ReplaceAll(string(q), "\n", " ") + "\n  " + "d: [" + string(q) + "]\nfunctions:\n  f: {handler: h.h, description: " + string(q) + "}\n"
		for _, forPrint := range []bool{false, true} {
			l, err := load("serverless.yml", abs, []byte(yml), Options{
				Stage: "", Opts: map[string]string{"f": "./x.yml", "k": "a"}, Params: map[string]string{"p": "v"},
				Env: mapEnv(map[string]string{"A": "${env:A}", "B": "b", "X": "${self:custom}"}),
			}, forPrint)
			if err != nil {
				var es Errors
				if !errors.As(err, &es) || len(es) == 0 {
					t.Fatalf("Load returned %T %v, want spec.Errors", err, err)
				}
				for _, e := range es {
					if e.Msg == "" || e.File == "" {
						t.Fatalf("error without message or file: %#v", e)
					}
				}
				continue
			}
			if _, err := l.JSON(); err != nil {
				t.Fatal(err)
			}
			if _, err := l.YAML(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func checkRefs(t *testing.T, s string, refs []*varRef) {
	t.Helper()
	for _, r := range refs {
		if !r.whole && (r.start < 0 || r.end > len(s) || r.start > r.end) {
			t.Fatalf("variable %d..%d out of %q", r.start, r.end, s)
		}
		for _, src := range r.sources {
			if src == nil {
				t.Fatalf("nil source in %q", s)
			}
			for _, p := range src.params {
				if p == nil || p.val == nil {
					t.Fatalf("nil param in %q", s)
				}
			}
			if src.typ == "" && src.literal == nil {
				t.Fatalf("literal without value in %q", s)
			}
		}
	}
}

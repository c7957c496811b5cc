package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// corpusDir holds real serverless.yml files from public repositories; see
// testdata/corpus/SOURCES.md for where each comes from and its licence.
var corpusDir = filepath.Join("testdata", "corpus")

// TestFrameworkParity compares Loaded.JSON with `serverless print --format
// json` output recorded from Framework 3.40.0 (see testdata/framework/README.md).
// The print-* files hold what the Framework prints but asyncfn cannot
// deploy: LoadForPrint reads them (each with problems in DeployErrors), and
// Load refuses them.
func TestFrameworkParity(t *testing.T) {
	cases := []struct {
		record string
		config string
		opts   Options
	}{
		{"aws-lambda-destinations", filepath.Join(corpusDir, "aws-lambda-destinations.yml"), Options{}},
		{"aws-sns-destinations", filepath.Join(corpusDir, "aws-sns-destinations.yml"), Options{}},
		{"aws-recursive-function", filepath.Join(corpusDir, "aws-recursive-function.yml"), Options{}},
		{"tencent-framework-project", filepath.Join(corpusDir, "tencent-framework-project.yml"), Options{}},
		{"parity-vars", filepath.Join("testdata", "parity", "vars", "serverless.yml"), Options{
			Stage: "prod", Params: map[string]string{"owner": "ops"},
			Env: mapEnv(map[string]string{"ASYNCFN_USER": "ada", "ASYNCFN_DEBUG": "yes"}),
		}},
		{"parity-files", filepath.Join("testdata", "parity", "files", "serverless.yml"), Options{}},
		{"parity-files-prod", filepath.Join("testdata", "parity", "files", "serverless.yml"), Options{Stage: "prod"}},
		{"parity-tags", filepath.Join("testdata", "parity", "tags", "serverless.yml"), Options{}},
		{"print-aws", filepath.Join("testdata", "parity", "print-aws", "serverless.yml"), Options{}},
		{"print-tencent", filepath.Join("testdata", "parity", "print-tencent", "serverless.yml"), Options{}},
		{"print-functions-list", filepath.Join("testdata", "parity", "print-functions-list", "serverless.yml"), Options{}},
		{"print-other-provider", filepath.Join("testdata", "parity", "print-other-provider", "serverless.yml"), Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.record, func(t *testing.T) {
			if tc.opts.Env == nil {
				tc.opts.Env = mapEnv(nil) // the recordings ran without these variables
			}
			var l *Loaded
			var err error
			if strings.HasPrefix(tc.record, "print-") {
				if _, err := Load(tc.config, tc.opts); err == nil {
					t.Error("Load accepts a file asyncfn cannot deploy")
				}
				if l, err = LoadForPrint(tc.config, tc.opts); err == nil && len(l.DeployErrors) == 0 {
					t.Error("LoadForPrint: no DeployErrors")
				}
			} else {
				l, err = Load(tc.config, tc.opts)
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			raw, err := os.ReadFile(filepath.Join("testdata", "framework", tc.record+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			got := any(docJSON(t, l))
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("Loaded.JSON differs from the Framework's print\n got: %s\nwant: %s", gb, raw)
			}
		})
	}
}

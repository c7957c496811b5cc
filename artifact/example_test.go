package artifact

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestExampleServicePackage builds the repository's example service with its
// own package.patterns: exactly the handlers of example/ go in, with nothing
// of the AWS sub-service, the docs or the rest of the repository.
func TestExampleServicePackage(t *testing.T) {
	cases := []struct {
		file, root string
		want       []string
	}{
		{"../serverless.yml.example", "..", []string{"example/cos.js", "example/fail.js", "example/report.py", "example/transcode.js"}},
		{"../example/aws/serverless.yml", "../example/aws", []string{"handler.js"}},
	}
	for _, c := range cases {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Package struct {
				Patterns []string `yaml:"patterns"`
			} `yaml:"package"`
			Functions map[string]struct {
				Handler string `yaml:"handler"`
			} `yaml:"functions"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		data, _, err := Build(c.root, doc.Package.Patterns)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := zipNames(t, data); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s packages %q, want %q", c.file, got, c.want)
		}
		// Every handler's file is in the zip.
		for name, fn := range doc.Functions {
			file := fn.Handler[:len(fn.Handler)-len(filepath.Ext(fn.Handler))]
			found := false
			for _, w := range c.want {
				if w == file+".js" || w == file+".py" {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: function %s: handler %s has no file in the package", c.file, name, fn.Handler)
			}
		}
	}
}

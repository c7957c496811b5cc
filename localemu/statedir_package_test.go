package localemu

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/asyncfn/asyncfn/artifact"
)

// A state directory inside the service (asyncfn dev --state-dir state) is
// recognised by the packager from what the engine keeps in it, running or
// stopped, so no deploy packages the emulator's database and code.
func TestStateDirInsideTheServiceIsNeverPackaged(t *testing.T) {
	svc := t.TempDir()
	if err := os.WriteFile(filepath.Join(svc, "index.js"), []byte("exports.ok = async () => 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(svc, "state")
	e := newEngine(t, state, Options{})
	deploy(t, e, "fn", "ok", nil) // extracts the code under state/
	names := func() []string {
		t.Helper()
		data, _, err := artifact.Build(svc, nil)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range zr.File {
			out = append(out, f.Name)
		}
		return out
	}
	if !artifact.IsStateDir(state) {
		t.Fatalf("artifact.IsStateDir does not recognise the engine's state directory")
	}
	if got := names(); !reflect.DeepEqual(got, []string{"index.js"}) {
		t.Errorf("running emulator: packaged %q, want only index.js", got)
	}
	closeEngine(t, e)
	if got := names(); !reflect.DeepEqual(got, []string{"index.js"}) {
		t.Errorf("stopped emulator: packaged %q, want only index.js", got)
	}
}

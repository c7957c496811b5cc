package conformance

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/asyncfn/asyncfn/spec"
)

// A service whose function needs a binary and a module from two layers of
// its own (top-level layers:), for the adapters' layer tests: tools puts
// bin/greet on PATH, libs the Node.js module greetmod on NODE_PATH.

// LayeredService writes the service's layers into a temporary directory and
// returns the service (provider aws), its function and the function's code.
func LayeredService(t testing.TB) (*spec.Service, spec.Function, []byte) {
	t.Helper()
	dir := t.TempDir()
	for rel, f := range map[string]struct {
		body string
		mode os.FileMode
	}{
		"layers/tools/bin/greet":                            {"#!/bin/sh\necho hi from a layer binary\n", 0o755},
		"layers/libs/nodejs/node_modules/greetmod/index.js": {"module.exports = () => 'hi from a layer module';\n", 0o644},
	} {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	svc := &spec.Service{Name: "heavy", Stage: "dev", Region: "eu-west-1", Provider: spec.Provider{Name: "aws"}, Dir: dir,
		Layers: []spec.Layer{{Key: "tools", Name: "tools", Path: "layers/tools", LogicalID: "ToolsLambdaLayer"},
			{Key: "libs", Name: "heavy-libs", Path: "layers/libs", LogicalID: "LibsLambdaLayer"}}}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.js")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`const { execFileSync } = require('child_process');
const greet = require('greetmod');
exports.main = async () => ({ bin: execFileSync('greet').toString().trim(), mod: greet() });`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	fn := spec.Function{Name: "layered", DeployedName: "heavy-dev-layered", Handler: "index.main", Runtime: "nodejs22.x", MemorySize: 256, Timeout: 30,
		Layers: []spec.LayerUse{{Key: "tools"}, {Key: "libs"}}}
	return svc, fn, buf.Bytes()
}

// CheckLayered fails the test unless result is what LayeredService's
// function answers when it sees both layers.
func CheckLayered(t testing.TB, result []byte) {
	t.Helper()
	var got struct{ Bin, Mod string }
	if err := json.Unmarshal(result, &got); err != nil || got.Bin != "hi from a layer binary" || got.Mod != "hi from a layer module" {
		t.Fatalf("the handler saw %s", result)
	}
}

package local_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/spec"
)

// Through the native API (--local), a function needing a binary and a
// module from two layers of its service runs; the layers are published
// once and bound in order.
func TestDeployWithLayersOnTheNativeAPI(t *testing.T) {
	conformance.NeedNode(t)
	ctx := context.Background()
	dir := t.TempDir()
	write := func(rel, body string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("layers/tools/bin/greet", "#!/bin/sh\necho hi from a layer binary\n", 0o755)
	write("layers/libs/nodejs/node_modules/greetmod/index.js", "module.exports = () => 'hi from a layer module';\n", 0o644)
	svc := &spec.Service{Name: "heavy", Stage: "dev", Region: "eu-west-1", Provider: spec.Provider{Name: "aws"}, Dir: dir,
		Layers: []spec.Layer{{Key: "tools", Name: "tools", Path: "layers/tools"}, {Key: "libs", Name: "libs", Path: "layers/libs"}}}
	url := conformance.StartEmulator(t)
	p, err := local.New(url, svc)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("index.js")
	w.Write([]byte(`const { execFileSync } = require('child_process');
const greet = require('greetmod');
exports.main = async () => ({ bin: execFileSync('greet').toString().trim(), mod: greet() });`))
	zw.Close()
	fn := spec.Function{Name: "layered", DeployedName: "heavy-dev-layered", Handler: "index.main", Runtime: "nodejs22.x", MemorySize: 256, Timeout: 30,
		Layers: []spec.LayerUse{{Key: "tools"}, {Key: "libs"}}}
	for range 2 { // the second deploy finds both layers unchanged
		if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()}); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := p.Invoke(ctx, "heavy-dev-layered", nil, adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Bin, Mod string }
	json.Unmarshal(inv.Result, &got)
	if got.Bin != "hi from a layer binary" || got.Mod != "hi from a layer module" {
		t.Fatalf("the handler saw %s", inv.Result)
	}
	// Published once: a second version would mean the unchanged check failed.
	fn.Layers = []spec.LayerUse{{Name: "tools", Version: 2}}
	_, err = p.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("binding tools:2: %v", err)
	}
}

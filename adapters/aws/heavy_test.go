package aws_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/spec"
)

func heavyProvider(t *testing.T, svc *spec.Service) (adapters.Provider, *bytes.Buffer) {
	t.Helper()
	return providerAt(t, conformance.StartEmulator(t), svc)
}

func providerAt(t *testing.T, url string, svc *spec.Service) (adapters.Provider, *bytes.Buffer) {
	t.Helper()
	svc.Provider.Role = "arn:aws:iam::000000000000:role/heavy"
	var progress bytes.Buffer
	p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: url, Progress: &progress, Getenv: conformance.NoEnv, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p, &progress
}

// A 60 MB incompressible package is over Lambda's inline limit: deploy
// uploads it to S3 (asyncfn's own bucket) and creates the function from
// there, and the function runs.
func TestDeployLargePackageThroughS3(t *testing.T) {
	conformance.NeedNode(t)
	ctx := context.Background()
	svc := &spec.Service{Name: "heavy", Stage: "dev", Region: "eu-west-1", Provider: spec.Provider{Name: "aws"}, Dir: t.TempDir()}
	p, progress := heavyProvider(t, svc)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "model.bin", Method: zip.Store})
	blob := make([]byte, 60<<20)
	rand.Read(blob)
	w.Write(blob)
	w, _ = zw.Create("index.js")
	w.Write([]byte(`exports.main = async () => ({ size: require('fs').statSync(__dirname + '/model.bin').size });`))
	zw.Close()

	fn := spec.Function{Name: "big", DeployedName: "heavy-dev-big", Handler: "index.main", Runtime: "nodejs22.x", MemorySize: 256, Timeout: 30}
	dep, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()})
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, progress)
	}
	const bucket = "asyncfn-deployments-eu-west-1-000000000000"
	if !strings.HasPrefix(dep.CodeObject, "s3://"+bucket+"/asyncfn/heavy/dev/function/heavy-dev-big/") {
		t.Fatalf("code object = %q", dep.CodeObject)
	}
	for _, want := range []string{"created deployment bucket " + bucket, "over Lambda's inline limit", "uploading s3://"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	inv, err := p.Invoke(ctx, "heavy-dev-big", nil, adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Size int }
	json.Unmarshal(inv.Result, &res)
	if res.Size != 60<<20 {
		t.Fatalf("the function saw %s (%+v)", inv.Result, inv)
	}
	// Deploying the same package again uploads nothing.
	progress.Reset()
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "is already uploaded") {
		t.Errorf("second deploy:\n%s", progress)
	}
}

// Top-level layers are packaged and published by deploy, and a function
// that needs a binary and a module from two of them runs; an unchanged
// layer is not published again.
func TestDeployWithLayers(t *testing.T) {
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
		Layers: []spec.Layer{{Key: "tools", Name: "tools", Path: "layers/tools", LogicalID: "ToolsLambdaLayer"},
			{Key: "libs", Name: "heavy-libs", Path: "layers/libs", LogicalID: "LibsLambdaLayer"}}}
	url := conformance.StartEmulator(t)
	p, progress := providerAt(t, url, svc)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("index.js")
	w.Write([]byte(`const { execFileSync } = require('child_process');
const greet = require('greetmod');
exports.main = async () => ({ bin: execFileSync('greet').toString().trim(), mod: greet() });`))
	zw.Close()
	fn := spec.Function{Name: "layered", DeployedName: "heavy-dev-layered", Handler: "index.main", Runtime: "nodejs22.x", MemorySize: 256, Timeout: 30,
		Layers: []spec.LayerUse{{Key: "tools"}, {Key: "libs"}}}
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()}); err != nil {
		t.Fatalf("deploy: %v\n%s", err, progress)
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
	if !strings.Contains(progress.String(), "published arn:aws:lambda:eu-west-1:000000000000:layer:heavy-libs:1") {
		t.Errorf("progress:\n%s", progress)
	}
	// A new provider (a new deploy) finds the layers unchanged.
	p2, progress2 := providerAt(t, url, svc)
	if _, err := p2.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress2.String(), "layer heavy-libs is unchanged (version 1)") || strings.Contains(progress2.String(), "publishing") {
		t.Errorf("second deploy:\n%s", progress2)
	}
}

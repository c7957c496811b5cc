package tencent_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/adapters/tencent"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/asyncfntest"
	"github.com/asyncfn/asyncfn/spec"
)

// syncBuffer is a progress writer the test reads while deploys write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// A 60 MB incompressible package — three times SCF's inline limit — deploys
// through the adapter by COS reference (the emulator's COS front, the real
// cos-go-sdk-v5 upload helper, multipart) and runs; its handler needs a
// binary and a module from two layers the same deploy publishes from
// serverless.yml's top-level layers; a second deploy of the same content
// uploads and publishes nothing.
func TestLargePackageByCOSWithLayers(t *testing.T) {
	conformance.NeedNode(t)
	const id, key = "AKIDheavy", "heavy-secret"
	emu := asyncfntest.Start(t, asyncfntest.WithCredentials(id, key))
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"src/index.js": `const { execFileSync } = require('child_process');
const fs = require('fs');
const shout = require('shout');
exports.main_handler = async () => ({
  bin: execFileSync('greet').toString().trim(),
  mod: shout('layers'),
  blob: fs.statSync(__dirname + '/blob.bin').size,
});
`,
		"layers/tools/bin/greet*":                        "#!/bin/sh\necho hello from the tools layer\n",
		"layers/mods/nodejs/node_modules/shout/index.js": "module.exports = s => s.toUpperCase() + '!';\n",
	})
	blob := make([]byte, 60<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	zip, info, err := artifact.Build(filepath.Join(dir, "src"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size < 60<<20 {
		t.Fatalf("the package is %d bytes, want at least 60 MiB", info.Size)
	}
	fn := spec.Function{Name: "heavy", DeployedName: "heavy-dev-heavy", Handler: "index.main_handler", Runtime: "Nodejs16.13",
		MemorySize: 256, Timeout: 30, Layers: []spec.LayerUse{{Key: "tools"}, {Key: "mods"}}}
	svc := &spec.Service{Name: "heavy", Region: "ap-guangzhou", Dir: dir, Provider: spec.Provider{Name: "tencent"},
		Layers:    []spec.Layer{{Key: "tools", Path: "layers/tools"}, {Key: "mods", Path: "layers/mods", CompatibleRuntimes: []string{"Nodejs16.13"}}},
		Functions: []spec.Function{fn}}
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"TENCENTCLOUD_SECRET_ID": id, "TENCENTCLOUD_SECRET_KEY": key}[k]
		return v, ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	deploy := func() string {
		t.Helper()
		progress := &syncBuffer{}
		p, err := tencent.New(svc, tencent.Options{Endpoint: emu.URL, Getenv: env, Progress: progress})
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256})
		if err != nil {
			t.Fatalf("deploy: %v\nprogress:\n%s", err, progress)
		}
		if d.State != "Active" {
			t.Fatalf("deploy: %+v", d)
		}
		inv, err := p.Invoke(ctx, fn.DeployedName, []byte(`{}`), adapters.InvokeOptions{})
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		var got struct {
			Bin, Mod string
			Blob     int
		}
		if err := json.Unmarshal(inv.Result, &got); err != nil || got.Bin != "hello from the tools layer" || got.Mod != "LAYERS!" || got.Blob != len(blob) {
			t.Fatalf("the function answered %s (%v)", inv.Result, err)
		}
		return progress.String()
	}

	start := time.Now()
	out := deploy()
	t.Logf("first deploy (60 MiB by COS, two layers published) and invoke: %v\n%s", time.Since(start).Round(time.Millisecond), out)
	bucket := "asyncfn-deploy-ap-guangzhou-1250000000"
	for _, want := range []string{
		"created the COS deployment bucket " + bucket,
		"uploading 6", // "uploading 60.x MB package to cos://..."
		"cos://" + bucket + "/asyncfn/heavy/heavy-dev-heavy/" + info.SHA256 + ".zip",
		"(100%)",
		"layer tools: version 1 published",
		"layer mods: version 1 published",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first deploy's progress lacks %q:\n%s", want, out)
		}
	}
	out = deploy()
	for _, want := range []string{"package unchanged in cos://", "layer tools: unchanged, using version 1", "layer mods: unchanged, using version 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("second deploy's progress lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "uploading") || strings.Contains(out, "published") {
		t.Errorf("the second deploy uploaded or published again:\n%s", out)
	}
}

// A package under the inline limit goes inline (no COS, no appid lookup); a
// layers: entry with an AWS ARN is refused with what SCF takes.
func TestSmallPackageInlineAndARNRefused(t *testing.T) {
	conformance.NeedNode(t)
	emu := asyncfntest.Start(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.js": "exports.main_handler = async () => 'ok';\n"})
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := spec.Function{Name: "small", DeployedName: "small-fn", Handler: "index.main_handler", Runtime: "Nodejs16.13", MemorySize: 128, Timeout: 3}
	svc := &spec.Service{Name: "s", Region: "ap-guangzhou", Dir: dir, Provider: spec.Provider{Name: "tencent"}, Functions: []spec.Function{fn}}
	progress := &syncBuffer{}
	p, err := tencent.New(svc, tencent.Options{Endpoint: emu.URL, Getenv: conformance.NoEnv, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(progress.String(), "cos://") {
		t.Errorf("a small package went through COS:\n%s", progress)
	}
	fn.Layers = []spec.LayerUse{{ARN: "arn:aws:lambda:us-east-1:123456789012:layer:x:1"}}
	_, err = p.Deploy(ctx, fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256})
	if err == nil || !strings.Contains(err.Error(), "{name: NAME, version: N}") {
		t.Errorf("an ARN layer: %v", err)
	}
	fn.Layers = []spec.LayerUse{{Name: "never-published", Version: 1}}
	_, err = p.Deploy(ctx, fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256})
	var apiErr *adapters.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "ResourceNotFound.LayerVersion" {
		t.Errorf("an unknown layer version: %v, want ResourceNotFound.LayerVersion", err)
	}
}

// storedZip is a zip of files stored without compression (quick to build
// for size tests).
func storedZip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The bucket serverless.yml names (provider.deploymentBucket, here with its
// appid) takes the package; a name that is not a COS bucket name is refused
// naming the key. 16 MiB is just over the inline limit (15 MiB of zip).
func TestConfiguredDeploymentBucket(t *testing.T) {
	conformance.NeedNode(t)
	emu := asyncfntest.Start(t)
	blob := make([]byte, 16<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	zipped := storedZip(t, map[string][]byte{"index.js": []byte("exports.main_handler = async () => 'big ok';\n"), "blob.bin": blob})
	sum := sha256.Sum256(zipped)
	code := adapters.Artifact{Zip: zipped, SHA256: hex.EncodeToString(sum[:])}
	fn := spec.Function{Name: "mid", DeployedName: "mid-fn", Handler: "index.main_handler", Runtime: "Nodejs16.13", MemorySize: 128, Timeout: 10}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	deploy := func(bucket string) (string, error) {
		svc := &spec.Service{Name: "s", Region: "ap-shanghai", Dir: t.TempDir(), Provider: spec.Provider{Name: "tencent", DeploymentBucket: bucket}, Functions: []spec.Function{fn}}
		progress := &syncBuffer{}
		p, err := tencent.New(svc, tencent.Options{Endpoint: emu.URL, Getenv: conformance.NoEnv, Progress: progress})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Deploy(ctx, fn, code); err != nil {
			return progress.String(), err
		}
		inv, err := p.Invoke(ctx, fn.DeployedName, []byte(`{}`), adapters.InvokeOptions{})
		if err != nil || string(inv.Result) != `"big ok"` {
			t.Fatalf("invoke: %+v %v", inv, err)
		}
		return progress.String(), nil
	}
	out, err := deploy("team-packages-1250000000")
	if err != nil {
		t.Fatalf("deploy into the configured bucket: %v\n%s", err, out)
	}
	if !strings.Contains(out, "created the COS deployment bucket team-packages-1250000000 in ap-shanghai") ||
		!strings.Contains(out, "cos://team-packages-1250000000/asyncfn/s/mid-fn/") {
		t.Errorf("progress:\n%s", out)
	}
	_, err = deploy("Team_Packages")
	if err == nil || !strings.Contains(err.Error(), "provider.deploymentBucket") {
		t.Errorf("an invalid bucket name: %v", err)
	}
}

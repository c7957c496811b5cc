package localemu

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/asyncfn/asyncfn/event"
)

// zipOf builds a zip of files (name → content; a name ending in "*" is
// executable, the star dropped).
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		mode := os.FileMode(0o644)
		if name[len(name)-1] == '*' {
			name, mode = name[:len(name)-1], 0o755
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// layeredHandler needs a program from one layer (on PATH from bin) and a
// module from another (on NODE_PATH from nodejs/node_modules), and reads a
// file both layers have: the later layer's wins.
const layeredHandler = `
const { execFileSync } = require('child_process');
const fs = require('fs');
const greet = require('greetmod');
exports.main = async () => ({
  bin: execFileSync('greet').toString().trim(),
  mod: greet(),
  shared: fs.readFileSync(process.env.ASYNCFN_OPT_DIR + '/shared.txt', 'utf8'),
});
`

func publishTwoLayers(t *testing.T, e *Engine) (LayerVersion, LayerVersion) {
	t.Helper()
	ctx := context.Background()
	tools, err := e.PublishLayerVersion(ctx, LayerSpec{Name: "tools", CompatibleRuntimes: []string{"nodejs22.x"},
		Code: Code{Zip: zipOf(t, map[string]string{"bin/greet*": "#!/bin/sh\necho hello from a layer binary\n", "shared.txt": "tools"})}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CreateBucket(ctx, "layer-src"); err != nil {
		t.Fatal(err)
	}
	z := zipOf(t, map[string]string{"nodejs/node_modules/greetmod/index.js": "module.exports = () => 'hello from a layer module';", "shared.txt": "libs"})
	if _, err := e.PutObject(ctx, "layer-src", "libs.zip", bytes.NewReader(z), int64(len(z)), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	libs, err := e.PublishLayerVersion(ctx, LayerSpec{Name: "libs", Code: Code{Object: &ObjectRef{Bucket: "layer-src", Key: "libs.zip"}}})
	if err != nil {
		t.Fatal(err)
	}
	if tools.Version != 1 || libs.Version != 1 || libs.CodeSize != int64(len(z)) || libs.UnzippedSize == 0 {
		t.Fatalf("published %+v, %+v", tools, libs)
	}
	return tools, libs
}

func TestFunctionSeesItsLayers(t *testing.T) {
	needNode(t)
	ctx := context.Background()
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	tools, libs := publishTwoLayers(t, e)
	cfg := FunctionConfig{Name: "layered", Provider: "aws", Runtime: "nodejs22.x", Handler: "index.main", Timeout: 30,
		Layers: []LayerRef{{Name: tools.Name, Version: tools.Version}, {Name: libs.Name, Version: libs.Version}}}
	f, err := e.Deploy(ctx, cfg, zipOf(t, map[string]string{"index.js": layeredHandler}))
	if err != nil {
		t.Fatal(err)
	}
	if f.LayersSHA256 == "" {
		t.Fatal("the function version does not record its layers")
	}
	ev, err := e.Invoke(ctx, InvokeRequest{Function: "layered"})
	if err != nil || ev.Status != event.Succeeded {
		t.Fatalf("invoke = %+v, %v\n%s", ev, err, logText(t, e, ev.RequestID))
	}
	var got map[string]string
	if err := json.Unmarshal(ev.Result, &got); err != nil {
		t.Fatal(err)
	}
	if got["bin"] != "hello from a layer binary" || got["mod"] != "hello from a layer module" || got["shared"] != "libs" {
		t.Fatalf("the handler saw %v", got)
	}
	// A layer version deleted after the deploy stays with the function.
	if err := e.DeleteLayerVersion(ctx, "libs", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.LayerVersion(ctx, "libs", 1); !errors.Is(err, ErrLayerNotFound) || KindOf(err) != KindNotFound {
		t.Fatalf("deleted layer: %v", err)
	}
	e.collectCode()
	if _, err := os.Stat(e.optDir(f.LayersSHA256)); err != nil {
		t.Fatalf("the function's layers were collected: %v", err)
	}
	// Versions are never reused.
	again, err := e.PublishLayerVersion(ctx, LayerSpec{Name: "libs", Code: Code{Zip: zipOf(t, map[string]string{"x": "y"})}})
	if err != nil || again.Version != 2 {
		t.Fatalf("republished = %+v, %v", again, err)
	}
}

func TestLayerAndCodeLimits(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	small := zipOf(t, map[string]string{"index.js": "exports.main = async () => 1;"})
	l, err := e.PublishLayerVersion(ctx, LayerSpec{Name: "one", Code: Code{Zip: small}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := FunctionConfig{Name: "lim", Provider: "aws", Runtime: "nodejs22.x", Handler: "index.main"}
	six := make([]LayerRef, 6)
	for i := range six {
		six[i] = LayerRef{Name: l.Name, Version: l.Version}
	}
	cfg.Layers = six
	var invalid *InvalidParameterError
	if _, err := e.Deploy(ctx, cfg, small); !errors.As(err, &invalid) {
		t.Fatalf("six layers: %v", err)
	}
	cfg.Layers = []LayerRef{{Name: "one", Version: 9}}
	if _, err := e.Deploy(ctx, cfg, small); !errors.Is(err, ErrLayerNotFound) {
		t.Fatalf("unknown layer version: %v", err)
	}
	cfg.Layers = nil
	if _, err := e.DeployCode(ctx, cfg, Code{Object: &ObjectRef{Bucket: "no-bucket", Key: "k"}}); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("code from a missing bucket: %v", err)
	}
	if _, err := e.PublishLayerVersion(ctx, LayerSpec{Name: "bad/name", Code: Code{Zip: small}}); !errors.As(err, &invalid) {
		t.Fatalf("bad layer name: %v", err)
	}

	// 251 MiB of zeros: a small zip, over Lambda's 250 MiB unzipped.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("zeros.bin")
	chunk := make([]byte, 1<<20)
	for range 251 {
		w.Write(chunk)
	}
	zw.Close()
	var tooBig *CodeTooLargeError
	if _, err := e.Deploy(ctx, cfg, buf.Bytes()); !errors.As(err, &tooBig) || !tooBig.Unzipped || KindOf(err) != KindInvalid {
		t.Fatalf("251 MiB unzipped: %v", err)
	}
	if tooBig.Error() != "Unzipped size must be smaller than 262144000 bytes" {
		t.Fatalf("message = %q", tooBig.Error())
	}
	// On SCF (500 MB) the same package is fine.
	cfg.Provider, cfg.Name, cfg.Runtime = "tencent", "scf-fn", "Nodejs16.13"
	if _, err := e.Deploy(ctx, cfg, buf.Bytes()); err != nil {
		t.Fatalf("251 MiB on SCF: %v", err)
	}
	// The code and a layer together count.
	half := bytes.Buffer{}
	zw = zip.NewWriter(&half)
	w, _ = zw.Create("half.bin")
	for range 130 {
		w.Write(chunk)
	}
	zw.Close()
	hl, err := e.PublishLayerVersion(ctx, LayerSpec{Name: "half", Code: Code{Zip: half.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	cfg = FunctionConfig{Name: "sum", Provider: "aws", Runtime: "nodejs22.x", Handler: "index.main", Layers: []LayerRef{{Name: "half", Version: hl.Version}}}
	if _, err := e.Deploy(ctx, cfg, half.Bytes()); !errors.As(err, &tooBig) {
		t.Fatalf("130 + 130 MiB: %v", err)
	}
	if err := CheckInlineZip("aws", 50<<20+1); KindOf(err) != KindTooLarge {
		t.Fatalf("inline over 50 MiB: %v", err)
	}
	if err := CheckInlineZip("tencent", 20<<20+1); KindOf(err) != KindTooLarge {
		t.Fatalf("inline over 20 MiB on SCF: %v", err)
	}
}

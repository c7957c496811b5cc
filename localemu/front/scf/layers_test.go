package scf

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front/cos"
)

// layerServer is the SCF front over a fresh engine, the engine, and an SDK
// client.
func layerServer(t *testing.T) (*scf.Client, *localemu.Engine) {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, nil, e.Logger()))
	return sdkClient(t, url, "any", "any"), e
}

// zipTree writes files (path → content; a path ending in "*" is
// executable) under a directory and zips it as deploy does.
func zipTree(t *testing.T, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	z, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func publishLayer(t *testing.T, c *scf.Client, name string, z []byte) int64 {
	t.Helper()
	req := scf.NewPublishLayerVersionRequest()
	req.LayerName, req.CompatibleRuntimes = ptr(name), []*string{ptr("Nodejs16.13")}
	req.Content = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(z))}
	resp, err := c.PublishLayerVersion(req)
	if err != nil {
		t.Fatalf("PublishLayerVersion %s: %v", name, err)
	}
	return *resp.Response.LayerVersion
}

// The handler needs a binary from one layer (on PATH through /opt/bin) and
// a module from another (/opt/nodejs/node_modules), as on SCF.
const layeredHandler = `const { execFileSync } = require('child_process');
const shout = require('shout');
exports.main_handler = async () => ({ bin: execFileSync('greet').toString().trim(), mod: shout('layers') });
`

func TestFunctionRunsWithTwoLayers(t *testing.T) {
	emutest.NeedNode(t)
	c, _ := layerServer(t)
	tools := publishLayer(t, c, "tools", zipTree(t, map[string]string{"bin/greet*": "#!/bin/sh\necho hello from the tools layer\n"}))
	mods := publishLayer(t, c, "mods", zipTree(t, map[string]string{"nodejs/node_modules/shout/index.js": "module.exports = s => s.toUpperCase() + '!';\n"}))
	if tools != 1 || mods != 1 {
		t.Fatalf("first versions are %d and %d, want 1", tools, mods)
	}
	// A second version of tools: versions count up per name.
	if v := publishLayer(t, c, "tools", zipTree(t, map[string]string{"bin/greet*": "#!/bin/sh\necho hello from the tools layer\n"})); v != 2 {
		t.Fatalf("second version of tools is %d, want 2", v)
	}

	req := scf.NewCreateFunctionRequest()
	req.FunctionName, req.Handler, req.Runtime = ptr("layered"), ptr("index.main_handler"), ptr("Nodejs16.13")
	req.Code = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(zipTree(t, map[string]string{"index.js": layeredHandler})))}
	req.Layers = []*scf.LayerVersionSimple{{LayerName: ptr("tools"), LayerVersion: ptr(int64(2))}, {LayerName: ptr("mods"), LayerVersion: ptr(int64(1))}}
	if _, err := c.CreateFunction(req); err != nil {
		t.Fatalf("CreateFunction with two layers: %v", err)
	}
	time.Sleep(settleTime + 50*time.Millisecond)
	r := invoke(t, c, "layered", "RequestResponse", "{}")
	res := r.Response.Result
	if res.InvokeResult == nil || *res.InvokeResult != 0 || res.RetMsg == nil {
		t.Fatalf("invoke: %+v (log %s)", res, str(res.Log))
	}
	if want := `{"bin":"hello from the tools layer","mod":"LAYERS!"}`; *res.RetMsg != want {
		t.Fatalf("RetMsg %s, want %s", *res.RetMsg, want)
	}

	get := scf.NewGetFunctionRequest()
	get.FunctionName = ptr("layered")
	gf, err := c.GetFunction(get)
	if err != nil {
		t.Fatal(err)
	}
	if len(gf.Response.Layers) != 2 || *gf.Response.Layers[0].LayerName != "tools" || *gf.Response.Layers[0].LayerVersion != 2 {
		t.Errorf("GetFunction Layers: %+v", gf.Response.Layers)
	}

	lv := scf.NewListLayerVersionsRequest()
	lv.LayerName = ptr("tools")
	vs, err := c.ListLayerVersions(lv)
	if err != nil || len(vs.Response.LayerVersions) != 2 || *vs.Response.LayerVersions[0].LayerVersion != 2 {
		t.Fatalf("ListLayerVersions: %v %+v", err, vs)
	}
	ll, err := c.ListLayers(scf.NewListLayersRequest())
	if err != nil || *ll.Response.TotalCount != 2 || *ll.Response.Layers[0].LayerName != "mods" || *ll.Response.Layers[1].LayerVersion != 2 {
		t.Fatalf("ListLayers: %v %+v", err, ll)
	}
	gl := scf.NewGetLayerVersionRequest()
	gl.LayerName, gl.LayerVersion = ptr("mods"), ptr(int64(1))
	g, err := c.GetLayerVersion(gl)
	if err != nil || len(str(g.Response.CodeSha256)) != 64 || str(g.Response.Status) != "Active" {
		t.Fatalf("GetLayerVersion: %v %+v", err, g)
	}
}

func TestLayerRefusals(t *testing.T) {
	c, _ := layerServer(t)
	code := base64.StdEncoding.EncodeToString(zipTree(t, map[string]string{"index.js": layeredHandler}))
	create := func(layers ...*scf.LayerVersionSimple) string {
		req := scf.NewCreateFunctionRequest()
		req.FunctionName, req.Handler, req.Runtime = ptr("fn-layers"), ptr("index.main_handler"), ptr("Nodejs16.13")
		req.Code, req.Layers = &scf.Code{ZipFile: ptr(code)}, layers
		_, err := c.CreateFunction(req)
		if err == nil {
			return ""
		}
		return sdkCode(t, err)
	}
	publishLayer(t, c, "tools", zipTree(t, map[string]string{"bin/x*": "#!/bin/sh\n"}))
	l := func(name string, v int64) *scf.LayerVersionSimple {
		return &scf.LayerVersionSimple{LayerName: ptr(name), LayerVersion: ptr(v)}
	}
	if got := create(l("tools", 2)); got != "ResourceNotFound.LayerVersion" {
		t.Errorf("unknown version: %s, want ResourceNotFound.LayerVersion", got)
	}
	if got := create(l("nope", 1)); got != "ResourceNotFound.LayerVersion" {
		t.Errorf("unknown layer: %s, want ResourceNotFound.LayerVersion", got)
	}
	six := []*scf.LayerVersionSimple{l("a", 1), l("b", 1), l("c", 1), l("d", 1), l("e", 1), l("f", 1)}
	if got := create(six...); got != "LimitExceeded.Layers" {
		t.Errorf("six layers: %s, want LimitExceeded.Layers", got)
	}
	if got := create(l("tools", 1), l("tools", 1)); got != "InvalidParameterValue.Layers" {
		t.Errorf("a layer twice: %s, want InvalidParameterValue.Layers", got)
	}

	gl := scf.NewGetLayerVersionRequest()
	gl.LayerName, gl.LayerVersion = ptr("nope"), ptr(int64(1))
	if _, err := c.GetLayerVersion(gl); sdkCode(t, err) != "ResourceNotFound.Layer" {
		t.Errorf("GetLayerVersion of an unknown layer: %v", err)
	}
	gl.LayerName, gl.LayerVersion = ptr("tools"), ptr(int64(9))
	if _, err := c.GetLayerVersion(gl); sdkCode(t, err) != "ResourceNotFound.LayerVersion" {
		t.Errorf("GetLayerVersion of an unknown version: %v", err)
	}

	pub := func(name string, runtimes []*string, content *scf.Code) string {
		req := scf.NewPublishLayerVersionRequest()
		req.LayerName, req.CompatibleRuntimes, req.Content = ptr(name), runtimes, content
		_, err := c.PublishLayerVersion(req)
		if err == nil {
			return ""
		}
		return sdkCode(t, err)
	}
	rt := []*string{ptr("Nodejs16.13")}
	zipped := &scf.Code{ZipFile: ptr(code)}
	for _, bad := range []string{"9start", "ends-", "has.dot", strings.Repeat("a", 65)} {
		if got := pub(bad, rt, zipped); got != "InvalidParameterValue.LayerName" {
			t.Errorf("LayerName %q: %s, want InvalidParameterValue.LayerName", bad, got)
		}
	}
	if got := pub("ok", nil, zipped); got != "InvalidParameterValue.CompatibleRuntimes" {
		t.Errorf("no CompatibleRuntimes: %s", got)
	}
	if got := pub("ok", rt, &scf.Code{CosBucketName: ptr("missing"), CosObjectName: ptr("/x.zip")}); got != "FailedOperation.Cos" {
		t.Errorf("layer from a missing COS object: %s, want FailedOperation.Cos", got)
	}
}

// A package above SCF's inline limit is refused as the cloud refuses it,
// and the same package by COS reference deploys and runs.
func TestInlineLimitAndCodeFromCOS(t *testing.T) {
	emutest.NeedNode(t)
	c, e := layerServer(t)
	ctx := context.Background()

	// 16 MiB of random bytes zipped stay ~16 MiB: base64 over 20 MiB.
	noise := make([]byte, 16<<20)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{"index.js": []byte(emutest.Handlers), "blob.bin": noise} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	big := buf.Bytes()

	req := scf.NewCreateFunctionRequest()
	req.FunctionName, req.Handler, req.Runtime = ptr("big"), ptr("index.ok"), ptr("Nodejs16.13")
	req.Code = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(big))}
	if _, err := c.CreateFunction(req); sdkCode(t, err) != "RequestSizeLimitExceeded" {
		t.Fatalf("inline zip of %d bytes: %v, want RequestSizeLimitExceeded", len(big), err)
	}

	bucket := "deploy-" + cos.DefaultAppID
	if err := e.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutObject(ctx, bucket, "pkg/big.zip", bytes.NewReader(big), int64(len(big)), localemu.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	req.Code = &scf.Code{CosBucketName: ptr("deploy"), CosObjectName: ptr("/pkg/missing.zip"), CosBucketRegion: ptr("ap-guangzhou")}
	if _, err := c.CreateFunction(req); sdkCode(t, err) != "FailedOperation.Cos" {
		t.Fatalf("code from a missing object: %v, want FailedOperation.Cos", err)
	}
	req.Code = &scf.Code{CosBucketName: ptr("deploy"), CosObjectName: ptr("/pkg/big.zip"), CosBucketRegion: ptr("ap-guangzhou")}
	if _, err := c.CreateFunction(req); err != nil {
		t.Fatalf("CreateFunction from COS: %v", err)
	}
	time.Sleep(settleTime + 50*time.Millisecond)
	r := invoke(t, c, "big", "RequestResponse", `{"x":1}`)
	if r.Response.Result.InvokeResult == nil || *r.Response.Result.InvokeResult != 0 {
		t.Fatalf("invoke of the function deployed from COS: %+v", r.Response.Result)
	}

	up := scf.NewUpdateFunctionCodeRequest()
	up.FunctionName, up.CosBucketName, up.CosObjectName = ptr("big"), ptr("deploy"), ptr("pkg/big.zip")
	if _, err := c.UpdateFunctionCode(up); err != nil {
		t.Fatalf("UpdateFunctionCode from COS: %v", err)
	}
	up = scf.NewUpdateFunctionCodeRequest()
	up.FunctionName, up.CosBucketName = ptr("big"), ptr("Not_A_Bucket")
	up.CosObjectName = ptr("x.zip")
	time.Sleep(settleTime + 50*time.Millisecond)
	if _, err := c.UpdateFunctionCode(up); sdkCode(t, err) != "InvalidParameterValue.CosBucketName" {
		t.Fatalf("bad CosBucketName: %v", err)
	}
}

// Code whose unzipped size with its layers passes 500 MB is refused.
func TestUnzippedLimitWithLayers(t *testing.T) {
	c, _ := layerServer(t)
	// A layer of 300 MiB of zeros and code of 250 MiB: each alone fits, together not.
	zeros := func(n int) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create("data/zeros.bin")
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 1<<20)
		for i := 0; i < n; i++ {
			w.Write(chunk)
		}
		w, _ = zw.Create("index.js")
		w.Write([]byte(emutest.Handlers))
		zw.Close()
		return buf.Bytes()
	}
	publishLayer(t, c, "heavy", zeros(300))
	req := scf.NewCreateFunctionRequest()
	req.FunctionName, req.Handler, req.Runtime = ptr("heavyfn"), ptr("index.ok"), ptr("Nodejs16.13")
	req.Code = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(zeros(250)))}
	req.Layers = []*scf.LayerVersionSimple{{LayerName: ptr("heavy"), LayerVersion: ptr(int64(1))}}
	if _, err := c.CreateFunction(req); sdkCode(t, err) != "InvalidParameterValue.Code" {
		t.Fatalf("550 MiB unzipped with the layer: %v, want InvalidParameterValue.Code", err)
	}
}

// UpdateFunctionConfiguration replaces the bound layers; an unknown
// version there is refused as at creation and changes nothing.
func TestUpdateConfigurationBindsLayers(t *testing.T) {
	c, _ := layerServer(t)
	publishLayer(t, c, "tools", zipTree(t, map[string]string{"bin/x*": "#!/bin/sh\n"}))
	req := scf.NewCreateFunctionRequest()
	req.FunctionName, req.Handler, req.Runtime = ptr("rebind"), ptr("index.main_handler"), ptr("Nodejs16.13")
	req.Code = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(zipTree(t, map[string]string{"index.js": layeredHandler})))}
	if _, err := c.CreateFunction(req); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settleTime + 50*time.Millisecond)
	layers := func() []string {
		get := scf.NewGetFunctionRequest()
		get.FunctionName = ptr("rebind")
		gf, err := c.GetFunction(get)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range gf.Response.Layers {
			out = append(out, *l.LayerName)
		}
		return out
	}
	if got := layers(); len(got) != 0 {
		t.Fatalf("layers before binding: %v", got)
	}
	up := scf.NewUpdateFunctionConfigurationRequest()
	up.FunctionName = ptr("rebind")
	up.Layers = []*scf.LayerVersionSimple{{LayerName: ptr("tools"), LayerVersion: ptr(int64(7))}}
	if _, err := c.UpdateFunctionConfiguration(up); sdkCode(t, err) != "ResourceNotFound.LayerVersion" {
		t.Fatalf("binding an unknown version: %v", err)
	}
	if got := layers(); len(got) != 0 {
		t.Fatalf("a refused update bound %v", got)
	}
	up.Layers[0].LayerVersion = ptr(int64(1))
	if _, err := c.UpdateFunctionConfiguration(up); err != nil {
		t.Fatalf("binding tools:1: %v", err)
	}
	if got := layers(); len(got) != 1 || got[0] != "tools" {
		t.Fatalf("layers after binding: %v", got)
	}
}

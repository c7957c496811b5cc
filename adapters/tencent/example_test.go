package tencent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cosv5 "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/adapters/tencent"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/asyncfntest"
	"github.com/asyncfn/asyncfn/spec"
)

// The repository's Tencent example, as a user deploys it to the emulator:
// serverless.yml.example loaded by spec, transcode packaged with its
// patterns, its media-tools layer published by deploy; the function reads
// its input from the emulator's COS (through ASYNCFN_COS_PROXY and the keys
// the emulator gives every Tencent function), probes it with the layer's
// binary, and writes its manifest back to COS, where the test reads it with
// cos-go-sdk-v5.
func TestExampleTranscodeReadsAndWritesCOS(t *testing.T) {
	conformance.NeedNode(t)
	const id, key = "AKIDexample", "example-secret"
	emu := asyncfntest.Start(t, asyncfntest.WithCredentials(id, key))
	env := map[string]string{"TENCENTCLOUD_SECRET_ID": id, "TENCENTCLOUD_SECRET_KEY": key}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := spec.Load(filepath.Join(root, "serverless.yml.example"), spec.Options{Env: getenv})
	if err != nil {
		t.Fatalf("load serverless.yml.example: %v", err)
	}
	svc := loaded.Service
	var fn spec.Function
	for _, f := range svc.Functions {
		if f.Name == "transcode" {
			fn = f
		}
	}
	if len(fn.Layers) != 1 || fn.Layers[0].Key != "media-tools" {
		t.Fatalf("transcode as loaded: layers %+v", fn.Layers)
	}
	patterns := append(append([]string(nil), fn.Package.Patterns...), "!serverless.yml.example")
	zip, info, err := artifact.Build(svc.Dir, patterns)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tencent.New(svc, tencent.Options{Endpoint: emu.URL, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256}); err != nil {
		t.Fatalf("deploy transcode: %v", err)
	}

	// The input, put with the real COS SDK addressed as the adapter does.
	bucket := "media-dev-1250000000"
	u, _ := url.Parse(emu.URL)
	c := cosv5.NewClient(&cosv5.BaseURL{BucketURL: u}, &http.Client{Transport: &cosv5.AuthorizationTransport{SecretID: id, SecretKey: key}})
	c.Host = bucket + ".cos." + svc.Region + ".myqcloud.com"
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		t.Fatal(err)
	}
	input := strings.Repeat("4k frame data ", 1000)
	if _, err := c.Object.Put(ctx, "in/clip.mov", strings.NewReader(input), nil); err != nil {
		t.Fatal(err)
	}

	inv, err := p.Invoke(ctx, fn.DeployedName, []byte(`{"source":"cos://`+bucket+`/in/clip.mov","frames":2,"delayMs":1}`), adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Output string
		Input  struct {
			Bytes  int
			SHA256 string
		}
	}
	if err := json.Unmarshal(inv.Result, &res); err != nil || res.Input.Bytes != len(input) || len(res.Input.SHA256) != 64 {
		t.Fatalf("transcode answered %s (%v)", inv.Result, err)
	}
	resp, err := c.Object.Get(ctx, "out/clip-1080p.json", nil)
	if err != nil {
		t.Fatalf("the manifest the function wrote: %v", err)
	}
	manifest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(manifest), `"source":"cos://`+bucket+`/in/clip.mov"`) || !strings.Contains(string(manifest), res.Input.SHA256) {
		t.Fatalf("manifest %s", manifest)
	}
}

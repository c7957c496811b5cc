package tencent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/adapters/tencent"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/spec"
)

// TestConformance runs the conformance suite through the tencent adapter
// (the official Go SDK), against the SCF API 3.0 front of an emulator
// started in this test, with no credentials in the environment: the adapter
// signs with placeholders, which an emulator without credentials accepts.
func TestConformance(t *testing.T) {
	conformance.NeedNode(t)
	conformance.Run(t, conformance.Tencent(conformance.StartEmulator(t)))
}

// TestConformanceSignedEmulator: against an emulator that verifies
// signatures, the adapter reads the Serverless Framework credentials file
// named by provider.credentials and signs with it; a wrong key is refused
// with the API's code and RequestId kept; a changed asyncRunEnable is
// refused with what to do.
func TestConformanceSignedEmulator(t *testing.T) {
	conformance.NeedNode(t)
	const id, key = "AKIDe2e", "e2e-secret"
	url := conformance.StartEmulator(t, conformance.WithCredentials(id, key))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte("exports.main_handler = async () => 'ok';\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, k string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("[default]\ntencent_appid = 1\ntencent_secret_id = "+id+"\ntencent_secret_key = "+k+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("good.ini", key)
	write("bad.ini", "wrong")
	fn := spec.Function{Name: "locked", DeployedName: "locked-fn", Handler: "index.main_handler", Runtime: "Nodejs16.13", MemorySize: 128, Timeout: 3600,
		Async: spec.Async{Enabled: true}}
	newProvider := func(creds string) *tencent.Provider {
		svc := &spec.Service{Name: "s", Region: "ap-shanghai", Dir: dir, Provider: spec.Provider{Name: "tencent", Credentials: creds}, Functions: []spec.Function{fn}}
		p, err := tencent.New(svc, tencent.Options{Endpoint: url, Getenv: conformance.NoEnv})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	zip, info, err := artifact.Build(dir, []string{"index.js"})
	if err != nil {
		t.Fatal(err)
	}
	code := adapters.Artifact{Zip: zip, SHA256: info.SHA256}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err = newProvider("bad.ini").Deploy(ctx, fn, code)
	var apiErr *adapters.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "AuthFailure.SignatureFailure" || apiErr.RequestID == "" {
		t.Fatalf("wrong key: %v, want AuthFailure.SignatureFailure with a RequestId", err)
	}
	p := newProvider("good.ini")
	d, err := p.Deploy(ctx, fn, code)
	if err != nil || !d.Created || d.State != "Active" {
		t.Fatalf("deploy: %+v, %v", d, err)
	}
	inv, err := p.Invoke(ctx, fn.DeployedName, []byte(`{}`), adapters.InvokeOptions{})
	if err != nil || string(inv.Result) != `"ok"` {
		t.Errorf("sync invoke: %+v, %v", inv, err)
	}
	fn.Async.Enabled = false
	fn.Timeout = 60
	_, err = p.Deploy(ctx, fn, code)
	if err == nil || !strings.Contains(err.Error(), "asyncfn remove -f locked") || !strings.Contains(err.Error(), "asyncRunEnable") {
		t.Errorf("changing asyncRunEnable: %v", err)
	}
}

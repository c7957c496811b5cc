package aws_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
	svc, fn, code := conformance.LayeredService(t)
	url := conformance.StartEmulator(t)
	p, progress := providerAt(t, url, svc)
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: code}); err != nil {
		t.Fatalf("deploy: %v\n%s", err, progress)
	}
	inv, err := p.Invoke(ctx, "heavy-dev-layered", nil, adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conformance.CheckLayered(t, inv.Result)
	if !strings.Contains(progress.String(), "published arn:aws:lambda:eu-west-1:000000000000:layer:heavy-libs:1") {
		t.Errorf("progress:\n%s", progress)
	}
	// A new provider (a new deploy) finds the layers unchanged.
	p2, progress2 := providerAt(t, url, svc)
	if _, err := p2.Deploy(ctx, fn, adapters.Artifact{Zip: code}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress2.String(), "layer heavy-libs is unchanged (version 1)") || strings.Contains(progress2.String(), "publishing") {
		t.Errorf("second deploy:\n%s", progress2)
	}
}

// A function's own code reaches the emulator's S3 with its SDK as it
// would reach S3 on Lambda: the emulator gives its functions
// AWS_ENDPOINT_URL_S3 and credentials it accepts (server.FunctionEnv).
func TestFunctionReachesTheEmulatorsS3(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 is not installed")
	}
	ctx := context.Background()
	url := conformance.StartEmulator(t)
	svc := &spec.Service{Name: "heavy", Stage: "dev", Region: "eu-west-1", Provider: spec.Provider{Name: "aws"}, Dir: t.TempDir()}
	p, progress := providerAt(t, url, svc)
	sc := s3.NewFromConfig(awssdk.Config{Region: "eu-west-1", Credentials: awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
		return awssdk.Credentials{AccessKeyID: "asyncfn-local", SecretAccessKey: "asyncfn-local"}, nil
	})}, func(o *s3.Options) {
		o.BaseEndpoint = awssdk.String(url)
		o.UsePathStyle = true
	})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("handler.py")
	w.Write([]byte(`import boto3
def main(event, context):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="media", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="media", Key="in/clip.txt", Body=b"frames")
    body = s3.get_object(Bucket="media", Key="in/clip.txt")["Body"].read()
    s3.put_object(Bucket="media", Key="out/clip.txt", Body=body.upper())
    return {"keys": [o["Key"] for o in s3.list_objects_v2(Bucket="media")["Contents"]]}
`))
	zw.Close()
	fn := spec.Function{Name: "transcode", DeployedName: "heavy-dev-transcode", Handler: "handler.main", Runtime: "python3.12", MemorySize: 256, Timeout: 60}
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: buf.Bytes()}); err != nil {
		t.Fatalf("deploy: %v\n%s", err, progress)
	}
	inv, err := p.Invoke(ctx, "heavy-dev-transcode", nil, adapters.InvokeOptions{LogTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inv.Result), `"out/clip.txt"`) {
		t.Fatalf("result %s %+v\n%s", inv.Result, inv.Error, inv.Log)
	}
	out, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: awssdk.String("media"), Key: awssdk.String("out/clip.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	if string(got) != "FRAMES" {
		t.Fatalf("the function wrote %q", got)
	}
}

package aws_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/server"
)

const (
	keyID  = "AKIDHEAVY"
	secret = "heavy-secret"
	role   = "arn:aws:iam::000000000000:role/r"
)

func heavyServer(t *testing.T) (*lambda.Client, *s3.Client) {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	ts := httptest.NewServer(server.New(e, server.Options{Credentials: &front.Credentials{ID: keyID, Key: secret}}))
	t.Cleanup(func() {
		ts.Close()
		emutest.CloseEngine(t, e)
	})
	cfg := aws.Config{Region: "eu-west-1", RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, nil
		})}
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(ts.URL); o.UsePathStyle = true })
	return lc, sc
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, _ := zw.CreateHeader(h)
		io.WriteString(w, body)
	}
	zw.Close()
	return buf.Bytes()
}

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("error = %v, want %s %q", err, code, msg)
	}
}

// incompressible is a zip of n random bytes (stored: it does not compress).
func incompressible(t testing.TB, n int, extra map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "blob.bin", Method: zip.Store})
	data := make([]byte, n)
	rand.Read(data)
	w.Write(data)
	for name, body := range extra {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	zw.Close()
	return buf.Bytes()
}

const handlerJS = `exports.main = async () => ({ ok: true, size: require('fs').statSync(__dirname + '/blob.bin').size });`

// A package over the inline limit deploys by S3 reference; inline it is
// refused as Lambda refuses it.
func TestLargePackageBySReference(t *testing.T) {
	emutest.NeedNode(t)
	ctx := context.Background()
	lc, sc := heavyServer(t)
	pkg := incompressible(t, 60<<20, map[string]string{"index.js": handlerJS})

	_, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("big-inline"), Role: aws.String(role),
		Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.main"), Code: &types.FunctionCode{ZipFile: pkg}})
	wantCode(t, err, "RequestEntityTooLargeException", "Request must be smaller than 69905067 bytes for the CreateFunction operation")

	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deploys")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deploys"), Key: aws.String("big/pkg.zip"), Body: bytes.NewReader(pkg)}); err != nil {
		t.Fatal(err)
	}
	out, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("big"), Role: aws.String(role),
		Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.main"),
		Code: &types.FunctionCode{S3Bucket: aws.String("deploys"), S3Key: aws.String("big/pkg.zip")}})
	if err != nil {
		t.Fatal(err)
	}
	if out.CodeSize != int64(len(pkg)) {
		t.Fatalf("CodeSize = %d, want %d", out.CodeSize, len(pkg))
	}
	inv, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("big")})
	if err != nil || inv.FunctionError != nil {
		t.Fatalf("invoke: %v %s", err, inv.Payload)
	}
	var res struct{ Size int }
	json.Unmarshal(inv.Payload, &res)
	if res.Size != 60<<20 {
		t.Fatalf("the function saw %s", inv.Payload)
	}
	_, err = lc.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("big"), S3Bucket: aws.String("deploys"), S3Key: aws.String("nope.zip")})
	wantCode(t, err, "InvalidParameterValueException", "S3 Error Code: NoSuchKey")
	_, err = lc.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("big"), S3Bucket: aws.String("no-bucket"), S3Key: aws.String("k")})
	wantCode(t, err, "InvalidParameterValueException", "S3 Error Code: NoSuchBucket")
	_, err = lc.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("big"), ZipFile: pkg})
	wantCode(t, err, "RequestEntityTooLargeException", "for the UpdateFunctionCode operation")

	// 251 MiB unzipped from a small zip: refused as Lambda refuses it.
	var zeros bytes.Buffer
	zw := zip.NewWriter(&zeros)
	w, _ := zw.Create("zeros.bin")
	chunk := make([]byte, 1<<20)
	for range 251 {
		w.Write(chunk)
	}
	zw.Close()
	_, err = lc.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("big"), ZipFile: zeros.Bytes()})
	wantCode(t, err, "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes")
}

const layeredJS = `
const { execFileSync } = require('child_process');
const greet = require('greetmod');
exports.main = async () => ({ bin: execFileSync('greet').toString().trim(), mod: greet(), opt: !!process.env.ASYNCFN_OPT_DIR });
`

func TestLayersThroughTheLambdaAPI(t *testing.T) {
	emutest.NeedNode(t)
	ctx := context.Background()
	lc, _ := heavyServer(t)
	tools, err := lc.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("tools"), Description: aws.String("a binary"),
		CompatibleRuntimes: []types.Runtime{types.RuntimeNodejs22x},
		Content:            &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"bin/greet*": "#!/bin/sh\necho hi from bin\n"})}})
	if err != nil {
		t.Fatal(err)
	}
	libs, err := lc.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("libs"),
		Content: &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"nodejs/node_modules/greetmod/index.js": "module.exports = () => 'hi from a module';"})}})
	if err != nil {
		t.Fatal(err)
	}
	if tools.Version != 1 || !strings.HasSuffix(aws.ToString(tools.LayerVersionArn), ":layer:tools:1") || tools.Content.CodeSize == 0 || aws.ToString(tools.Content.CodeSha256) == "" {
		t.Fatalf("published %+v", tools)
	}
	fn, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("layered"), Role: aws.String(role),
		Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.main"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"index.js": layeredJS})},
		Layers: []string{aws.ToString(tools.LayerVersionArn), aws.ToString(libs.LayerVersionArn)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fn.Layers) != 2 || aws.ToString(fn.Layers[1].Arn) != aws.ToString(libs.LayerVersionArn) {
		t.Fatalf("function layers = %+v", fn.Layers)
	}
	inv, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("layered")})
	if err != nil || inv.FunctionError != nil {
		t.Fatalf("invoke: %v %s", err, inv.Payload)
	}
	var got struct {
		Bin, Mod string
		Opt      bool
	}
	json.Unmarshal(inv.Payload, &got)
	if got.Bin != "hi from bin" || got.Mod != "hi from a module" || !got.Opt {
		t.Fatalf("the handler saw %s", inv.Payload)
	}

	gv, err := lc.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("tools"), VersionNumber: aws.Int64(1)})
	if err != nil || aws.ToString(gv.Description) != "a binary" {
		t.Fatalf("get = %+v, %v", gv, err)
	}
	_, err = lc.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("tools"), VersionNumber: aws.Int64(7)})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("missing version: %v", err)
	}
	lv, err := lc.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("libs")})
	if err != nil || len(lv.LayerVersions) != 1 || lv.LayerVersions[0].Version != 1 {
		t.Fatalf("list = %+v, %v", lv, err)
	}

	unknown := strings.Replace(aws.ToString(tools.LayerVersionArn), ":tools:1", ":tools:9", 1)
	_, err = lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"), Layers: []string{unknown}})
	wantCode(t, err, "InvalidParameterValueException", "does not exist")
	six := make([]string, 6)
	for i := range six {
		six[i] = aws.ToString(tools.LayerVersionArn)
	}
	_, err = lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"), Layers: six})
	wantCode(t, err, "InvalidParameterValueException", "Cannot reference more than 5 layers.")
}

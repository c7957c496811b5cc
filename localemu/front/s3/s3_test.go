package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/server"
)

const (
	keyID  = "AKIDS3TEST"
	secret = "s3-emulator-secret"
)

// startServer runs the emulator's whole server (so S3 requests are routed
// as in production) with strict credentials.
func startServer(t *testing.T) (string, *localemu.Engine) {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	ts := httptest.NewServer(server.New(e, server.Options{Credentials: &front.Credentials{ID: keyID, Key: secret}}))
	t.Cleanup(func() {
		ts.Close()
		emutest.CloseEngine(t, e)
	})
	return ts.URL, e
}

func client(url, id, key string) *s3.Client {
	cfg := aws.Config{Region: "eu-west-1", RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: key}, nil
		})}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func TestS3WithTheSDK(t *testing.T) {
	ctx := context.Background()
	url, _ := startServer(t)
	c := client(url, keyID, secret)

	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deploys")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deploys")})
	wantCode(t, err, "BucketAlreadyOwnedByYou")
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("deploys")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NotFound") // HEAD: a status without a body

	body := []byte("hello, object store")
	keys := []string{"pkg/fn.zip", "../../escape", "a b/ü ✓.txt", "pkg/deep/x"}
	for _, k := range keys {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deploys"), Key: aws.String(k), Body: bytes.NewReader(body), ContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
		sum := md5.Sum(body)
		if aws.ToString(out.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Fatalf("ETag = %s", aws.ToString(out.ETag))
		}
	}
	for _, k := range keys {
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deploys"), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("get %q: %v", k, err)
		}
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(b, body) || aws.ToString(got.ContentType) != "text/plain" {
			t.Fatalf("get %q = %q", k, b)
		}
	}
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deploys"), Key: aws.String("pkg/fn.zip"), Range: aws.String("bytes=7-12")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rng.Body)
	if string(b) != "object" || aws.ToString(rng.ContentRange) != fmt.Sprintf("bytes 7-12/%d", len(body)) {
		t.Fatalf("range = %q %s", b, aws.ToString(rng.ContentRange))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deploys"), Key: aws.String("pkg/fn.zip"), Range: aws.String("bytes=999-")})
	wantCode(t, err, "InvalidRange")
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("deploys"), Key: aws.String("pkg/fn.zip")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) {
		t.Fatalf("head = %+v, %v", head, err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deploys"), Key: aws.String("nope")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("missing key: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, err, "NoSuchBucket")

	// Listing with a delimiter, and in pages.
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("deploys"), Prefix: aws.String("pkg/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "pkg/fn.zip" || len(list.CommonPrefixes) != 1 || aws.ToString(list.CommonPrefixes[0].Prefix) != "pkg/deep/" {
		t.Fatalf("list = %+v", list)
	}
	var all []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("deploys"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			all = append(all, aws.ToString(o.Key))
		}
	}
	if len(all) != len(keys) {
		t.Fatalf("paged = %q", all)
	}

	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("deploys")})
	wantCode(t, err, "BucketNotEmpty")
	for _, k := range keys {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("deploys"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("deploys")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Bucket")})
	wantCode(t, err, "InvalidBucketName")
}

func TestS3Multipart(t *testing.T) {
	ctx := context.Background()
	url, _ := startServer(t)
	c := client(url, keyID, secret)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 11<<20)
	rand.Read(data)
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("pkg.zip")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	md5s := md5.New()
	for i, off := 0, 0; off < len(data); i++ {
		end := min(off+5<<20, len(data))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("big"), Key: aws.String("pkg.zip"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data[off:end])})
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(data[off:end])
		md5s.Write(sum[:])
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
		off = end
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("pkg.zip"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{parts[1], parts[0]}}})
	wantCode(t, err, "InvalidPartOrder")
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("pkg.zip"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(md5s.Sum(nil)), len(parts)); aws.ToString(done.ETag) != want {
		t.Fatalf("ETag = %s, want %s", aws.ToString(done.ETag), want)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("pkg.zip")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	if !bytes.Equal(b, data) {
		t.Fatal("the completed object differs from what was uploaded")
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("big"), Key: aws.String("pkg.zip"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantCode(t, err, "NoSuchUpload")
	up2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("gone")})
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("gone"), UploadId: up2.UploadId}); err != nil {
		t.Fatal(err)
	}
}

func TestS3RefusesBadSignatures(t *testing.T) {
	ctx := context.Background()
	url, e := startServer(t)
	if err := e.CreateBucket(ctx, "guarded"); err != nil {
		t.Fatal(err)
	}
	_, err := client(url, keyID, "wrong-secret").PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("guarded"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, err, "SignatureDoesNotMatch")
	_, err = client(url, "AKIDOTHER", secret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("guarded"), Key: aws.String("k")})
	wantCode(t, err, "InvalidAccessKeyId")
	if _, err := e.HeadObject(ctx, "guarded", "k"); !errors.Is(err, localemu.ErrNoSuchKey) {
		t.Fatalf("a refused PUT stored an object: %v", err)
	}

	// A body that is not the one signed: the headers sign one digest, the
	// body has other bytes. Nothing is stored.
	req, _ := http.NewRequest(http.MethodPut, url+"/guarded/tampered", strings.NewReader("tampered"))
	signed := client(url, keyID, secret)
	_ = signed // the SDK cannot be made to lie; sign by hand below
	presign := s3.NewPresignClient(client(url, keyID, secret))
	ps, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("guarded"), Key: aws.String("presigned")})
	if err != nil {
		t.Fatal(err)
	}
	preq, _ := http.NewRequest(http.MethodPut, ps.URL, strings.NewReader("via a presigned URL"))
	for k, v := range ps.SignedHeader {
		preq.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT = %d", resp.StatusCode)
	}
	// The same URL for another key is refused.
	bad, _ := http.NewRequest(http.MethodPut, strings.Replace(ps.URL, "/presigned?", "/other?", 1), strings.NewReader("x"))
	resp, err = http.DefaultClient.Do(bad)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(msg), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered presigned URL = %d %s", resp.StatusCode, msg)
	}
	// Unsigned: refused in S3's XML.
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("an unsigned PUT was accepted")
	}
}

// The aws CLI (botocore) uploads a file over its 8 MB multipart threshold.
func TestS3WithTheAWSCLI(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws CLI is not installed")
	}
	url, e := startServer(t)
	if err := e.CreateBucket(context.Background(), "cli-bucket"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	data := make([]byte, 9<<20)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "config")
	os.WriteFile(cfgFile, []byte("[default]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n"), 0o600)
	run := func(args ...string) string {
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", url}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_CONFIG_FILE="+cfgFile,
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("s3", "cp", src, "s3://cli-bucket/dir/big.bin")
	info, err := e.HeadObject(context.Background(), "cli-bucket", "dir/big.bin")
	if err != nil || info.Size != int64(len(data)) || !strings.Contains(info.ETag, "-") {
		t.Fatalf("uploaded = %+v, %v (want a multipart object)", info, err)
	}
	if out := run("s3", "ls", "s3://cli-bucket/dir/"); !strings.Contains(out, "big.bin") {
		t.Fatalf("ls = %s", out)
	}
	dst := filepath.Join(dir, "back.bin")
	run("s3", "cp", "s3://cli-bucket/dir/big.bin", dst)
	back, _ := os.ReadFile(dst)
	if !bytes.Equal(back, data) {
		t.Fatal("the downloaded file differs")
	}
}

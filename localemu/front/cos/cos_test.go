package cos_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cosv5 "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/cos"
	"github.com/asyncfn/asyncfn/localemu/server"
)

const (
	testID  = "AKIDcostest"
	testKey = "cos-test-secret"
	bucket  = "media-" + cos.DefaultAppID
	region  = "ap-guangzhou"
)

// emulator serves a real engine with credentials on a loopback port and
// returns its base URL and the engine.
func emulator(t *testing.T) (string, *localemu.Engine) {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	ln, err := server.Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(e, server.Options{Credentials: &front.Credentials{ID: testID, Key: testKey}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), e
}

// client is the real cos-go-sdk-v5 client addressed as adapters/tencent
// addresses the emulator: BucketURL the emulator, Host the bucket's.
func client(t *testing.T, base, bucketName, id, key string) *cosv5.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c := cosv5.NewClient(&cosv5.BaseURL{BucketURL: u}, &http.Client{
		Transport: &cosv5.AuthorizationTransport{SecretID: id, SecretKey: key},
		Timeout:   time.Minute,
	})
	c.Host = bucketName + ".cos." + region + ".myqcloud.com"
	return c
}

// cosCode is the COS error code of err ("" if it is not a COS answer).
func cosCode(t *testing.T, err error) (int, string) {
	t.Helper()
	if err == nil {
		return 200, ""
	}
	var re *cosv5.RetryError
	if errors.As(err, &re) && len(re.Errs) > 0 {
		err = re.Errs[len(re.Errs)-1]
	}
	e, ok := cosv5.IsCOSError(err)
	if !ok {
		t.Fatalf("not a COS error answer: %v", err)
	}
	return e.Response.StatusCode, e.Code
}

func TestObjectsThroughTheSDK(t *testing.T) {
	base, _ := emulator(t)
	c := client(t, base, bucket, testID, testKey)
	ctx := context.Background()

	if _, err := c.Bucket.Head(ctx); err == nil {
		t.Fatal("HEAD of a bucket not yet created succeeded")
	} else if st, _ := cosCode(t, err); st != http.StatusNotFound {
		t.Fatalf("HEAD missing bucket: status %d, want 404", st)
	}
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		t.Fatalf("PUT Bucket: %v", err)
	}
	if _, err := c.Bucket.Put(ctx, nil); err == nil {
		t.Fatal("PUT Bucket twice succeeded")
	} else if st, code := cosCode(t, err); st != http.StatusConflict || code != "BucketAlreadyExists" {
		t.Fatalf("PUT Bucket twice: %d %s, want 409 BucketAlreadyExists", st, code)
	}
	if _, err := c.Bucket.Head(ctx); err != nil {
		t.Fatalf("HEAD Bucket: %v", err)
	}

	body := []byte("0123456789abcdefghij")
	resp, err := c.Object.Put(ctx, "in/clip.txt", bytes.NewReader(body), &cosv5.ObjectPutOptions{
		ObjectPutHeaderOptions: &cosv5.ObjectPutHeaderOptions{ContentType: "text/plain"},
	})
	if err != nil {
		t.Fatalf("PUT Object (the SDK checks x-cos-hash-crc64ecma): %v", err)
	}
	if resp.Header.Get("ETag") != `"644be06dfc54061fd1e67f5ebbabcd58"` {
		t.Errorf("ETag %s, want the quoted MD5", resp.Header.Get("ETag"))
	}

	get := func(rng string) (int, string, http.Header) {
		t.Helper()
		resp, err := c.Object.Get(ctx, "in/clip.txt", &cosv5.ObjectGetOptions{Range: rng})
		if err != nil {
			st, code := cosCode(t, err)
			return st, code, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if st, got, h := get(""); st != 200 || got != string(body) || h.Get("Content-Type") != "text/plain" {
		t.Errorf("GET: %d %q %q", st, got, h.Get("Content-Type"))
	}
	for rng, want := range map[string]string{"bytes=2-5": "2345", "bytes=15-": "fghij", "bytes=-3": "hij", "bytes=18-100": "ij"} {
		if st, got, h := get(rng); st != http.StatusPartialContent || got != want || !strings.HasSuffix(h.Get("Content-Range"), "/20") {
			t.Errorf("GET Range %s: %d %q (Content-Range %q), want 206 %q", rng, st, got, h.Get("Content-Range"), want)
		}
	}
	for _, rng := range []string{"bytes=20-", "bytes=5-2", "bytes=-0", "bytes=x-y"} {
		if st, code, _ := get(rng); st != http.StatusRequestedRangeNotSatisfiable || code != "InvalidRange" {
			t.Errorf("GET Range %s: %d %s, want 416 InvalidRange", rng, st, code)
		}
	}

	head, err := c.Object.Head(ctx, "in/clip.txt", nil)
	if err != nil || head.ContentLength != 20 {
		t.Fatalf("HEAD Object: %v (length %d)", err, head.ContentLength)
	}
	if _, err := c.Object.Head(ctx, "in/none", nil); err == nil {
		t.Error("HEAD of a missing key succeeded")
	} else if st, _ := cosCode(t, err); st != 404 {
		t.Errorf("HEAD missing key: %d, want 404 (no body on HEAD)", st)
	}
	if _, err := c.Object.Get(ctx, "in/none", nil); err == nil {
		t.Error("GET of a missing key succeeded")
	} else if st, code := cosCode(t, err); st != 404 || code != "NoSuchKey" {
		t.Errorf("GET missing key: %d %s, want 404 NoSuchKey", st, code)
	}

	for _, k := range []string{"in/b.txt", "out/c.txt", "out/d/e.txt"} {
		if _, err := c.Object.Put(ctx, k, strings.NewReader(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	list, _, err := c.Bucket.Get(ctx, &cosv5.BucketGetOptions{Delimiter: "/"})
	if err != nil {
		t.Fatalf("GET Bucket: %v", err)
	}
	if len(list.Contents) != 0 || strings.Join(list.CommonPrefixes, ",") != "in/,out/" {
		t.Errorf("GET Bucket with /: %d keys, prefixes %v", len(list.Contents), list.CommonPrefixes)
	}
	list, _, err = c.Bucket.Get(ctx, &cosv5.BucketGetOptions{Prefix: "in/", MaxKeys: 1})
	if err != nil || len(list.Contents) != 1 || list.Contents[0].Key != "in/b.txt" || !list.IsTruncated || list.NextMarker != "in/b.txt" {
		t.Fatalf("GET Bucket page 1: %v %+v", err, list)
	}
	list, _, err = c.Bucket.Get(ctx, &cosv5.BucketGetOptions{Prefix: "in/", Marker: list.NextMarker})
	if err != nil || len(list.Contents) != 1 || list.Contents[0].Key != "in/clip.txt" || list.IsTruncated || list.Contents[0].Size != 20 {
		t.Fatalf("GET Bucket page 2: %v %+v", err, list)
	}

	if _, err := c.Bucket.Delete(ctx); err == nil {
		t.Error("DELETE of a bucket with objects succeeded")
	} else if st, code := cosCode(t, err); st != http.StatusConflict || code != "BucketNotEmpty" {
		t.Errorf("DELETE non-empty bucket: %d %s, want 409 BucketNotEmpty", st, code)
	}
	for _, k := range []string{"in/clip.txt", "in/b.txt", "out/c.txt", "out/d/e.txt", "never/was"} {
		if _, err := c.Object.Delete(ctx, k); err != nil {
			t.Errorf("DELETE Object %s: %v", k, err)
		}
	}
	if _, err := c.Bucket.Delete(ctx); err != nil {
		t.Errorf("DELETE empty bucket: %v", err)
	}
	if _, err := c.Object.Put(ctx, "x", strings.NewReader("x"), nil); err == nil {
		t.Error("PUT into a deleted bucket succeeded")
	} else if st, code := cosCode(t, err); st != 404 || code != "NoSuchBucket" {
		t.Errorf("PUT into a deleted bucket: %d %s, want 404 NoSuchBucket", st, code)
	}
}

// progress records the SDK's progress events.
type progress struct{ last int64 }

func (p *progress) ProgressChangedCallback(e *cosv5.ProgressEvent) { p.last = e.ConsumedBytes }

func TestMultipartUploadHelper(t *testing.T) {
	base, _ := emulator(t)
	c := client(t, base, bucket, testID, testKey)
	ctx := context.Background()
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// 20 MiB in 8 MiB parts: three parts, the last smaller.
	data := make([]byte, 20<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &progress{}
	res, _, err := c.Object.Upload(ctx, "pkg/big.bin", path, &cosv5.MultiUploadOptions{
		PartSize: 8, ThreadPoolSize: 2,
		OptIni: &cosv5.InitiateMultipartUploadOptions{ObjectPutHeaderOptions: &cosv5.ObjectPutHeaderOptions{Listener: p}},
	})
	if err != nil {
		t.Fatalf("Upload (multipart, CRC-64 checked by the SDK): %v", err)
	}
	if !strings.HasSuffix(strings.Trim(res.ETag, `"`), "-3") {
		t.Errorf("ETag %s, want a 3-part multipart ETag", res.ETag)
	}
	if p.last != int64(len(data)) {
		t.Errorf("progress reached %d bytes, want %d", p.last, len(data))
	}
	resp, err := c.Object.Get(ctx, "pkg/big.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("the object read back differs from the upload (%d bytes, want %d)", len(got), len(data))
	}

	// Completing parts out of order, or naming a part never uploaded.
	init, _, err := c.Object.InitiateMultipartUpload(ctx, "pkg/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.Object.UploadPart(ctx, "pkg/x", init.UploadID, 1, bytes.NewReader(data[:1<<20]), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Object.CompleteMultipartUpload(ctx, "pkg/x", init.UploadID, &cosv5.CompleteMultipartUploadOptions{
		Parts: []cosv5.Object{{PartNumber: 2, ETag: part.Header.Get("ETag")}},
	})
	if st, code := cosCode(t, err); st != 400 || code != "InvalidPart" {
		t.Errorf("Complete with a part never uploaded: %d %s, want 400 InvalidPart", st, code)
	}
	if _, err := c.Object.AbortMultipartUpload(ctx, "pkg/x", init.UploadID); err != nil {
		t.Errorf("Abort: %v", err)
	}
	_, err = c.Object.UploadPart(ctx, "pkg/x", init.UploadID, 2, bytes.NewReader(data[:10]), nil)
	if st, code := cosCode(t, err); st != 404 || code != "NoSuchUpload" {
		t.Errorf("UploadPart after Abort: %d %s, want 404 NoSuchUpload", st, code)
	}
}

func TestSignatureRefusals(t *testing.T) {
	base, _ := emulator(t)
	ctx := context.Background()
	if _, err := client(t, base, bucket, testID, testKey).Bucket.Put(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id, key, code string
	}{
		{"wrong secret key", testID, "not-the-key", "SignatureDoesNotMatch"},
		{"unknown secret id", "AKIDother", testKey, "InvalidAccessKeyId"},
	} {
		c := client(t, base, bucket, tc.id, tc.key)
		_, err := c.Object.Put(ctx, "k", strings.NewReader("v"), nil)
		if st, code := cosCode(t, err); st != http.StatusForbidden || code != tc.code {
			t.Errorf("%s: %d %s, want 403 %s", tc.name, st, code, tc.code)
		}
	}

	// An unsigned request to a bucket host is not this emulator's to answer.
	c := client(t, base, bucket, "", "")
	_, err := c.Object.Put(ctx, "k", strings.NewReader("v"), nil)
	if st, code := cosCode(t, err); st != http.StatusForbidden || code != "AccessDenied" {
		t.Errorf("unsigned: %d %s, want 403 AccessDenied", st, code)
	}

	// Another account's bucket.
	c = client(t, base, "media-1300000000", testID, testKey)
	_, err = c.Object.Put(ctx, "k", strings.NewReader("v"), nil)
	if st, code := cosCode(t, err); st != http.StatusForbidden || code != "AccessDenied" {
		t.Errorf("another appid: %d %s, want 403 AccessDenied", st, code)
	}

	// A signature whose time has passed; a replayed signature on another
	// key; a query parameter added after signing.
	u, _ := url.Parse(base)
	host := bucket + ".cos." + region + ".myqcloud.com"
	signed := func(method, target string, at time.Time) *http.Request {
		req, _ := http.NewRequest(method, u.String()+target, nil)
		req.Host = host
		cosv5.AddAuthorizationHeader(testID, testKey, "", req, &cosv5.AuthTime{
			SignStartTime: at, SignEndTime: at.Add(time.Minute), KeyStartTime: at, KeyEndTime: at.Add(time.Minute),
		})
		return req
	}
	status := func(req *http.Request) (int, string) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		code := ""
		if i := bytes.Index(b, []byte("<Code>")); i >= 0 {
			code = string(b[i+6 : i+6+bytes.IndexByte(b[i+6:], '<')])
		}
		return resp.StatusCode, code
	}
	if st, code := status(signed("GET", "/", time.Now().Add(-time.Hour))); st != 403 || code != "AccessDenied" {
		t.Errorf("expired signature: %d %s, want 403 AccessDenied", st, code)
	}
	req := signed("GET", "/a", time.Now())
	req.URL.Path = "/b"
	if st, code := status(req); st != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("signature replayed on another key: %d %s, want 403 SignatureDoesNotMatch", st, code)
	}
	req = signed("GET", "/a", time.Now())
	req.URL.RawQuery = "acl"
	if st, code := status(req); st != 403 || code != "AccessDenied" {
		t.Errorf("unsigned query parameter: %d %s, want 403 AccessDenied", st, code)
	}
	req = signed("GET", "/", time.Now())
	req.Host = "media-1250000000.cos.ap-beijing.myqcloud.com" // signed for ap-guangzhou
	if st, code := status(req); st != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("signature replayed on another host: %d %s, want 403 SignatureDoesNotMatch", st, code)
	}
	req = signed("GET", "/?acl", time.Now())
	if st, code := status(req); st != http.StatusNotImplemented || code != "NotImplemented" {
		t.Errorf("?acl: %d %s, want 501 NotImplemented", st, code)
	}
}

// Keys are opaque names, never paths: "..", "/" and encoded dots stay keys.
func TestTraversalKeysStayKeys(t *testing.T) {
	base, e := emulator(t)
	c := client(t, base, bucket, testID, testKey)
	ctx := context.Background()
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		t.Fatal(err)
	}
	keys := []string{"../../../../tmp/escaped", "a/../b", "a/./b", "%2e%2e/x", "a//b", "../..", "dir/"}
	for _, k := range keys {
		if _, err := c.Object.Put(ctx, k, strings.NewReader("v:"+k), nil); err != nil {
			t.Fatalf("PUT %q: %v", k, err)
		}
	}
	for _, k := range keys {
		if k == "../.." {
			continue // the SDK itself refuses a GET of a key that resolves to "/" (ObjectKeySimplifyCheck)
		}
		resp, err := c.Object.Get(ctx, k, nil)
		if err != nil {
			t.Fatalf("GET %q: %v", k, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "v:"+k {
			t.Errorf("GET %q = %q", k, b)
		}
	}
	page, err := e.ListObjects(ctx, localemu.ObjectQuery{Bucket: bucket})
	if err != nil || len(page.Objects) != len(keys) {
		t.Fatalf("the store holds %d objects (%v), want %d", len(page.Objects), err, len(keys))
	}
	if _, err := os.Stat("/tmp/escaped"); err == nil {
		t.Fatal("a key escaped into /tmp")
	}
	long := strings.Repeat("k", 851)
	_, err = c.Object.Put(ctx, long, strings.NewReader("v"), nil)
	if st, code := cosCode(t, err); st != 400 || code != "KeyTooLong" {
		t.Errorf("851-byte key: %d %s, want 400 KeyTooLong", st, code)
	}
}

// A function's own code reaches the emulator's COS with the emulator as its
// HTTP proxy and the real COS URL; a presigned URL works the same way.
func TestProxyAddressingAndPresignedURL(t *testing.T) {
	base, _ := emulator(t)
	proxy, _ := url.Parse(base)
	bucketURL, _ := cosv5.NewBucketURL(bucket, region, false)
	c := cosv5.NewClient(&cosv5.BaseURL{BucketURL: bucketURL}, &http.Client{
		Transport: &cosv5.AuthorizationTransport{SecretID: testID, SecretKey: testKey,
			Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}},
	})
	ctx := context.Background()
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		t.Fatalf("PUT Bucket through the proxy form: %v", err)
	}
	if _, err := c.Object.Put(ctx, "out/result.json", strings.NewReader(`{"ok":true}`), nil); err != nil {
		t.Fatalf("PUT Object through the proxy form: %v", err)
	}
	signedURL, err := c.Object.GetPresignedURL(ctx, http.MethodGet, "out/result.json", testID, testKey, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	resp, err := plain.Get(signedURL.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"ok":true}` {
		t.Fatalf("presigned GET: %d %s", resp.StatusCode, b)
	}
	tampered := strings.Replace(signedURL.String(), "result.json", "other.json", 1)
	resp, err = plain.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("presigned URL for another key: %d, want 403", resp.StatusCode)
	}
}

// The Host guard admits a COS bucket host only on a COS-signed request,
// and still refuses one a browser sends from another origin.
func TestGuardAdmitsOnlySignedCOSHosts(t *testing.T) {
	base, _ := emulator(t)
	u, _ := url.Parse(base)
	do := func(signed bool, host, origin string) (int, string, http.Header) {
		req, _ := http.NewRequest(http.MethodHead, u.String()+"/", nil)
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if signed {
			cosv5.AddAuthorizationHeader(testID, testKey, "", req, cosv5.NewAuthTime(time.Minute))
		}
		if origin != "" {
			req.Method = http.MethodGet // an error body to read
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	host := bucket + ".cos." + region + ".myqcloud.com"
	if st, body, h := do(true, host, ""); st != http.StatusNotFound || body != "" || h.Get("x-cos-request-id") == "" {
		t.Errorf("signed HEAD of a missing bucket: %d %q (request id %q), want 404 with no body and an x-cos-request-id", st, body, h.Get("x-cos-request-id"))
	}
	if st, _, _ := do(false, host, ""); st != http.StatusForbidden {
		t.Errorf("unsigned request to a bucket host: %d, want 403", st)
	}
	if st, _, _ := do(true, "evil.example", ""); st != http.StatusForbidden {
		t.Errorf("signed request to a foreign non-COS host: %d, want 403", st)
	}
	if st, _, _ := do(true, "media-1250000000.cos.ap-guangzhou.myqcloud.com.evil.example", ""); st != http.StatusForbidden {
		t.Errorf("a COS-looking prefix of a foreign host: %d, want 403", st)
	}
	if st, body, _ := do(true, host, "http://evil.example"); st != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("signed request from another origin: %d %s, want 403 AccessDenied in COS XML", st, body)
	}
}

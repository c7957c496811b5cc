package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/asyncfn/asyncfn/localemu"
)

// chunkedPut sends data as a signed aws-chunked PUT (S3 API Reference,
// "Transferring Payload in Multiple Chunks"), signed by the SDK's own
// SigV4 signer (seed) and stream signer (chunks); tamper, when set, changes
// the bytes of the second chunk after it was signed.
func chunkedPut(t *testing.T, url, key string, data []byte, chunk int, tamper bool) (int, string) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	now := time.Now().UTC()
	var sizes []int
	for off := 0; off < len(data); off += chunk {
		sizes = append(sizes, min(chunk, len(data)-off))
	}
	sizes = append(sizes, 0)
	const sigLen = 64
	length := 0
	for _, n := range sizes {
		length += len(strconv.FormatInt(int64(n), 16)) + len(";chunk-signature=") + sigLen + 2 + n + 2
	}
	req, _ := http.NewRequest(http.MethodPut, url+"/chunks/"+key, nil)
	req.ContentLength = int64(length)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), creds, req, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "s3", "eu-west-1", now); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	seed, _ := hex.DecodeString(auth[strings.LastIndex(auth, "Signature=")+len("Signature="):])
	stream := v4.NewStreamSigner(creds, "s3", "eu-west-1", seed)
	var body bytes.Buffer
	off := 0
	for i, n := range sizes {
		part := append([]byte(nil), data[off:off+n]...)
		sig, err := stream.GetSignature(context.Background(), nil, part, now)
		if err != nil {
			t.Fatal(err)
		}
		if tamper && i == 1 {
			part[0] ^= 0xff
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%x\r\n", n, sig)
		body.Write(part)
		body.WriteString("\r\n")
		off += n
	}
	if body.Len() != length {
		t.Fatalf("framing: %d bytes, announced %d", body.Len(), length)
	}
	req.Body = io.NopCloser(&body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

func TestS3SignedChunkedUpload(t *testing.T) {
	ctx := context.Background()
	url, e := startServer(t)
	if err := e.CreateBucket(ctx, "chunks"); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160,000 bytes: three 64 KiB chunks
	if status, msg := chunkedPut(t, url, "good", data, 64<<10, false); status != http.StatusOK {
		t.Fatalf("chunked PUT = %d %s", status, msg)
	}
	o, err := e.GetObject(ctx, "chunks", "good")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o.Body)
	o.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, want the %d decoded ones", len(got), len(data))
	}
	status, msg := chunkedPut(t, url, "tampered", data, 64<<10, true)
	if status != http.StatusForbidden || !strings.Contains(msg, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered chunk = %d %s", status, msg)
	}
	if _, err := e.HeadObject(ctx, "chunks", "tampered"); !errors.Is(err, localemu.ErrNoSuchKey) {
		t.Fatalf("a tampered upload was stored: %v", err)
	}
}

// A body that is not the one whose digest was signed is refused and not stored.
func TestS3BodyNotTheOneSigned(t *testing.T) {
	ctx := context.Background()
	url, e := startServer(t)
	if err := e.CreateBucket(ctx, "digests"); err != nil {
		t.Fatal(err)
	}
	signed, sent := []byte("the signed body"), []byte("another body!!!")
	req, _ := http.NewRequest(http.MethodPut, url+"/digests/k", bytes.NewReader(sent))
	sum := sha256Hex(signed)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req, sum, "s3", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "<Code>XAmzContentSHA256Mismatch</Code>") {
		t.Fatalf("= %d %s", resp.StatusCode, msg)
	}
	if _, err := e.HeadObject(ctx, "digests", "k"); !errors.Is(err, localemu.ErrNoSuchKey) {
		t.Fatalf("stored: %v", err)
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

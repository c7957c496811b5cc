package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// FuzzSigV4Verify checks the SigV4 verifier never panics and never accepts a
// request signed with another key.
func FuzzSigV4Verify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "20261127T000000Z", []byte("{}"))
	f.Add("AWS4-HMAC-SHA256 Credential=/", "x", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/lambda/aws4_request,SignedHeaders=,Signature=", "20261127T000000Z", []byte("x"))
	f.Add("Bearer x", "", []byte(nil))
	creds := &front.Credentials{ID: "AKID", Key: "secret"}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, auth, date string, body []byte) {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/2015-03-31/functions", bytes.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		if verifySigV4(r, body, creds, now) == nil {
			t.Fatalf("accepted a request no one signed with the key: %q", auth)
		}
	})
}

// zeros is an endless body that costs no memory to send.
type zeros struct{ n, max int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= z.max {
		return 0, io.EOF
	}
	n := int64(len(p))
	if z.max-z.n < n {
		n = z.max - z.n
	}
	clear(p[:n])
	z.n += n
	return int(n), nil
}

// A signed request whose body was replaced is refused even when it claims
// the original body's hash in X-Amz-Content-Sha256; the signed original goes
// through.
func TestSigV4CoversTheBody(t *testing.T) {
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, &front.Credentials{ID: awsTestKeyID, Key: awsTestSecret}, e.Logger()))
	zero := 0
	if _, err := e.Deploy(context.Background(), localemu.FunctionConfig{Name: "job", Provider: cloud.AWS, Runtime: "nodejs20.x", Handler: "index.ok",
		MemorySize: 128, Timeout: 10, Async: localemu.AsyncConfig{RetryAttempts: &zero}}, emutest.CodeZip(t)); err != nil {
		t.Fatal(err)
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: awsTestKeyID, SecretAccessKey: awsTestSecret}
	send := func(signedBody, sentBody string, claimHash bool) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url+"/2015-03-31/functions/job/invocations", strings.NewReader(sentBody))
		req.Header.Set("X-Amz-Invocation-Type", "Event")
		sum := sha256.Sum256([]byte(signedBody))
		hash := hex.EncodeToString(sum[:])
		if claimHash {
			req.Header.Set("X-Amz-Content-Sha256", hash)
		}
		if err := signer.SignHTTP(context.Background(), creds, req, hash, "lambda", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := send(`{"n":1}`, `{"n":2}`, true); st != http.StatusForbidden {
		t.Errorf("tampered body with the original's hash claimed: %d, want 403", st)
	}
	if st := send(`{"n":1}`, `{"n":2}`, false); st != http.StatusForbidden {
		t.Errorf("tampered body: %d, want 403", st)
	}
	if _, total, _ := e.Events(context.Background(), store.EventQuery{}); total != 0 {
		t.Fatalf("%d events stored from tampered requests", total)
	}
	if st := send(`{"n":1}`, `{"n":1}`, true); st != http.StatusAccepted {
		t.Errorf("the signed body: %d, want 202", st)
	}
}

// A request that fails what its headers alone decide is refused before its
// body is read, and no route reads more than its largest legitimate request:
// a 340 MB body costs the emulator next to nothing.
func TestBodiesAreNotBufferedBeforeAuthentication(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, &front.Credentials{ID: awsTestKeyID, Key: awsTestSecret}, e.Logger()))
	for _, path := range []string{"/2015-03-31/functions", "/2015-03-31/functions/job/invocations"} {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		req, _ := http.NewRequest(http.MethodPost, url+path, &zeros{max: 340 << 20})
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("unsigned 340 MB POST %s: %d, want 403", path, resp.StatusCode)
			}
		} // an error is the server closing the connection on the unread body: refused too
		goruntime.ReadMemStats(&after)
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 32<<20 {
			t.Errorf("unsigned 340 MB POST %s allocated %d MB", path, grown>>20)
		}
	}
}

// The credential scope must name this API's service and a region, as AWS
// checks it: a request signed for CloudWatch Logs is not a Lambda request.
func TestSigV4ScopeIsChecked(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, &front.Credentials{ID: awsTestKeyID, Key: awsTestSecret}, e.Logger()))
	creds := aws.Credentials{AccessKeyID: awsTestKeyID, SecretAccessKey: awsTestSecret}
	empty := sha256.Sum256(nil)
	for _, c := range []struct {
		name, path, target, service, region string
		status                              int
		msg                                 string
	}{
		{"Lambda signed for Lambda", "/2015-03-31/functions", "", "lambda", "eu-west-1", http.StatusOK, ""},
		{"Lambda signed for logs", "/2015-03-31/functions", "", "logs", "eu-west-1", http.StatusForbidden, "scoped to correct service: 'lambda'"},
		{"Lambda signed for no region", "/2015-03-31/functions", "", "lambda", "nowhere", http.StatusForbidden, "valid region"},
		{"Logs signed for Lambda", "/", "Logs_20140328.DescribeLogGroups", "lambda", "eu-west-1", http.StatusForbidden, "scoped to correct service: 'logs'"},
		{"Logs signed for logs", "/", "Logs_20140328.DescribeLogGroups", "logs", "eu-west-1", http.StatusOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			method, body := http.MethodGet, ""
			if c.target != "" {
				method, body = http.MethodPost, "{}"
			}
			req, _ := http.NewRequest(method, url+c.path, strings.NewReader(body))
			hash := hex.EncodeToString(empty[:])
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				h := sha256.Sum256([]byte(body))
				hash = hex.EncodeToString(h[:])
			}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, c.service, c.region, time.Now()); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(string(b), c.msg) {
				t.Errorf("%d %s, want %d %q", resp.StatusCode, b, c.status, c.msg)
			}
		})
	}
}

package main

// The fronts -mode accept can drive: the native API (/v1/), the Lambda REST
// invoke (SigV4, aws-sdk-go-v2's signer) and SCF's API 3.0 Invoke
// (TC3-HMAC-SHA256, signed here the way Tencent documents it and its Go SDK
// does: signed headers content-type;host, service "scf"). Every invoke goes
// through bench's HTTP client (client.go).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	scfAPIVersion = "2018-04-16"
	tc3Algorithm  = "TC3-HMAC-SHA256"
)

// front builds one async invoke request and judges its answer.
type front struct {
	name     string // native | lambda | scf
	base     string
	function string
	id, key  string // credentials; empty = unsigned
	region   string
	signer   *v4.Signer
}

func newFront(o *options, base string) (*front, error) {
	f := &front{name: o.front, base: base, function: o.function, region: o.region}
	switch o.front {
	case "native", "lambda", "scf":
	default:
		return nil, fmt.Errorf("-front %q is not native, lambda or scf", o.front)
	}
	if o.credentials != "" && !o.unsigned {
		id, key, ok := strings.Cut(o.credentials, ":")
		if !ok || id == "" || key == "" {
			return nil, fmt.Errorf("-credentials %q: use ID:KEY", o.credentials)
		}
		f.id, f.key = id, key
	}
	if f.region == "" {
		f.region = "us-east-1"
		if o.front == "scf" {
			f.region = "ap-guangzhou"
		}
	}
	if o.front == "lambda" {
		f.signer = v4.NewSigner()
	}
	return f, nil
}

func (f *front) signed() bool { return f.name != "native" && f.id != "" }

// request builds the invoke for payload, signed when credentials are set.
func (f *front) request(ctx context.Context, payload []byte) (*http.Request, error) {
	switch f.name {
	case "lambda":
		req, err := http.NewRequestWithContext(ctx, "POST", f.base+"/2015-03-31/functions/"+url.PathEscape(f.function)+"/invocations", bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Amz-Invocation-Type", "Event")
		req.Header.Set("Content-Type", "application/json")
		if f.id != "" {
			// As the SDK does per call: hash the payload, then sign.
			sum := sha256.Sum256(payload)
			creds := aws.Credentials{AccessKeyID: f.id, SecretAccessKey: f.key}
			if err := f.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", f.region, time.Now()); err != nil {
				return nil, err
			}
		}
		return req, nil
	case "scf":
		cc := string(payload)
		body, err := json.Marshal(map[string]any{"FunctionName": f.function, "InvocationType": "Event", "Namespace": "default", "ClientContext": cc})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, "POST", f.base+"/", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		h := req.Header
		ts := time.Now().Unix()
		h.Set("Content-Type", "application/json")
		h.Set("X-TC-Action", "Invoke")
		h.Set("X-TC-Version", scfAPIVersion)
		h.Set("X-TC-Region", f.region)
		h.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
		if f.id != "" {
			h.Set("Authorization", tc3Authorization(f.id, f.key, "scf", req.URL.Host, "application/json", ts, body))
		}
		return req, nil
	}
	req, err := http.NewRequestWithContext(ctx, "POST", f.base+"/v1/functions/"+url.PathEscape(f.function)+"/invocations?type=Event", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if f.id != "" {
		req.SetBasicAuth(f.id, f.key)
	}
	return req, nil
}

// acceptOne sends one async invoke through the front: accepted is the
// front's success answer, withID whether that answer named the event.
func (b *bench) acceptOne(ctx context.Context, payload []byte) (accepted, withID bool, msg string) {
	req, err := b.front.request(ctx, payload)
	if err != nil {
		return false, false, err.Error()
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, false, "canceled"
		}
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return false, false, "transport: " + msg
	}
	return b.front.judge(resp)
}

// judge reads an answer: accepted is the front's success answer (native:
// 202 with a requestId; Lambda: 202; SCF: 200 with Response.Result), withID
// whether it names the event (native requestId, Lambda X-Amzn-RequestId, SCF
// FunctionRequestId).
func (f *front) judge(resp *http.Response) (accepted, withID bool, msg string) {
	var buf [512]byte
	n, _ := io.ReadFull(resp.Body, buf[:])
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	body := buf[:n]
	switch f.name {
	case "lambda":
		if resp.StatusCode == http.StatusAccepted {
			return true, resp.Header.Get("X-Amzn-RequestId") != "", ""
		}
	case "scf":
		if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"FunctionRequestId"`)) && !bytes.Contains(body, []byte(`"Error"`)) {
			return true, true, ""
		}
	default:
		if resp.StatusCode == http.StatusAccepted && bytes.Contains(body, []byte(`"requestId"`)) {
			return true, true, ""
		}
	}
	return false, false, fmt.Sprintf("HTTP %d: %.120s", resp.StatusCode, bytes.TrimSpace(body))
}

// tc3Authorization signs a POST / with TC3-HMAC-SHA256 as Tencent Cloud API
// 3.0 documents it (and tencentcloud-sdk-go does): canonical request over
// content-type and host with the body's SHA-256, credential scope
// DATE/SERVICE/tc3_request, key chain TC3+SecretKey → date → service →
// "tc3_request".
func tc3Authorization(id, key, service, host, contentType string, ts int64, body []byte) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	payloadHash := sha256.Sum256(body)
	canonical := "POST\n/\n\ncontent-type:" + contentType + "\nhost:" + host + "\n\ncontent-type;host\n" + hex.EncodeToString(payloadHash[:])
	creqHash := sha256.Sum256([]byte(canonical))
	scope := date + "/" + service + "/tc3_request"
	sts := tc3Algorithm + "\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + hex.EncodeToString(creqHash[:])
	k := hmacSHA256([]byte("TC3"+key), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	sig := hex.EncodeToString(hmacSHA256(k, sts))
	return tc3Algorithm + " Credential=" + id + "/" + scope + ", SignedHeaders=content-type;host, Signature=" + sig
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

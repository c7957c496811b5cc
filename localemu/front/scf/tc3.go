package scf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
)

// TC3-HMAC-SHA256 is Tencent Cloud API 3.0's request signature. The emulator
// verifies it the way the cloud does, with two allowances for what real
// clients send:
//
//   - the service in the credential scope is taken from the request, not
//     assumed to be "scf": the Go SDK signs "scf", while the Node.js SDK
//     derives it from the endpoint's first label ("127" for 127.0.0.1:9770);
//   - the signed host may carry the port (Go SDK: the Host header) or not
//     (Node.js SDK: URL.hostname), so both readings are tried.

const (
	tc3Algorithm = "TC3-HMAC-SHA256"
	// tc3MaxSkew is how far X-TC-Timestamp may be from the emulator's clock.
	tc3MaxSkew = 5 * time.Minute
	// tc3UnsignedPayload is the X-TC-Content-SHA256 value of a request whose
	// body is left out of the signature.
	tc3UnsignedPayload = "UNSIGNED-PAYLOAD"
)

// tc3Authorization is a parsed Authorization header.
type tc3Authorization struct {
	SecretID      string
	Date          string // yyyy-mm-dd of the credential scope
	Service       string
	SignedHeaders []string // lower-case, in the order signed
	Signature     string   // hex
}

// scope is the credential scope the client signed.
func (a tc3Authorization) scope() string {
	return a.Date + "/" + a.Service + "/tc3_request"
}

// parseTC3Authorization reads
// "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex".
func parseTC3Authorization(h string) (tc3Authorization, error) {
	var a tc3Authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != tc3Algorithm {
		return a, fmt.Errorf("authorization does not start with %s", tc3Algorithm)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("authorization field %q is not key=value", strings.TrimSpace(part))
		}
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 4 || cred[0] == "" || cred[2] == "" || cred[3] != "tc3_request" {
		return a, fmt.Errorf("credential %q is not SecretId/Date/Service/tc3_request", fields["Credential"])
	}
	if _, err := time.Parse("2006-01-02", cred[1]); err != nil {
		return a, fmt.Errorf("credential date %q is not yyyy-mm-dd", cred[1])
	}
	a.SecretID, a.Date, a.Service = cred[0], cred[1], cred[2]
	if fields["SignedHeaders"] == "" {
		return a, fmt.Errorf("authorization has no SignedHeaders")
	}
	for _, name := range strings.Split(fields["SignedHeaders"], ";") {
		a.SignedHeaders = append(a.SignedHeaders, strings.ToLower(strings.TrimSpace(name)))
	}
	a.Signature = strings.ToLower(fields["Signature"])
	if _, err := hex.DecodeString(a.Signature); err != nil || len(a.Signature) != 64 {
		return a, fmt.Errorf("signature %q is not 64 hex digits", fields["Signature"])
	}
	return a, nil
}

func tc3SHA256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func tc3HMAC(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tc3Sign computes the hex signature of a canonical request.
func tc3Sign(secretKey, date, service, timestamp, canonicalRequest string) string {
	stringToSign := tc3Algorithm + "\n" + timestamp + "\n" + date + "/" + service + "/tc3_request\n" + tc3SHA256Hex([]byte(canonicalRequest))
	kDate := tc3HMAC([]byte("TC3"+secretKey), date)
	kService := tc3HMAC(kDate, service)
	kSigning := tc3HMAC(kService, "tc3_request")
	return hex.EncodeToString(tc3HMAC(kSigning, stringToSign))
}

// tc3CanonicalRequest builds the canonical request from the parts the client
// signed. headers maps each signed header name to the value to use.
func tc3CanonicalRequest(method, path, rawQuery string, signed []string, headers map[string]string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(method + "\n" + path + "\n" + rawQuery + "\n")
	for _, h := range signed {
		b.WriteString(h + ":" + headers[h] + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + payloadHash)
	return b.String()
}

// tc3Failure is a rejected signature: the API 3.0 error code and message.
type tc3Failure struct{ Code, Message string }

func (f *tc3Failure) Error() string { return f.Code + ": " + f.Message }

// tc3Request is a request whose TC3 headers have been checked: what is left
// is the signature itself, which covers the body.
type tc3Request struct {
	r    *http.Request
	auth tc3Authorization
	ts   string
}

// checkTC3Headers checks everything of a TC3 signature that the headers alone
// decide — present, well formed, our SecretId, a timestamp within the
// allowed skew — so that a request failing them is refused before its body
// is read.
func checkTC3Headers(r *http.Request, creds *front.Credentials, now time.Time) (*tc3Request, *tc3Failure) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &tc3Failure{"AuthFailure.SignatureFailure", "the request carries no Authorization header; sign it with TC3-HMAC-SHA256"}
	}
	auth, err := parseTC3Authorization(h)
	if err != nil {
		return nil, &tc3Failure{"AuthFailure.InvalidAuthorization", "the Authorization header is not a TC3-HMAC-SHA256 authorization: " + err.Error()}
	}
	ts := r.Header.Get("X-TC-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, &tc3Failure{"AuthFailure.SignatureFailure", fmt.Sprintf("X-TC-Timestamp %q is not a Unix time in seconds", ts)}
	}
	signedAt := time.Unix(sec, 0)
	if skew := now.Sub(signedAt); skew > tc3MaxSkew || skew < -tc3MaxSkew {
		return nil, &tc3Failure{"AuthFailure.SignatureExpire", fmt.Sprintf("the signature's timestamp %s is more than %s away from the server time %s",
			signedAt.UTC().Format(time.RFC3339), tc3MaxSkew, now.UTC().Format(time.RFC3339))}
	}
	if auth.SecretID != creds.ID {
		return nil, &tc3Failure{"AuthFailure.SecretIdNotFound", fmt.Sprintf("SecretId %q is not the emulator's credential", auth.SecretID)}
	}
	if want := signedAt.UTC().Format("2006-01-02"); auth.Date != want {
		return nil, &tc3Failure{"AuthFailure.SignatureFailure", fmt.Sprintf("the credential scope's date %s is not the UTC date of X-TC-Timestamp (%s)", auth.Date, want)}
	}
	return &tc3Request{r: r, auth: auth, ts: ts}, nil
}

// verifyTC3 checks the request's signature against creds at now. body is the
// request body exactly as received.
func verifyTC3(r *http.Request, body []byte, creds *front.Credentials, now time.Time) *tc3Failure {
	q, f := checkTC3Headers(r, creds, now)
	if f != nil {
		return f
	}
	return q.verify(tc3SHA256Hex(body), creds)
}

// verify checks the signature over the body whose SHA-256 is bodyHash (hex).
func (q *tc3Request) verify(bodyHash string, creds *front.Credentials) *tc3Failure {
	r, auth, ts := q.r, q.auth, q.ts
	payloadHash := bodyHash
	if r.Header.Get("X-TC-Content-SHA256") == tc3UnsignedPayload {
		payloadHash = tc3SHA256Hex([]byte(tc3UnsignedPayload))
	}
	// The candidates: host with and without its port, header values as sent
	// and lower-cased (the documented canonical form).
	hosts := []string{r.Host}
	if hostname, _, err := net.SplitHostPort(r.Host); err == nil {
		hosts = append(hosts, hostname)
	}
	for _, host := range hosts {
		for _, lower := range []bool{false, true} {
			values := make(map[string]string, len(auth.SignedHeaders))
			for _, name := range auth.SignedHeaders {
				v := r.Header.Get(name)
				if name == "host" {
					v = host
				}
				v = strings.TrimSpace(v)
				if lower {
					v = strings.ToLower(v)
				}
				values[name] = v
			}
			path := r.URL.EscapedPath()
			if path == "" {
				path = "/"
			}
			canonical := tc3CanonicalRequest(r.Method, path, r.URL.RawQuery, auth.SignedHeaders, values, payloadHash)
			want := tc3Sign(creds.Key, auth.Date, auth.Service, ts, canonical)
			if hmac.Equal([]byte(want), []byte(auth.Signature)) {
				return nil
			}
		}
	}
	return &tc3Failure{"AuthFailure.SignatureFailure", "the request signature does not match: check the SecretKey and the signing of credential scope " + auth.scope()}
}

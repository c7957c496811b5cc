// Package sigv4 verifies AWS Signature Version 4, for the emulator's AWS
// fronts: Lambda and CloudWatch Logs (package aws) and S3 (package s3). A
// request is checked in two steps so that a front refuses what the headers
// alone condemn before it reads a byte of the body — CheckHeaders (or
// CheckQuery for a presigned URL), then Verify with the payload's hash once
// it is known — and S3's aws-chunked bodies are verified chunk by chunk
// (Chunked). Source: AWS General Reference, "Signature Version 4 signing
// process"; Amazon S3 API Reference, "Authenticating Requests (AWS
// Signature Version 4)".
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
)

// Scope is the credential scope a client signed with; the AWS fronts take
// the region from it.
type Scope struct {
	AccessKey, Date, Region, Service string
}

// Error is a rejected signature with the error code the service answers.
// Lambda and Logs codes (InvalidSignatureException, ...) are used; the S3
// front maps them to S3's (SignatureDoesNotMatch, AccessDenied, ...).
type Error struct {
	Code string // InvalidSignatureException, UnrecognizedClientException, ...
	Msg  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

// MaxSkew is how far a request's time may be from the emulator's.
const MaxSkew = 15 * time.Minute

// Payload hashes S3 accepts in X-Amz-Content-Sha256 instead of the hex digest.
const (
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// ParseAuth reads the Authorization header of a SigV4-signed request.
func ParseAuth(h string) (scope Scope, signed []string, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return scope, nil, "", false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if s, ok := parseCredential(v); ok {
				scope = s
			} else {
				return scope, nil, "", false
			}
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		case "Signature":
			sig = v
		}
	}
	return scope, signed, sig, scope.AccessKey != "" && len(signed) > 0 && sig != ""
}

func parseCredential(v string) (Scope, bool) {
	f := strings.Split(v, "/")
	if len(f) != 5 || f[4] != "aws4_request" {
		return Scope{}, false
	}
	return Scope{AccessKey: f[0], Date: f[1], Region: f[2], Service: f[3]}, true
}

// ScopeOf is the credential scope a request was signed with, by header or
// presigned query; ok is false for an unsigned request.
func ScopeOf(r *http.Request) (Scope, bool) {
	if scope, _, _, ok := ParseAuth(r.Header.Get("Authorization")); ok {
		return scope, true
	}
	if r.URL.Query().Get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" {
		return parseCredential(r.URL.Query().Get("X-Amz-Credential"))
	}
	return Scope{}, false
}

// Options say how a service signs.
type Options struct {
	// S3 paths are signed as sent, not escaped a second time as every
	// other service's (S3 API Reference, "Signature Calculations for the
	// Authorization Header": CanonicalURI).
	S3 bool
}

// Request is a request whose SigV4 headers (or query) have been checked:
// what is left is the signature itself, which covers the payload hash.
type Request struct {
	r       *http.Request
	opts    Options
	scope   Scope
	signed  []string
	sig     string
	amzDate string
	presign bool
	creds   *front.Credentials
	key     []byte // the signing key, once derived
}

// Region is the region the request was signed for ("" for a nil Request).
func (q *Request) Region() string {
	if q == nil {
		return ""
	}
	return q.scope.Region
}

// CheckHeaders checks everything of a SigV4 signature that the headers
// alone decide — present, well formed, our access key, within MaxSkew — so
// that a request failing them is refused before its body is read. With creds
// nil every request passes (the emulator listens on loopback) and the
// returned Request is nil, which every method accepts.
func CheckHeaders(r *http.Request, creds *front.Credentials, now time.Time, opts Options) (*Request, error) {
	if creds == nil {
		return nil, nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if opts.S3 && r.URL.Query().Get("X-Amz-Algorithm") != "" {
			return checkQuery(r, creds, now, opts)
		}
		return nil, &Error{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	scope, signed, sig, ok := ParseAuth(auth)
	if !ok {
		return nil, &Error{"IncompleteSignatureException", "Authorization header is not a well-formed AWS4-HMAC-SHA256 signature"}
	}
	if scope.AccessKey != creds.ID {
		return nil, &Error{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return nil, &Error{"IncompleteSignatureException", "X-Amz-Date is missing or malformed"}
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return nil, &Error{"InvalidSignatureException", "Signature expired: " + amzDate + " is more than 15 minutes from the emulator's time " + now.UTC().Format("20060102T150405Z")}
	}
	if !strings.HasPrefix(amzDate, scope.Date) {
		return nil, &Error{"InvalidSignatureException", "the credential scope date does not match X-Amz-Date"}
	}
	return &Request{r: r, opts: opts, scope: scope, signed: signed, sig: sig, amzDate: amzDate, creds: creds}, nil
}

// checkQuery checks a presigned URL's query (S3 API Reference,
// "Authenticating Requests: Using Query Parameters"): X-Amz-Expires at most
// 7 days, not expired; the payload is UNSIGNED-PAYLOAD.
func checkQuery(r *http.Request, creds *front.Credentials, now time.Time, opts Options) (*Request, error) {
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return nil, &Error{"IncompleteSignatureException", "X-Amz-Algorithm must be AWS4-HMAC-SHA256"}
	}
	scope, ok := parseCredential(q.Get("X-Amz-Credential"))
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	sig := q.Get("X-Amz-Signature")
	if !ok || sig == "" || q.Get("X-Amz-SignedHeaders") == "" {
		return nil, &Error{"IncompleteSignatureException", "the presigned URL's X-Amz-Credential, X-Amz-SignedHeaders or X-Amz-Signature is missing or malformed"}
	}
	if scope.AccessKey != creds.ID {
		return nil, &Error{"UnrecognizedClientException", "The AWS Access Key Id you provided does not exist in our records."}
	}
	amzDate := q.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope.Date) {
		return nil, &Error{"IncompleteSignatureException", "X-Amz-Date is missing, malformed or not the credential scope's date"}
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 1 || exp > 604800 {
		return nil, &Error{"IncompleteSignatureException", "X-Amz-Expires must be 1-604800 seconds"}
	}
	if now.After(t.Add(time.Duration(exp)*time.Second)) || t.Sub(now) > MaxSkew {
		return nil, &Error{"AccessDenied", "Request has expired"}
	}
	return &Request{r: r, opts: opts, scope: scope, signed: signed, sig: sig, amzDate: amzDate, presign: true, creds: creds}, nil
}

// awsRegion is the form of an AWS region name (us-east-1, ap-southeast-2,
// us-gov-west-1, eu-central-2 ...).
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// CheckScope checks the credential scope as AWS does: signed for this API's
// service and for a region. AWS answers InvalidSignatureException,
// "Credential should be scoped to correct service: 'lambda'." / "... to a
// valid region" (AWS Signature Version 4, "Troubleshooting").
func (q *Request) CheckScope(service string) error {
	if q == nil {
		return nil
	}
	if q.scope.Service != service {
		return &Error{"InvalidSignatureException", "Credential should be scoped to correct service: '" + service + "'."}
	}
	if !awsRegion.MatchString(q.scope.Region) {
		return &Error{"InvalidSignatureException", "Credential should be scoped to a valid region."}
	}
	return nil
}

// ClaimedPayload is what X-Amz-Content-Sha256 says of the payload: a hex
// digest or one of the S3 literals ("" when absent). A presigned request's
// payload is UNSIGNED-PAYLOAD.
func (q *Request) ClaimedPayload() string {
	if q != nil && q.presign {
		return UnsignedPayload
	}
	if q == nil {
		return ""
	}
	return q.r.Header.Get("X-Amz-Content-Sha256")
}

// Verify checks the signature given the payload hash that was signed: the
// body's own hex SHA-256, or for S3 one of the literals (UNSIGNED-PAYLOAD,
// the STREAMING-... values of an aws-chunked body, whose chunks Chunked
// verifies next). An X-Amz-Content-Sha256 header must equal payloadHash.
func (q *Request) Verify(payloadHash string) error {
	if q == nil {
		return nil
	}
	if !q.presign {
		if h := q.r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
			return &Error{"InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}
	query := q.r.URL.Query()
	if q.presign {
		query.Del("X-Amz-Signature")
	}
	creq := strings.Join([]string{
		q.r.Method,
		q.canonicalURI(),
		canonicalQuery(query),
		canonicalHeaders(q.r, q.signed),
		strings.Join(q.signed, ";"),
		payloadHash,
	}, "\n")
	ch := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + q.amzDate + "\n" + q.credScope() + "\n" + hex.EncodeToString(ch[:])
	want := hex.EncodeToString(hmacSHA256(q.signingKey(), sts))
	if !hmac.Equal([]byte(want), []byte(q.sig)) {
		return &Error{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return nil
}

// VerifyBody checks a request whose body was read whole.
func VerifyBody(r *http.Request, body []byte, creds *front.Credentials, now time.Time, opts Options) error {
	q, err := CheckHeaders(r, creds, now, opts)
	if err != nil {
		return err
	}
	h := sha256.Sum256(body)
	return q.Verify(hex.EncodeToString(h[:]))
}

func (q *Request) credScope() string {
	return strings.Join([]string{q.scope.Date, q.scope.Region, q.scope.Service, "aws4_request"}, "/")
}

func (q *Request) signingKey() []byte {
	if q.key == nil {
		key := hmacSHA256([]byte("AWS4"+q.creds.Key), q.scope.Date)
		key = hmacSHA256(key, q.scope.Region)
		key = hmacSHA256(key, q.scope.Service)
		q.key = hmacSHA256(key, "aws4_request")
	}
	return q.key
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalURI: S3 signs the path as sent; every other service the
// already-escaped path escaped once more.
func (q *Request) canonicalURI() string {
	if q.opts.S3 {
		p := q.r.RequestURI
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if u, err := url.Parse(p); err == nil && u.IsAbs() {
			p = u.EscapedPath() // an absolute-form request line
		}
		if p == "" {
			p = "/"
		}
		return p
	}
	p := q.r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return Escape(p, false)
}

// Escape percent-encodes everything but RFC 3986 unreserved characters
// (and "/" unless encodeSlash).
func Escape(s string, encodeSlash bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, Escape(k, true)+"="+Escape(v, true))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values("Content-Length")
			if len(vals) == 0 && r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(name)
		}
		vals = append([]string(nil), vals...)
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

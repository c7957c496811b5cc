package aws

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

// sigV4Scope is the credential scope a client signed with; the AWS fronts
// take the region from it, so functions created through the SDK carry the
// region the client was configured for.
type sigV4Scope struct {
	AccessKey, Date, Region, Service string
}

// sigV4Error is a rejected signature with the error code the AWS SDKs expect.
type sigV4Error struct {
	Code string // InvalidSignatureException, UnrecognizedClientException, ...
	Msg  string
}

func (e *sigV4Error) Error() string { return e.Code + ": " + e.Msg }

const maxSkew = 15 * time.Minute

// parseSigV4Auth reads the Authorization header of a SigV4-signed request.
func parseSigV4Auth(h string) (scope sigV4Scope, signed []string, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return scope, nil, "", false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return scope, nil, "", false
			}
			scope = sigV4Scope{AccessKey: f[0], Date: f[1], Region: f[2], Service: f[3]}
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		case "Signature":
			sig = v
		}
	}
	return scope, signed, sig, scope.AccessKey != "" && len(signed) > 0 && sig != ""
}

// sigV4Region returns the region of a signed request, or "" when unsigned.
func sigV4Region(r *http.Request) string {
	scope, _, _, ok := parseSigV4Auth(r.Header.Get("Authorization"))
	if !ok {
		return ""
	}
	return scope.Region
}

// signedRequest is a request whose SigV4 headers have been checked: what is
// left is the signature itself, which covers the body.
type signedRequest struct {
	r       *http.Request
	scope   sigV4Scope
	signed  []string
	sig     string
	amzDate string
}

// checkSigV4Headers checks everything of a SigV4 signature that the headers
// alone decide — present, well formed, our access key, within 15 minutes —
// so that a request failing them is refused before its body is read. With
// creds nil every request passes (the emulator listens on loopback).
func checkSigV4Headers(r *http.Request, creds *front.Credentials, now time.Time) (*signedRequest, error) {
	if creds == nil {
		return nil, nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, &sigV4Error{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	scope, signed, sig, ok := parseSigV4Auth(auth)
	if !ok {
		return nil, &sigV4Error{"IncompleteSignatureException", "Authorization header is not a well-formed AWS4-HMAC-SHA256 signature"}
	}
	if scope.AccessKey != creds.ID {
		return nil, &sigV4Error{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return nil, &sigV4Error{"IncompleteSignatureException", "X-Amz-Date is missing or malformed"}
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return nil, &sigV4Error{"InvalidSignatureException", "Signature expired: " + amzDate + " is more than 15 minutes from the emulator's time " + now.UTC().Format("20060102T150405Z")}
	}
	if !strings.HasPrefix(amzDate, scope.Date) {
		return nil, &sigV4Error{"InvalidSignatureException", "the credential scope date does not match X-Amz-Date"}
	}
	return &signedRequest{r: r, scope: scope, signed: signed, sig: sig, amzDate: amzDate}, nil
}

// awsRegion is the form of an AWS region name (us-east-1, ap-southeast-2,
// us-gov-west-1, eu-central-2 ...).
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// checkScope checks the credential scope as AWS does: signed for this API's
// service and for a region (the date is checked with the headers). AWS
// answers InvalidSignatureException, "Credential should be scoped to correct
// service: 'lambda'." / "... to a valid region" (AWS Signature Version 4,
// "Troubleshooting").
func (q *signedRequest) checkScope(service string) error {
	if q == nil {
		return nil
	}
	if q.scope.Service != service {
		return &sigV4Error{"InvalidSignatureException", "Credential should be scoped to correct service: '" + service + "'."}
	}
	if !awsRegion.MatchString(q.scope.Region) {
		return &sigV4Error{"InvalidSignatureException", "Credential should be scoped to a valid region."}
	}
	return nil
}

// verify checks the signature over the body whose SHA-256 is bodyHash. The
// hash is always the body's own: an X-Amz-Content-Sha256 header must equal
// it (Lambda signs every payload; UNSIGNED-PAYLOAD is S3's, not Lambda's —
// AWS Signature Version 4, "Signing AWS API requests").
func (q *signedRequest) verify(bodyHash []byte, creds *front.Credentials) error {
	if q == nil {
		return nil
	}
	payloadHash := hex.EncodeToString(bodyHash)
	if h := q.r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return &sigV4Error{"InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	creq := strings.Join([]string{
		q.r.Method,
		canonicalURI(q.r),
		canonicalQuery(q.r.URL.Query()),
		canonicalHeaders(q.r, q.signed),
		strings.Join(q.signed, ";"),
		payloadHash,
	}, "\n")
	credScope := strings.Join([]string{q.scope.Date, q.scope.Region, q.scope.Service, "aws4_request"}, "/")
	ch := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + q.amzDate + "\n" + credScope + "\n" + hex.EncodeToString(ch[:])
	key := hmacSHA256([]byte("AWS4"+creds.Key), q.scope.Date)
	key = hmacSHA256(key, q.scope.Region)
	key = hmacSHA256(key, q.scope.Service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(q.sig)) {
		return &sigV4Error{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return nil
}

// verifySigV4 checks a request whose body was read whole.
func verifySigV4(r *http.Request, body []byte, creds *front.Credentials, now time.Time) error {
	q, err := checkSigV4Headers(r, creds, now)
	if err != nil {
		return err
	}
	h := sha256.Sum256(body)
	return q.verify(h[:], creds)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalURI encodes the path the way every AWS service except S3
// expects: the already-escaped path is escaped once more.
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return escape(p, false)
}

// escape percent-encodes everything but RFC 3986 unreserved characters
// (and "/" unless encodeSlash).
func escape(s string, encodeSlash bool) string {
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
			pairs = append(pairs, escape(k, true)+"="+escape(v, true))
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
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

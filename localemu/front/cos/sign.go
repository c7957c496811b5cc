package cos

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/sigv4"
)

// COS's request signature, verified as COS computes it (COS API docs,
// "Request Signature", https://cloud.tencent.com/document/product/436/7778;
// cos-go-sdk-v5 auth.go, newAuthorization):
//
//	KeyTime      = q-key-time ("start;end", Unix seconds)
//	SignKey      = hex(HMAC-SHA1(SecretKey, KeyTime))
//	HttpString   = lower(method) \n path \n params \n headers \n
//	StringToSign = "sha1" \n q-sign-time \n hex(SHA1(HttpString)) \n
//	Signature    = hex(HMAC-SHA1(SignKey, StringToSign))
//
// where params and headers are the signed query parameters and headers as
// key=value pairs joined by &, keys lowercased and URL-encoded, values
// URL-encoded, sorted by key. The path is the decoded request path. The
// signature covers no body, so it is checked from the request line and
// headers alone, before a byte of the body is read.
//
// The emulator is stricter than COS in two ways, both of which every SDK
// request meets: the Host (which names the bucket) must be among the signed
// headers, and every query parameter must be signed (an unsigned one could
// turn a signed GET Object into something else, e.g. ?uploads).

// signParams are the query parameters of a presigned URL's signature itself.
var signParams = []string{"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"}

// signature is a parsed COS signature.
type signature struct {
	Algorithm string
	AK        string
	SignTime  string
	KeyTime   string
	Headers   []string // lowercased names, as listed
	Params    []string
	Signature string
	InQuery   bool // a presigned URL
}

// failure is why a request's signature was refused, as COS answers it.
type failure struct {
	Status int
	Code   string
	Msg    string
}

func accessDenied(format string, a ...any) *failure {
	return &failure{Status: http.StatusForbidden, Code: "AccessDenied", Msg: fmt.Sprintf(format, a...)}
}

// parseSignature reads the signature from the Authorization header or the
// query string; nil when the request carries none.
func parseSignature(r *http.Request) (*signature, *failure) {
	fields := map[string]string{}
	inQuery := false
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		for _, part := range strings.Split(h, "&") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, accessDenied("the Authorization field %q is not key=value", part)
			}
			fields[k] = v
		}
	} else if q := r.URL.Query(); q.Get("q-sign-algorithm") != "" {
		inQuery = true
		for _, k := range signParams {
			fields[k] = q.Get(k)
		}
	} else {
		return nil, nil
	}
	s := &signature{
		Algorithm: fields["q-sign-algorithm"], AK: fields["q-ak"], SignTime: fields["q-sign-time"],
		KeyTime: fields["q-key-time"], Signature: strings.ToLower(fields["q-signature"]), InQuery: inQuery,
	}
	for _, k := range signParams {
		if _, ok := fields[k]; !ok {
			return nil, accessDenied("the signature has no %s", k)
		}
	}
	if s.Algorithm != "sha1" {
		return nil, accessDenied("q-sign-algorithm is %q: COS signs with sha1", s.Algorithm)
	}
	if s.AK == "" || s.Signature == "" {
		return nil, accessDenied("the signature has an empty q-ak or q-signature")
	}
	s.Headers = splitList(fields["q-header-list"])
	s.Params = splitList(fields["q-url-param-list"])
	return s, nil
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	out := strings.Split(v, ";")
	for i := range out {
		out[i] = strings.ToLower(out[i])
	}
	return out
}

// window parses "start;end" and reports whether now is within it.
func window(name, v string, now time.Time) *failure {
	a, b, ok := strings.Cut(v, ";")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || end < start {
		return accessDenied("%s %q is not start;end in Unix seconds", name, v)
	}
	// COS allows a client clock a little ahead; so does the emulator.
	if t := now.Unix(); t < start-int64(maxSkew/time.Second) || t > end {
		return accessDenied("Request has expired (%s %s, now %d)", name, v, t)
	}
	return nil
}

// maxSkew is how far ahead of the emulator's clock a signature may start.
const maxSkew = 15 * time.Minute

// verify checks r's signature against creds at now.
func verify(r *http.Request, creds *front.Credentials, now time.Time) *failure {
	s, f := parseSignature(r)
	if f != nil {
		return f
	}
	if s == nil {
		return accessDenied("Access Denied. The request carries no COS signature (Authorization: q-sign-algorithm=sha1&q-ak=…)")
	}
	if s.AK != creds.ID {
		return &failure{Status: http.StatusForbidden, Code: "InvalidAccessKeyId", Msg: fmt.Sprintf("The Access Key Id %q you provided does not exist in our records.", s.AK)}
	}
	if f := window("q-sign-time", s.SignTime, now); f != nil {
		return f
	}
	if f := window("q-key-time", s.KeyTime, now); f != nil {
		return f
	}
	if !contains(s.Headers, "host") {
		return accessDenied("the signature does not cover the Host header (q-header-list %q), which names the bucket", strings.Join(s.Headers, ";"))
	}
	query := r.URL.Query()
	if s.InQuery {
		for _, k := range signParams {
			query.Del(k)
		}
	}
	params, f := formatParams(query, s.Params)
	if f != nil {
		return f
	}
	headers, f := formatHeaders(r, s.Headers)
	if f != nil {
		return f
	}
	httpString := strings.ToLower(r.Method) + "\n" + r.URL.Path + "\n" + params + "\n" + headers + "\n"
	sum := sha1.Sum([]byte(httpString))
	stringToSign := "sha1\n" + s.SignTime + "\n" + hex.EncodeToString(sum[:]) + "\n"
	signKey := hex.EncodeToString(hmacSHA1([]byte(creds.Key), s.KeyTime))
	want := hex.EncodeToString(hmacSHA1([]byte(signKey), stringToSign))
	if !hmac.Equal([]byte(want), []byte(s.Signature)) {
		return &failure{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch",
			Msg: "The Signature you specified is invalid: check your SecretKey and the signing of " + strconv.Quote(httpString)}
	}
	return nil
}

func hmacSHA1(key []byte, msg string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// formatParams is the signed query string; every parameter must be signed.
func formatParams(q url.Values, signed []string) (string, *failure) {
	var pairs []string
	for k, vs := range q {
		name := strings.ToLower(urlEncode(k))
		if !contains(signed, name) {
			return "", accessDenied("the query parameter %q is not signed (q-url-param-list %q)", k, strings.Join(signed, ";"))
		}
		for _, v := range vs {
			pairs = append(pairs, name+"="+urlEncode(v))
		}
	}
	for _, name := range signed {
		if !q.Has(name) && !hasFold(q, name) {
			return "", accessDenied("the signed query parameter %q is not in the request", name)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&"), nil
}

func hasFold(q url.Values, name string) bool {
	for k := range q {
		if strings.ToLower(urlEncode(k)) == name {
			return true
		}
	}
	return false
}

// formatHeaders is the signed headers' string; each listed header must be
// present.
func formatHeaders(r *http.Request, signed []string) (string, *failure) {
	var pairs []string
	seen := map[string]bool{}
	for _, name := range signed {
		if seen[name] {
			continue // a header of several values is listed once per value
		}
		seen[name] = true
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		case "transfer-encoding":
			values = r.TransferEncoding
		case "content-length":
			if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
				values = vs
			} else if r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			for k, vs := range r.Header {
				if strings.ToLower(urlEncode(k)) == name {
					values = append(values, vs...)
				}
			}
		}
		if len(values) == 0 {
			return "", accessDenied("the signed header %q is not in the request", name)
		}
		for _, v := range values {
			pairs = append(pairs, name+"="+urlEncode(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&"), nil
}

// urlEncode is the SDK's safeURLEncode: RFC 3986 percent-encoding of all but
// the unreserved characters, "/" included, as SigV4 encodes a query.
func urlEncode(s string) string { return sigv4.Escape(s, true) }

package aws

import (
	"net/http"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/sigv4"
)

// Lambda and CloudWatch Logs sign every payload: the hash the signature
// covers is always the body's own (UNSIGNED-PAYLOAD is S3's, not theirs —
// AWS Signature Version 4, "Signing AWS API requests"). The verification
// itself is package sigv4's, shared with the S3 front.

// sigV4Region returns the region of a signed request, or "" when unsigned.
func sigV4Region(r *http.Request) string {
	scope, ok := sigv4.ScopeOf(r)
	if !ok {
		return ""
	}
	return scope.Region
}

// verifySigV4 checks a request whose body was read whole.
func verifySigV4(r *http.Request, body []byte, creds *front.Credentials, now time.Time) error {
	return sigv4.VerifyBody(r, body, creds, now, sigv4.Options{})
}

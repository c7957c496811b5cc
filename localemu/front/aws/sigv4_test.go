package aws

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
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

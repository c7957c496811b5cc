package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/localemu/front"
)

// TestGuardGivesAnotherListenerTheEmulatorsChecks: what Guard refuses
// before its handler runs, answered by the handler's own Refuse.
func TestGuardGivesAnotherListenerTheEmulatorsChecks(t *testing.T) {
	reached := 0
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }), GuardOptions{
		What: "console", AllowedHosts: []string{"proxy.internal"}, AllowFlag: "--allow-host NAME",
		Refuse: func(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
			w.WriteHeader(why.Status())
			fmt.Fprint(w, why.Code()+": "+msg)
		},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		host   string
		header map[string]string
		status int
		says   string
	}{
		{"loopback", "", nil, 200, ""},
		{"an allowed host", "proxy.internal:8080", nil, 200, ""},
		{"a rebound name", "evil.example", nil, 403, `the Host "evil.example" is not this console's`},
		{"another origin", "", map[string]string{"Origin": "http://evil.example"}, 403, "another origin"},
		{"another site", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "another site"},
		{"oversize headers", "", map[string]string{"X-Big": strings.Repeat("a", front.MaxHeaderBytes)}, 431, "exceed"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		before := reached
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s: %d %q, want %d saying %q", tc.name, resp.StatusCode, body, tc.status, tc.says)
		}
		if passed := reached > before; passed != (tc.status == 200) {
			t.Errorf("%s: the handler ran: %v", tc.name, passed)
		}
	}
}

package aws

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
)

// Paging parameters that this API never handed out are refused with a 400
// in the cloud's shape, not a panic and a dropped connection.
func TestBadPagingIsRefused(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, nil, e.Logger()))
	cases := []struct {
		name, method, path, target, body, code string
	}{
		{"ListFunctions Marker=-1", http.MethodGet, "/2015-03-31/functions?Marker=-1", "", "", "InvalidParameterValueException"},
		{"ListFunctions Marker=x", http.MethodGet, "/2015-03-31/functions?Marker=x", "", "", "InvalidParameterValueException"},
		{"ListFunctions MaxItems=0", http.MethodGet, "/2015-03-31/functions?MaxItems=0", "", "", "InvalidParameterValueException"},
		{"DescribeLogGroups nextToken=-1", http.MethodPost, "/", "Logs_20140328.DescribeLogGroups", `{"nextToken":"-1"}`, "InvalidParameterException"},
		{"DescribeLogGroups limit=-5", http.MethodPost, "/", "Logs_20140328.DescribeLogGroups", `{"limit":-5}`, "InvalidParameterException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			code := resp.Header.Get("X-Amzn-ErrorType")
			if c.target != "" {
				code, _ = body["__type"].(string)
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(code, c.code) {
				t.Errorf("%d %q %v, want 400 %s", resp.StatusCode, code, body, c.code)
			}
		})
	}
}

package scf

import (
	"io"
	"net/http"
	goruntime "runtime"
	"testing"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// zeros is a body of max zero bytes that costs no memory to send.
type zeros struct{ n, max int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= z.max {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.max-z.n)
	clear(p[:n])
	z.n += n
	return int(n), nil
}

// A request that fails what its headers alone decide is refused before its
// body is read, and no action reads more than its largest legitimate
// request: a 340 MB body costs the emulator next to nothing, signed or not.
func TestBodiesAreNotBufferedBeforeAuthentication(t *testing.T) {
	for _, c := range []struct {
		name   string
		creds  *front.Credentials
		action string
		// most is what the process may allocate meanwhile: the bound read (as
		// io.ReadAll grows its buffer), with room for the race detector and the
		// package's other tests; reading the 340 MB would take about 700 MB.
		most uint64
	}{
		{"unsigned, with credentials", &front.Credentials{ID: testID, Key: testKey}, "CreateFunction", 32 << 20},
		{"without credentials, a small action", nil, "ListFunctions", 32 << 20},
		{"without credentials, code", nil, "CreateFunction", 8 * codeBody},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := emutest.NewEngine(t, localemu.Options{})
			url := emutest.Serve(t, New(e, c.creds, e.Logger()))
			var before, after goruntime.MemStats
			goruntime.ReadMemStats(&before)
			req, _ := http.NewRequest(http.MethodPost, url+"/", &zeros{max: 340 << 20})
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-TC-Action", c.action)
			req.Header.Set("X-TC-Version", apiVersion)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close() // an error is the server closing on the unread body: refused too
			}
			goruntime.ReadMemStats(&after)
			if grown := after.TotalAlloc - before.TotalAlloc; grown > c.most {
				t.Errorf("a 340 MB POST / allocated %d MB", grown>>20)
			}
		})
	}
}

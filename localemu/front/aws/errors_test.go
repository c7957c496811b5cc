package aws

import (
	"net/http"
	"testing"

	"github.com/asyncfn/asyncfn/localemu"
)

// Every kind of engine error has an answer of its own; only an internal
// error is answered as one.
func TestEveryEngineErrorKindHasAnAnswer(t *testing.T) {
	for _, k := range localemu.Kinds() {
		status, code := wireError(k)
		if internal := status == http.StatusInternalServerError; internal != (k == localemu.KindInternal) {
			t.Errorf("%s is answered %d %s", k, status, code)
		}
	}
}

package scf

import (
	"testing"

	"github.com/asyncfn/asyncfn/localemu"
)

// Every kind of engine error has a code of its own; only an internal error
// (and a request cut short, which SCF reports the same way) is InternalError.
func TestEveryEngineErrorKindHasAnAnswer(t *testing.T) {
	for _, k := range localemu.Kinds() {
		code := wireError(k)
		internal := k == localemu.KindInternal || k == localemu.KindCanceled
		if (code == "InternalError") != internal {
			t.Errorf("%s is answered %s", k, code)
		}
	}
}

package localemu

import (
	"testing"

	"github.com/asyncfn/asyncfn/event"
)

func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		status  event.Status
		errType string
		want    Outcome
		reuse   bool
		retry   bool
	}{
		{event.Succeeded, "", OutcomeSucceeded, true, false},
		{event.Failed, "Error", OutcomeHandledError, true, true},
		{event.Failed, "Runtime.ExitError", OutcomeCrashed, false, true},
		{event.Failed, "Runtime.StartError", OutcomeCrashed, false, true},
		{event.TimedOut, "Sandbox.Timedout", OutcomeTimedOut, false, true},
		{event.Failed, ErrTypeOutOfMemory, OutcomeOutOfMemory, false, true},
		{event.Terminated, ErrTypeTerminated, OutcomeTerminated, false, false},
		{event.Failed, ErrTypeEventAge, OutcomeEventAge, false, false},
		{event.Failed, ErrTypeRestarted, OutcomeInterrupted, false, true},
		{event.Failed, ErrTypeStopped, OutcomeInterrupted, false, true},
		{event.Failed, ErrTypeFunctionRemoved, OutcomeRemoved, false, false},
	}
	for _, c := range cases {
		got := OutcomeOf(c.status, c.errType)
		if got != c.want || got.ReusesInstance() != c.reuse || got.Retryable() != c.retry {
			t.Errorf("%s %q: %d (reuse %v, retry %v), want %d (reuse %v, retry %v)", c.status, c.errType,
				got, got.ReusesInstance(), got.Retryable(), c.want, c.reuse, c.retry)
		}
	}
}

package aws

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

const fnARN = "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-a"

func TestExecutionNameAndID(t *testing.T) {
	for _, tc := range []struct {
		arn, name, id string
		ok            bool
	}{
		{fnARN + ":$LATEST/durable-execution/6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab/6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab",
			"6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab", "6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab", true},
		{fnARN + ":7/durable-execution/order-1/abc", "order-1", "abc", true},
		{fnARN + ":$LATEST/durable-execution/order-1", "", "", false},
		{"6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab", "", "", false},
		{"", "", "", false},
	} {
		name, id, ok := executionNameAndID(tc.arn)
		if name != tc.name || id != tc.id || ok != tc.ok {
			t.Errorf("executionNameAndID(%q) = %q, %q, %v; want %q, %q, %v", tc.arn, name, id, ok, tc.name, tc.id, tc.ok)
		}
	}
	if got := requestIDOf(fnARN + ":$LATEST/durable-execution/order-1/abc"); got != "abc" {
		t.Errorf("requestIDOf = %q", got)
	}
}

func TestDestinationARN(t *testing.T) {
	p := &Provider{svc: &spec.Service{Functions: []spec.Function{{Name: "a", DeployedName: "svc-dev-a"}, {Name: "notify", DeployedName: "svc-dev-notify"}}}}
	for _, tc := range []struct{ target, fnARN, want string }{
		{"notify", fnARN, "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-notify"},
		{"notify", "arn:aws-cn:lambda:cn-north-1:000000000000:function:svc-dev-a", "arn:aws-cn:lambda:cn-north-1:000000000000:function:svc-dev-notify"},
		{"arn:aws:sqs:eu-west-1:123456789012:dlq", fnARN, "arn:aws:sqs:eu-west-1:123456789012:dlq"}, // an ARN passes through
		{"elsewhere", fnARN, "elsewhere"},  // not a function of the service
		{"notify", "not-an-arn", "notify"}, // no region/account to take
	} {
		if got := p.destinationARN(tc.target, tc.fnARN); got != tc.want {
			t.Errorf("destinationARN(%q, %q) = %q, want %q", tc.target, tc.fnARN, got, tc.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://127.0.0.1:9770": true, "http://localhost:9770": true, "http://[::1]:9770": true, "http://127.0.0.2": true,
		"https://lambda.us-east-1.amazonaws.com": false, "http://10.0.0.1:9770": false, "::bad": false, "": false,
	} {
		if got := isLoopback(endpoint); got != want {
			t.Errorf("isLoopback(%q) = %v", endpoint, got)
		}
	}
}

func TestDurableStatus(t *testing.T) {
	for in, want := range map[types.ExecutionStatus]event.Status{
		types.ExecutionStatusRunning: event.Running, types.ExecutionStatusSucceeded: event.Succeeded, types.ExecutionStatusFailed: event.Failed,
		types.ExecutionStatusTimedOut: event.TimedOut, types.ExecutionStatusStopped: event.Terminated, "SOMETHING_NEW": event.Running,
	} {
		if got := durableStatus(in); got != want {
			t.Errorf("durableStatus(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestToDurableStatuses(t *testing.T) {
	for _, tc := range []struct {
		in   []event.Status
		want []types.ExecutionStatus
	}{
		{nil, nil},
		{[]event.Status{event.Queued, event.Running}, []types.ExecutionStatus{types.ExecutionStatusRunning}}, // both are RUNNING
		{[]event.Status{event.Terminated, event.Failed, event.Terminated}, []types.ExecutionStatus{types.ExecutionStatusStopped, types.ExecutionStatusFailed}},
	} {
		if got := toDurableStatuses(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("toDurableStatuses(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

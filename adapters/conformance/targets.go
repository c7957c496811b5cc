package conformance

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/adapters/tencent"
	"github.com/asyncfn/asyncfn/spec"
)

// The one way to build each target: the provider pointed at the emulator at
// url (StartEmulator's, or a running `asyncfn local start`), with nothing
// read from the developer's environment, so a run is the same on every
// machine. Each target's Name differs, so all three may share one emulator.

// NoEnv is a Getenv that finds nothing: no credentials, no profile, no
// region from the environment.
func NoEnv(string) (string, bool) { return "", false }

// Local is the local adapter: the emulator's native JSON API (/v1/).
func Local(url string) Target {
	return Target{Name: "local", Provider: "tencent", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		p, err := local.New(url, svc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}}
}

// Tencent is the tencent adapter (the official Go SDK) against the
// emulator's SCF API 3.0 front. With no credentials in its environment the
// adapter signs with placeholders, which an emulator started without
// credentials accepts.
func Tencent(url string) Target {
	return Target{Name: "tencent", Provider: "tencent", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		p, err := tencent.New(svc, tencent.Options{Endpoint: url, Progress: io.Discard, PollInterval: 200 * time.Millisecond, Getenv: NoEnv})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}}
}

// AWS is the aws adapter (the AWS SDK for Go) against the emulator's Lambda
// and CloudWatch Logs fronts, on a loopback endpoint without credentials,
// with plain functions: their async events are known from their log lines.
func AWS(url string) Target {
	return awsTarget("aws", url, false)
}

// AWSDurable is AWS with every function declared with durableConfig: their
// async invokes are durable executions, listed, read and stopped through
// Lambda's durable-execution API.
func AWSDurable(url string) Target {
	return awsTarget("aws-durable", url, true)
}

func awsTarget(name, url string, durable bool) Target {
	return Target{Name: name, Provider: "aws", Durable: durable, FromLogs: !durable, New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		svc.Provider.Role = "arn:aws:iam::000000000000:role/conformance"
		p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: url, Progress: io.Discard, Getenv: NoEnv, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}}
}

// The real clouds. These targets use the developer's own credentials and
// create (and at the end remove) real functions, so they run only when asked
// (see Cloud). Each run names its functions afresh, so runs never meet.

// Cloud reads the opt-in environment of the real-cloud runs:
//
//	ASYNCFN_CONFORMANCE_AWS_ROLE    an IAM role ARN Lambda can assume: runs the
//	                                suite against AWS Lambda, with credentials
//	                                and region (AWS_REGION, default us-east-1)
//	                                found as the AWS CLI finds them
//	ASYNCFN_CONFORMANCE_TENCENT=1   runs the suite against Tencent SCF, with
//	                                TENCENTCLOUD_SECRET_ID / _KEY (or the
//	                                Framework's credentials file) and
//	                                TENCENTCLOUD_REGION (default ap-guangzhou)
//
// It skips the test when the variable it needs is not set.
func Cloud(t *testing.T, provider string) (setting string) {
	t.Helper()
	key := map[string]string{"aws": "ASYNCFN_CONFORMANCE_AWS_ROLE", "tencent": "ASYNCFN_CONFORMANCE_TENCENT"}[provider]
	v := os.Getenv(key)
	if v == "" {
		t.Skipf("set %s to run the conformance suite against the real %s cloud (it creates and removes functions)", key, provider)
	}
	return v
}

// runID names one run's functions: short, a letter first, unique enough
// that two runs in one account never share a function.
func runID() string {
	return fmt.Sprintf("r%x", time.Now().UnixNano()/int64(time.Millisecond)%0xffffff)
}

// AWSCloud is the aws adapter against AWS Lambda itself: plain functions,
// or durable ones.
func AWSCloud(role string, durable bool) Target {
	name := "aws-" + runID()
	if durable {
		name = "awsd-" + name[len("aws-"):]
	}
	region := os.Getenv("AWS_REGION")
	return Target{Name: name, Provider: "aws", Durable: durable, FromLogs: !durable, Patience: 8 * time.Minute, Region: region,
		New: func(t *testing.T, svc *spec.Service) adapters.Provider {
			svc.Provider.Role = role
			p, err := aws.New(context.Background(), svc, aws.Options{Progress: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}}
}

// TencentCloud is the tencent adapter against Tencent SCF itself.
func TencentCloud() Target {
	return Target{Name: "scf-" + runID(), Provider: "tencent", Patience: 8 * time.Minute, Region: os.Getenv("TENCENTCLOUD_REGION"),
		New: func(t *testing.T, svc *spec.Service) adapters.Provider {
			p, err := tencent.New(svc, tencent.Options{Progress: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}}
}

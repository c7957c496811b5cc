// Command lambdabootstrap is a provided.al2 bootstrap built with aws-lambda-go,
// used by the runtime package's tests to prove such a binary runs unchanged.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type input struct {
	Name    string `json:"name"`
	Fail    bool   `json:"fail"`
	Flood   int    `json:"flood"`   // print this many lines as fast as possible first
	SleepMs int    `json:"sleepMs"` // then sleep this long
}

type output struct {
	Greeting     string `json:"greeting"`
	FunctionName string `json:"functionName"`
	RequestID    string `json:"requestId"`
	ARN          string `json:"arn"`
	RemainingMs  int64  `json:"remainingMs"`
	PID          int    `json:"pid"`
	Custom       string `json:"custom"`
}

func handle(ctx context.Context, in input) (output, error) {
	if in.Fail {
		return output{}, errors.New("asked to fail")
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	remaining := time.Until(deadline).Milliseconds()
	for i := range in.Flood {
		fmt.Printf("flood %d %s\n", i, floodPad)
	}
	time.Sleep(time.Duration(in.SleepMs) * time.Millisecond)
	fmt.Println("hello from go", in.Name)
	return output{
		Greeting:     "hello " + in.Name,
		FunctionName: lambdacontext.FunctionName,
		RequestID:    lc.AwsRequestID,
		ARN:          lc.InvokedFunctionArn,
		RemainingMs:  remaining,
		PID:          os.Getpid(),
		Custom:       os.Getenv("CUSTOM_VAR"),
	}, nil
}

const floodPad = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

func main() {
	// INIT_SLEEP_MS simulates a slow cold start (initialisation before the
	// runtime asks for its first invocation).
	if ms, err := strconv.Atoi(os.Getenv("INIT_SLEEP_MS")); err == nil {
		fmt.Println("initialising for", ms, "ms")
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	lambda.Start(handle)
}

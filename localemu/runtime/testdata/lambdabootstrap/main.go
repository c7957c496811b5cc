// Command lambdabootstrap is a provided.al2 bootstrap built with aws-lambda-go,
// used by the runtime package's tests to prove such a binary runs unchanged.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type input struct {
	Name string `json:"name"`
	Fail bool   `json:"fail"`
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
	fmt.Println("hello from go", in.Name)
	return output{
		Greeting:     "hello " + in.Name,
		FunctionName: lambdacontext.FunctionName,
		RequestID:    lc.AwsRequestID,
		ARN:          lc.InvokedFunctionArn,
		RemainingMs:  time.Until(deadline).Milliseconds(),
		PID:          os.Getpid(),
		Custom:       os.Getenv("CUSTOM_VAR"),
	}, nil
}

func main() { lambda.Start(handle) }

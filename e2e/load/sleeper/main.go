// Command sleeper is a minimal Lambda function for the emulator's load
// program (e2e/load, -mode running): a provided.al2 bootstrap built with
// github.com/aws/aws-lambda-go that sleeps for the payload's sleepMs and
// returns. It is much lighter than a Node.js or Python instance (a few MB of
// RSS), so a thousand of them fit in memory at once.
//
//	CGO_ENABLED=0 go build -o bootstrap ./e2e/load/sleeper
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	SleepMs int64 `json:"sleepMs"`
}

type response struct {
	SleptMs int64 `json:"sleptMs"`
}

func handle(ctx context.Context, req request) (response, error) {
	if req.SleepMs <= 0 {
		return response{}, nil
	}
	t := time.NewTimer(time.Duration(req.SleepMs) * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return response{SleptMs: time.Since(start).Milliseconds()}, nil
}

func main() { lambda.Start(handle) }

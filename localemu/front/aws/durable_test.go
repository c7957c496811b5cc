package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/asyncfn/asyncfn/localemu/emutest"
)

// TestPlainAndDurableFunctions: only a function created with a DurableConfig
// is durable, as in Lambda. It must be invoked qualified; its async invokes
// are durable executions whose ARN carries the qualifier and the execution
// name, and only that whole ARN finds one. A plain function reports no
// DurableConfig, starts no execution, and cannot become durable later.
// Every refusal is the one Lambda gives, through the SDK's own error types.
func TestPlainAndDurableFunctions(t *testing.T) {
	url := awsTestServer(t)
	c := lambdaClient(url, awsTestKeyID, awsTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	zip := emutest.CodeZip(t)
	role := aws.String("arn:aws:iam::000000000000:role/test")
	create := func(name string, d *types.DurableConfig) error {
		_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: role, Runtime: types.RuntimeNodejs18x,
			Handler: aws.String("index.ok"), Code: &types.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(30), DurableConfig: d})
		return err
	}

	// CreateFunction: ExecutionTimeout is required, and both settings have
	// their documented ranges.
	for _, bad := range []*types.DurableConfig{
		{},
		{RetentionPeriodInDays: aws.Int32(7)},
		{ExecutionTimeout: aws.Int32(31622401)},
		{ExecutionTimeout: aws.Int32(60), RetentionPeriodInDays: aws.Int32(91)},
	} {
		wantAPIError(t, create("bad", bad), "InvalidParameterValueException")
	}
	_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("small"), Role: role, Runtime: types.RuntimeNodejs18x,
		Handler: aws.String("index.ok"), Code: &types.FunctionCode{ZipFile: zip}, MemorySize: aws.Int32(64)})
	wantAPIError(t, err, "InvalidParameterValueException") // Lambda's minimum is 128 MB
	if err := create("plain", nil); err != nil {
		t.Fatal(err)
	}
	if err := create("durable", &types.DurableConfig{ExecutionTimeout: aws.Int32(3600), RetentionPeriodInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	plain, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("plain")})
	if err != nil || plain.DurableConfig != nil {
		t.Fatalf("a plain function reports DurableConfig %+v (%v)", plain.DurableConfig, err)
	}

	// DurableConfig is set when a function is created, never added later;
	// a durable function's settings may change.
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("plain"), MemorySize: aws.Int32(10241)})
	wantAPIError(t, err, "InvalidParameterValueException")
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("plain"),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(3600)}})
	wantAPIError(t, err, "InvalidParameterValueException")
	if !strings.Contains(err.Error(), "only be set when a function is created") {
		t.Errorf("enabling durable execution on an existing function: %v", err)
	}
	up, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("durable"),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(7200), RetentionPeriodInDays: aws.Int32(30)}})
	if err != nil || aws.ToInt32(up.DurableConfig.ExecutionTimeout) != 7200 || aws.ToInt32(up.DurableConfig.RetentionPeriodInDays) != 30 {
		t.Fatalf("updating a durable function's settings: %+v %v", up, err)
	}

	// Invoke: a durable function only qualified; the emulator's one
	// version is $LATEST, so any other qualifier names no function.
	event := func(name, qualifier, executionName string) (*lambda.InvokeOutput, error) {
		in := &lambda.InvokeInput{FunctionName: aws.String(name), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"ms":1}`)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		if executionName != "" {
			in.DurableExecutionName = aws.String(executionName)
		}
		return c.Invoke(ctx, in)
	}
	_, err = event("durable", "", "")
	wantAPIError(t, err, "InvalidParameterValueException")
	if !strings.Contains(err.Error(), "You cannot invoke a durable function using an unqualified ARN") {
		t.Errorf("unqualified invoke of a durable function: %v", err)
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("durable"), Payload: []byte(`{}`)})
	wantAPIError(t, err, "InvalidParameterValueException") // synchronous too
	_, err = event("durable", "7", "")
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = event("plain", "prod", "")
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = event("plain", "", "job")
	wantAPIError(t, err, "InvalidParameterValueException") // an execution name is for durable functions

	out, err := event("plain", "", "")
	if err != nil || out.DurableExecutionArn != nil || out.StatusCode != 202 {
		t.Fatalf("async invoke of a plain function: %+v %v; want 202 and no execution", out, err)
	}
	if out, err = event("plain", "$LATEST", ""); err != nil || out.DurableExecutionArn != nil {
		t.Fatalf("qualified async invoke of a plain function: %+v %v", out, err)
	}
	out, err = event("durable", "$LATEST", "")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	arn := aws.ToString(out.DurableExecutionArn)
	want := "arn:aws:lambda:eu-west-1:000000000000:function:durable:$LATEST/durable-execution/" + id + "/" + id
	if arn != want {
		t.Fatalf("execution ARN %q, want %q", arn, want)
	}
	named, err := event("durable", "$LATEST", "nightly-7")
	if err != nil {
		t.Fatal(err)
	}
	namedID, _ := awsmiddleware.GetRequestIDMetadata(named.ResultMetadata)
	namedARN := aws.ToString(named.DurableExecutionArn)
	if !strings.HasSuffix(namedARN, ":function:durable:$LATEST/durable-execution/nightly-7/"+namedID) {
		t.Fatalf("named execution ARN %q", namedARN)
	}

	// The whole ARN finds the execution; one that differs anywhere does not.
	for _, a := range []string{arn, namedARN} {
		ex, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(a)})
		if err != nil || aws.ToString(ex.DurableExecutionArn) != a || aws.ToString(ex.FunctionArn) != "arn:aws:lambda:eu-west-1:000000000000:function:durable:$LATEST" {
			t.Fatalf("get %s: %+v %v", a, ex, err)
		}
	}
	for _, a := range []string{
		strings.Replace(arn, "eu-west-1", "us-east-1", 1),
		strings.Replace(arn, "000000000000", "111111111111", 1),
		strings.Replace(arn, ":$LATEST/", ":1/", 1),
		strings.Replace(namedARN, "/nightly-7/", "/nightly-8/", 1),
		strings.Replace(namedARN, "/nightly-7/", "/"+namedID+"/", 1),
		strings.Replace(arn, ":function:durable:", ":function:plain:", 1),
	} {
		_, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(a)})
		wantAPIError(t, err, "ResourceNotFoundException")
		_, err = c.StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(a)})
		wantAPIError(t, err, "ResourceNotFoundException")
	}

	// A plain function has no durable executions.
	xs, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("plain")})
	if err != nil || len(xs.DurableExecutions) != 0 {
		t.Fatalf("executions of a plain function: %+v %v", xs, err)
	}
	xs, err = c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("durable")})
	if err != nil || len(xs.DurableExecutions) != 2 {
		t.Fatalf("executions of the durable function: %+v %v", xs, err)
	}
}

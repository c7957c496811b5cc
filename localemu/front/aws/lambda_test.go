package aws

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
)

const (
	awsTestKeyID  = "AKIDASYNCFNTEST"
	awsTestSecret = "emulator-secret"
)

// awsTestServer runs the fronts with strict credentials.
func awsTestServer(t *testing.T) string {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	ts := httptest.NewServer(emutest.Handler(New(e, &front.Credentials{ID: awsTestKeyID, Key: awsTestSecret}, e.Logger())))
	t.Cleanup(func() {
		ts.Close()
		emutest.CloseEngine(t, e)
	})
	return ts.URL
}

func awsConfig(id, secret string) aws.Config {
	return aws.Config{Region: "eu-west-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
	}), RetryMaxAttempts: 1}
}

func lambdaClient(url, id, secret string) *lambda.Client {
	return lambda.NewFromConfig(awsConfig(id, secret), func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
}

func logsClient(url string) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, awsTestSecret), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) })
}

// wantAPIError checks the error code the SDK parsed and returns the error.
func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var coded interface{ ErrorCode() string }
	if !errors.As(err, &coded) || coded.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func TestLambdaFrontWithSDK(t *testing.T) {
	emutest.NeedNode(t)
	url := awsTestServer(t)
	c := lambdaClient(url, awsTestKeyID, awsTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	zip := emutest.CodeZip(t)
	role := aws.String("arn:aws:iam::000000000000:role/test")

	// CreateFunction, and its conflict. "ok" is durable: it is invoked
	// qualified, and its async invokes are durable executions.
	created, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("ok"), Role: role, Runtime: types.RuntimeNodejs18x,
		Handler: aws.String("index.ok"), Code: &types.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(30),
		Environment: &types.Environment{Variables: map[string]string{"A": "1"}}, DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(3600)}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(created.FunctionArn) != "arn:aws:lambda:eu-west-1:000000000000:function:ok" || created.State != types.StateActive {
		t.Errorf("created %s state %s", aws.ToString(created.FunctionArn), created.State)
	}
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("ok"), Role: role, Runtime: types.RuntimeNodejs18x,
		Handler: aws.String("index.ok"), Code: &types.FunctionCode{ZipFile: zip}})
	wantAPIError(t, err, "ResourceConflictException")
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("conflict is not a *types.ResourceConflictException: %T", err)
	}
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("fail"), Role: role, Runtime: types.RuntimeNodejs18x,
		Handler: aws.String("index.fail"), Code: &types.FunctionCode{ZipFile: zip}}); err != nil {
		t.Fatal(err)
	}

	// Get, GetConfiguration, List; the SDK's waiters accept the answers.
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ok")}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	conf, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("ok")})
	if err != nil {
		t.Fatal(err)
	}
	if conf.State != types.StateActive || conf.LastUpdateStatus != types.LastUpdateStatusSuccessful || conf.Environment.Variables["A"] != "1" {
		t.Errorf("configuration: %s %s %v", conf.State, conf.LastUpdateStatus, conf.Environment)
	}
	if d := conf.DurableConfig; d == nil || aws.ToInt32(d.ExecutionTimeout) != 3600 || aws.ToInt32(d.RetentionPeriodInDays) != 14 {
		t.Errorf("durable configuration: %+v, want ExecutionTimeout 3600 and the default retention of 14 days", d)
	}
	list, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("not found is not a *types.ResourceNotFoundException: %T", err)
	}

	// Updates, concurrency, event invoke config.
	if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("ok"), ZipFile: zip}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("ok"), MemorySize: aws.Int32(256)}); err != nil {
		t.Fatal(err)
	}
	if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ok")}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("ok"), ReservedConcurrentExecutions: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ok")})
	if err != nil || aws.ToInt32(got.Concurrency.ReservedConcurrentExecutions) != 3 || aws.ToInt32(got.Configuration.MemorySize) != 256 {
		t.Fatalf("after updates: %+v %v", got, err)
	}
	_, err = c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("fail")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("fail"), MaximumRetryAttempts: aws.Int32(5)})
	wantAPIError(t, err, "InvalidParameterValueException")
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("fail"), MaximumRetryAttempts: aws.Int32(0),
		MaximumEventAgeInSeconds: aws.Int32(600), DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: created.FunctionArn}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("fail"), MaximumEventAgeInSeconds: aws.Int32(900)}); err != nil {
		t.Fatal(err)
	}
	eic, err := c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("fail")})
	if err != nil || aws.ToInt32(eic.MaximumRetryAttempts) != 0 || aws.ToInt32(eic.MaximumEventAgeInSeconds) != 900 ||
		aws.ToString(eic.DestinationConfig.OnFailure.Destination) != aws.ToString(created.FunctionArn) {
		t.Fatalf("event invoke config: %+v %v", eic, err)
	}

	// Invoke: RequestResponse with the log tail, a function error, DryRun, Event.
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), Qualifier: aws.String("$LATEST"), Payload: []byte(`{"x":1}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	logTail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if out.StatusCode != 200 || !bytes.Contains(out.Payload, []byte(`"x":1`)) || aws.ToString(out.ExecutedVersion) != "$LATEST" ||
		!strings.Contains(string(logTail), "START RequestId:") || !strings.Contains(string(logTail), "\tINFO\tworking on ") {
		t.Errorf("sync invoke: %d %s %q", out.StatusCode, out.Payload, logTail)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fail"), Payload: []byte(`{"file":"a.mp4"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var fe struct{ ErrorType, ErrorMessage string }
	_ = json.Unmarshal(out.Payload, &fe)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(fe.ErrorMessage, "a.mp4") {
		t.Errorf("function error: %v %s", out.FunctionError, out.Payload)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), Qualifier: aws.String("$LATEST"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Fatalf("dry run: %v %v", out, err)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), Qualifier: aws.String("$LATEST"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"ms":3000}`), DurableExecutionName: aws.String("job-1")})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	arn := aws.ToString(out.DurableExecutionArn)
	if out.StatusCode != 202 || len(out.Payload) != 0 || len(id) != 36 || !strings.HasSuffix(arn, ":$LATEST/durable-execution/job-1/"+id) {
		t.Fatalf("event invoke: %d %q id %q arn %q", out.StatusCode, out.Payload, id, arn)
	}
	again, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), Qualifier: aws.String("$LATEST"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"ms":3000}`), DurableExecutionName: aws.String("job-1")})
	if err != nil || aws.ToString(again.DurableExecutionArn) != arn {
		t.Errorf("a second start of job-1 gave %v, %v; want the same execution", again.DurableExecutionArn, err)
	}

	// Payload limits: 1 MB async, 6 MB sync.
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), Qualifier: aws.String("$LATEST"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"x":"` + strings.Repeat("a", 1<<20) + `"}`)})
	wantAPIError(t, err, "RequestTooLargeException")
	var tooLarge *types.RequestTooLargeException
	if !errors.As(err, &tooLarge) {
		t.Errorf("too large is not a *types.RequestTooLargeException: %T", err)
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), Qualifier: aws.String("$LATEST"), Payload: []byte(`{"x":"` + strings.Repeat("a", 6<<20) + `"}`)})
	wantAPIError(t, err, "RequestTooLargeException")
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("nope"), InvocationType: types.InvocationTypeEvent})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Durable executions: list, get, stop.
	ex, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil || ex.Status != types.ExecutionStatusRunning || aws.ToString(ex.DurableExecutionName) != "job-1" || ex.StartTimestamp == nil {
		t.Fatalf("get execution: %+v %v", ex, err)
	}
	xs, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("ok"),
		Statuses: []types.ExecutionStatus{types.ExecutionStatusRunning}, StartedAfter: aws.Time(time.Now().Add(-time.Minute)), ReverseOrder: aws.Bool(true), MaxItems: 10})
	if err != nil || len(xs.DurableExecutions) != 1 || aws.ToString(xs.DurableExecutions[0].DurableExecutionArn) != arn {
		t.Fatalf("list executions: %+v %v", xs, err)
	}
	none, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("ok"),
		Statuses: []types.ExecutionStatus{types.ExecutionStatusSucceeded}})
	if err != nil || len(none.DurableExecutions) != 0 {
		t.Fatalf("list SUCCEEDED executions: %+v %v (sync invokes are not executions)", none, err)
	}
	waitFor(t, func() bool {
		l, _ := logsClient(url).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/ok"), FilterPattern: aws.String(`"working on ` + id + `"`)})
		return l != nil && len(l.Events) == 1
	})
	stop, err := c.StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil || stop.StopTimestamp == nil {
		t.Fatalf("stop: %v %v", stop, err)
	}
	ex, err = c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil || ex.Status != types.ExecutionStatusStopped || ex.EndTimestamp == nil {
		t.Fatalf("after stop: %+v %v", ex, err)
	}
	_, err = c.StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	wantAPIError(t, err, "InvalidParameterValueException")
	_, err = c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(strings.Replace(arn, id, "6f1d1f5e-0000-4000-8000-000000000000", 1))})
	wantAPIError(t, err, "ResourceNotFoundException")

	// CloudWatch Logs.
	testCloudWatchLogs(t, ctx, logsClient(url), id)

	// Delete.
	if _, err := c.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("fail")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fail")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fail")})
	wantAPIError(t, err, "ResourceNotFoundException")
}

func testCloudWatchLogs(t *testing.T, ctx context.Context, cw *cloudwatchlogs.Client, id string) {
	t.Helper()
	groups, err := cw.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/o")})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].LogGroupName) != "/aws/lambda/ok" {
		t.Fatalf("log groups: %+v %v", groups, err)
	}
	streams, err := cw.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/lambda/ok")})
	if err != nil || len(streams.LogStreams) == 0 || !strings.Contains(aws.ToString(streams.LogStreams[0].LogStreamName), "[$LATEST]") {
		t.Fatalf("log streams: %+v %v", streams, err)
	}
	evs, err := cw.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/ok"),
		LogStreamName: streams.LogStreams[0].LogStreamName, StartFromHead: aws.Bool(true), Limit: aws.Int32(2)})
	if err != nil || len(evs.Events) != 2 || !strings.HasPrefix(aws.ToString(evs.Events[0].Message), "START RequestId: ") {
		t.Fatalf("get log events: %+v %v", evs, err)
	}
	next, err := cw.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/ok"),
		LogStreamName: streams.LogStreams[0].LogStreamName, NextToken: evs.NextForwardToken})
	if err != nil || len(next.Events) == 0 || aws.ToInt64(next.Events[0].Timestamp) < aws.ToInt64(evs.Events[1].Timestamp) {
		t.Fatalf("next page of log events: %+v %v", next, err)
	}
	// The quoted request id selects one event's lines, paged by nextToken.
	var lines []cwtypes.FilteredLogEvent
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/ok"), FilterPattern: aws.String(`"` + id + `"`), Limit: aws.Int32(1),
		StartTime: aws.Int64(time.Now().Add(-time.Minute).UnixMilli()), EndTime: aws.Int64(time.Now().Add(time.Minute).UnixMilli())}
	for {
		page, err := cw.FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, page.Events...)
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	var texts []string
	for _, l := range lines {
		texts = append(texts, aws.ToString(l.Message))
		if !strings.Contains(aws.ToString(l.Message), id) {
			t.Errorf("line of another event: %q", aws.ToString(l.Message))
		}
	}
	joined := strings.Join(texts, "")
	for _, want := range []string{"START RequestId: " + id, "\t" + id + "\tINFO\tworking on " + id + "\n", "END RequestId: " + id, "REPORT RequestId: " + id} {
		if !strings.Contains(joined, want) {
			t.Errorf("filtered lines lack %q:\n%s", want, joined)
		}
	}
	_, err = cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/nope")})
	wantAPIError(t, err, "ResourceNotFoundException")
	var nf *cwtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("not a *cwtypes.ResourceNotFoundException: %T", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLambdaFrontRejectsBadSignatures(t *testing.T) {
	url := awsTestServer(t)
	ctx := context.Background()
	_, err := lambdaClient(url, awsTestKeyID, "wrong-secret").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	wantAPIError(t, err, "InvalidSignatureException")
	var status interface{ HTTPStatusCode() int }
	if !errors.As(err, &status) || status.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("wrong key: %v, want HTTP 403", err)
	}
	_, err = lambdaClient(url, "AKIDUNKNOWN", awsTestSecret).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	wantAPIError(t, err, "UnrecognizedClientException")
	_, err = cloudwatchlogs.NewFromConfig(awsConfig(awsTestKeyID, "wrong-secret"), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) }).
		DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	wantAPIError(t, err, "InvalidSignatureException")
	// The right key passes, also for a path with escaped characters.
	_, err = lambdaClient(url, awsTestKeyID, awsTestSecret).GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{
		DurableExecutionArn: aws.String("arn:aws:lambda:eu-west-1:000000000000:function:f:$LATEST/durable-execution/n/6f1d1f5e-0000-4000-8000-000000000000")})
	wantAPIError(t, err, "ResourceNotFoundException")
	// Unsigned requests are refused.
	resp, err := http.Get(url + "/2015-03-31/functions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestAWSRootRouting: POST / with X-Amz-Target is CloudWatch Logs; other
// POST / requests are left to the other fronts.
func TestAWSRootRouting(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	defer emutest.CloseEngine(t, e)
	h := emutest.Handler(New(e, nil, e.Logger()))
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"logGroups":[]`) {
		t.Errorf("CloudWatch Logs: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("unserved operation: %d %s", rec.Code, rec.Body)
	}
}

func FuzzCWFilterPattern(f *testing.F) {
	for _, s := range []string{`"6f1d1f5e-0000-4000-8000-000000000000"`, `ERROR`, `"a b" c`, `"unterminated`, `{ $.x = 1 }`, `[a, b]`, ``, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseCWPattern(s)
		if err != nil {
			return
		}
		for _, term := range p.terms {
			if term == "" {
				t.Fatalf("empty term from %q", s)
			}
		}
		_ = p.match(s)
	})
}

func FuzzExecutionARN(f *testing.F) {
	for _, s := range []string{"arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST/durable-execution/n/id", "/durable-execution/", "x", "arn:a:function:/durable-execution//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fn, id, ok := parseExecutionARN(s)
		if ok && (fn == "" || id == "" || strings.Contains(id, "/")) {
			t.Fatalf("%q -> %q %q", s, fn, id)
		}
	})
}

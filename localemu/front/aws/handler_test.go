package aws

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// malformedCase is one malformed request and the error it is answered with.
type malformedCase struct {
	name         string
	method, path string
	target       string // X-Amz-Target: a CloudWatch Logs request (JSON 1.1)
	header       []string
	body         string
	status       int
	code         string
}

// TestEveryRouteAnswersMalformedInputInItsShape: bad JSON, bad query
// parameters and headers, unknown functions, log groups and executions are
// answered by every route with the status and code Lambda (or CloudWatch
// Logs) gives, in the route's wire shape — REST: x-amzn-ErrorType and
// {"Type","message"}; JSON 1.1: {"__type","message"} — with a request id.
func TestEveryRouteAnswersMalformedInputInItsShape(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	f := New(e, nil, e.Logger())
	base := emutest.Serve(t, f)
	ctx := context.Background()
	cfg := localemu.FunctionConfig{Name: "fn", Provider: cloud.AWS, Region: "eu-west-1", Runtime: "nodejs18.x", Handler: "index.ok", Timeout: 30, MemorySize: 128,
		Async: nativeapi.AsyncConfig{Durable: &nativeapi.DurableConfig{ExecutionTimeout: 3600}}} // durable: its events are executions
	if _, err := e.Deploy(ctx, cfg, emutest.CodeZip(t)); err != nil {
		t.Fatal(err)
	}
	// An execution to stop with a malformed body; whether it ran or not (no
	// node), the body is refused before the stop is tried.
	ev := emutest.InvokeAsync(t, e, "fn", `{}`)
	// An execution ARN holds slashes: the SDKs send it as one escaped segment.
	arn := url.PathEscape(executionARN("eu-west-1", ev))
	unknownARN := url.PathEscape("arn:aws:lambda:eu-west-1:000000000000:function:fn:$LATEST/durable-execution/n/6f1d1f5e-0000-4000-8000-000000000000")
	stream := cwStreamName("fn", ev.CreatedAt)

	const (
		badJSON  = `{"bad`
		invalid  = "InvalidParameterValueException"
		content  = "InvalidRequestContentException"
		notFound = "ResourceNotFoundException"
		cwParam  = "InvalidParameterException"
	)
	rest := func(name, method, path, body string, status int, code string, header ...string) malformedCase {
		return malformedCase{name: name, method: method, path: path, body: body, status: status, code: code, header: header}
	}
	logs := func(name, op, body string, status int, code string) malformedCase {
		return malformedCase{name: name, method: http.MethodPost, path: "/", target: cwTargetPrefix + op, body: body, status: status, code: code}
	}
	cases := []malformedCase{
		rest("CreateFunction bad JSON", "POST", "/2015-03-31/functions", badJSON, 400, content),
		rest("CreateFunction no name", "POST", "/2015-03-31/functions", `{"Role":"arn:aws:iam::1:role/r"}`, 400, invalid),
		rest("CreateFunction bad role", "POST", "/2015-03-31/functions", `{"FunctionName":"g","Role":"r"}`, 400, invalid),
		rest("CreateFunction no code", "POST", "/2015-03-31/functions", `{"FunctionName":"g","Role":"arn:aws:iam::1:role/r"}`, 400, invalid),
		rest("CreateFunction exists", "POST", "/2015-03-31/functions", `{"FunctionName":"fn","Role":"arn:aws:iam::1:role/r","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`, 409, "ResourceConflictException"),
		rest("ListFunctions bad Marker", "GET", "/2015-03-31/functions?Marker=x", "", 400, invalid),
		rest("ListFunctions bad MaxItems", "GET", "/2015-03-31/functions?MaxItems=0", "", 400, invalid),
		rest("GetFunction unknown", "GET", "/2015-03-31/functions/nope", "", 404, notFound),
		rest("DeleteFunction unknown", "DELETE", "/2015-03-31/functions/nope", "", 404, notFound),
		rest("GetFunctionConfiguration unknown", "GET", "/2015-03-31/functions/nope/configuration", "", 404, notFound),
		rest("UpdateFunctionConfiguration unknown", "PUT", "/2015-03-31/functions/nope/configuration", `{}`, 404, notFound),
		rest("UpdateFunctionConfiguration bad JSON", "PUT", "/2015-03-31/functions/fn/configuration", badJSON, 400, content),
		rest("UpdateFunctionCode unknown", "PUT", "/2015-03-31/functions/nope/code", `{}`, 404, notFound),
		rest("UpdateFunctionCode bad JSON", "PUT", "/2015-03-31/functions/fn/code", badJSON, 400, content),
		rest("UpdateFunctionCode no zip", "PUT", "/2015-03-31/functions/fn/code", `{}`, 400, invalid),
		rest("Invoke unknown", "POST", "/2015-03-31/functions/nope/invocations", `{}`, 404, notFound),
		rest("Invoke unknown, DryRun", "POST", "/2015-03-31/functions/nope/invocations", `{}`, 404, notFound, "X-Amz-Invocation-Type", "DryRun"),
		rest("Invoke bad invocation type", "POST", "/2015-03-31/functions/fn/invocations", `{}`, 400, invalid, "X-Amz-Invocation-Type", "Later"),
		rest("Invoke bad log type", "POST", "/2015-03-31/functions/fn/invocations", `{}`, 400, invalid, "X-Amz-Log-Type", "All"),
		rest("CreateFunction half an S3 reference", "POST", "/2015-03-31/functions", `{"FunctionName":"g","Role":"arn:aws:iam::1:role/r","Code":{"S3Bucket":"b"}}`, 400, invalid),
		rest("CreateFunction image", "POST", "/2015-03-31/functions", `{"FunctionName":"g","Role":"arn:aws:iam::1:role/r","Code":{"ImageUri":"x"}}`, 400, invalid),
		rest("CreateFunction bad layer ARN", "POST", "/2015-03-31/functions", `{"FunctionName":"g","Role":"arn:aws:iam::1:role/r","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},"Layers":["tools"]}`, 400, "ValidationException"),
		rest("PublishLayerVersion bad JSON", "POST", "/2018-10-31/layers/l/versions", badJSON, 400, content),
		rest("PublishLayerVersion no content", "POST", "/2018-10-31/layers/l/versions", `{}`, 400, invalid),
		rest("PublishLayerVersion bad name", "POST", "/2018-10-31/layers/a.b/versions", `{"Content":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`, 400, invalid),
		rest("PublishLayerVersion missing S3 object", "POST", "/2018-10-31/layers/l/versions", `{"Content":{"S3Bucket":"nob","S3Key":"k"}}`, 400, invalid),
		rest("ListLayerVersions bad MaxItems", "GET", "/2018-10-31/layers/l/versions?MaxItems=51", "", 400, invalid),
		rest("GetLayerVersion unknown", "GET", "/2018-10-31/layers/l/versions/3", "", 404, notFound),
		rest("DeleteLayerVersion bad version", "DELETE", "/2018-10-31/layers/l/versions/x", "", 400, invalid),
		rest("PutFunctionConcurrency unknown", "PUT", "/2017-10-31/functions/nope/concurrency", `{"ReservedConcurrentExecutions":1}`, 404, notFound),
		rest("PutFunctionConcurrency bad JSON", "PUT", "/2017-10-31/functions/fn/concurrency", badJSON, 400, content),
		rest("PutFunctionConcurrency negative", "PUT", "/2017-10-31/functions/fn/concurrency", `{"ReservedConcurrentExecutions":-1}`, 400, invalid),
		rest("PutFunctionConcurrency wrong type", "PUT", "/2017-10-31/functions/fn/concurrency", `{"ReservedConcurrentExecutions":"1"}`, 400, content),
		rest("DeleteFunctionConcurrency unknown", "DELETE", "/2017-10-31/functions/nope/concurrency", "", 404, notFound),
		rest("GetFunctionConcurrency unknown", "GET", "/2019-09-30/functions/nope/concurrency", "", 404, notFound),
		rest("PutFunctionEventInvokeConfig unknown", "PUT", "/2019-09-25/functions/nope/event-invoke-config", `{}`, 404, notFound),
		rest("PutFunctionEventInvokeConfig bad JSON", "PUT", "/2019-09-25/functions/fn/event-invoke-config", badJSON, 400, content),
		rest("PutFunctionEventInvokeConfig retries", "PUT", "/2019-09-25/functions/fn/event-invoke-config", `{"MaximumRetryAttempts":3}`, 400, invalid),
		rest("UpdateFunctionEventInvokeConfig unknown", "POST", "/2019-09-25/functions/nope/event-invoke-config", `{}`, 404, notFound),
		rest("UpdateFunctionEventInvokeConfig bad JSON", "POST", "/2019-09-25/functions/fn/event-invoke-config", badJSON, 400, content),
		rest("UpdateFunctionEventInvokeConfig age", "POST", "/2019-09-25/functions/fn/event-invoke-config", `{"MaximumEventAgeInSeconds":59}`, 400, invalid),
		rest("GetFunctionEventInvokeConfig unknown", "GET", "/2019-09-25/functions/nope/event-invoke-config", "", 404, notFound),
		rest("GetFunctionEventInvokeConfig none", "GET", "/2019-09-25/functions/fn/event-invoke-config", "", 404, notFound),
		rest("DeleteFunctionEventInvokeConfig unknown", "DELETE", "/2019-09-25/functions/nope/event-invoke-config", "", 404, notFound),
		rest("DeleteFunctionEventInvokeConfig none", "DELETE", "/2019-09-25/functions/fn/event-invoke-config", "", 404, notFound),
		rest("ListDurableExecutionsByFunction unknown", "GET", "/2025-12-01/functions/nope/durable-executions", "", 404, notFound),
		rest("ListDurableExecutionsByFunction bad Statuses", "GET", "/2025-12-01/functions/fn/durable-executions?Statuses=DONE", "", 400, invalid),
		rest("ListDurableExecutionsByFunction bad StartedAfter", "GET", "/2025-12-01/functions/fn/durable-executions?StartedAfter=yesterday", "", 400, invalid),
		rest("ListDurableExecutionsByFunction bad StartedBefore", "GET", "/2025-12-01/functions/fn/durable-executions?StartedBefore=x", "", 400, invalid),
		rest("ListDurableExecutionsByFunction bad Marker", "GET", "/2025-12-01/functions/fn/durable-executions?Marker=-1", "", 400, invalid),
		rest("ListDurableExecutionsByFunction bad MaxItems", "GET", "/2025-12-01/functions/fn/durable-executions?MaxItems=1001", "", 400, invalid),
		rest("GetDurableExecution not an ARN", "GET", "/2025-12-01/durable-executions/fn", "", 400, invalid),
		rest("GetDurableExecution unknown", "GET", "/2025-12-01/durable-executions/"+unknownARN, "", 404, notFound),
		rest("StopDurableExecution not an ARN", "POST", "/2025-12-01/durable-executions/fn/stop", `{}`, 400, invalid),
		rest("StopDurableExecution unknown", "POST", "/2025-12-01/durable-executions/"+unknownARN+"/stop", `{}`, 404, notFound),
		rest("StopDurableExecution bad JSON", "POST", "/2025-12-01/durable-executions/"+arn+"/stop", badJSON, 400, content),

		{name: "not a Logs target", method: "POST", path: "/", target: "Kinesis_20131202.PutRecord", body: `{}`, status: 400, code: "UnknownOperationException"},
		logs("unknown operation", "PutLogEvents", `{}`, 400, "UnknownOperationException"),
		logs("DescribeLogGroups bad JSON", "DescribeLogGroups", badJSON, 400, content),
		logs("DescribeLogGroups bad nextToken", "DescribeLogGroups", `{"nextToken":"x"}`, 400, cwParam),
		logs("DescribeLogGroups bad limit", "DescribeLogGroups", `{"limit":51}`, 400, cwParam),
		logs("DescribeLogStreams bad JSON", "DescribeLogStreams", badJSON, 400, content),
		logs("DescribeLogStreams unknown group", "DescribeLogStreams", `{"logGroupName":"/aws/lambda/nope"}`, 400, notFound),
		logs("GetLogEvents bad JSON", "GetLogEvents", badJSON, 400, content),
		logs("GetLogEvents unknown group", "GetLogEvents", `{"logGroupName":"/aws/lambda/nope","logStreamName":"`+stream+`"}`, 400, notFound),
		logs("GetLogEvents unknown stream", "GetLogEvents", `{"logGroupName":"/aws/lambda/fn","logStreamName":"2026/01/01/[$LATEST]x"}`, 400, notFound),
		logs("GetLogEvents bad limit", "GetLogEvents", `{"logGroupName":"/aws/lambda/fn","logStreamName":"`+stream+`","limit":10001}`, 400, cwParam),
		logs("GetLogEvents bad nextToken", "GetLogEvents", `{"logGroupName":"/aws/lambda/fn","logStreamName":"`+stream+`","nextToken":"x/1"}`, 400, cwParam),
		logs("GetLogEvents bad backward token", "GetLogEvents", `{"logGroupName":"/aws/lambda/fn","logStreamName":"`+stream+`","nextToken":"b/x"}`, 400, cwParam),
		logs("GetLogEvents bad forward token", "GetLogEvents", `{"logGroupName":"/aws/lambda/fn","logStreamName":"`+stream+`","nextToken":"f/x"}`, 400, cwParam),
		logs("FilterLogEvents bad JSON", "FilterLogEvents", badJSON, 400, content),
		logs("FilterLogEvents unknown group", "FilterLogEvents", `{"logGroupName":"/aws/lambda/nope"}`, 400, notFound),
		logs("FilterLogEvents bad limit", "FilterLogEvents", `{"logGroupName":"/aws/lambda/fn","limit":-1}`, 400, cwParam),
		logs("FilterLogEvents bad pattern", "FilterLogEvents", `{"logGroupName":"/aws/lambda/fn","filterPattern":"{ $.a = 1 }"}`, 400, cwParam),
		logs("FilterLogEvents bad nextToken", "FilterLogEvents", `{"logGroupName":"/aws/lambda/fn","nextToken":"x"}`, 400, cwParam),
		logs("StartLiveTail bad JSON", "StartLiveTail", badJSON, 400, content),
		logs("StartLiveTail no group", "StartLiveTail", `{}`, 400, cwParam),
		logs("StartLiveTail unknown group", "StartLiveTail", `{"logGroupIdentifiers":["/aws/lambda/nope"]}`, 400, notFound),
		logs("StartLiveTail group ARN with asterisk", "StartLiveTail", `{"logGroupIdentifiers":["arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/fn:*"]}`, 400, cwParam),
		logs("StartLiveTail bad pattern", "StartLiveTail", `{"logGroupIdentifiers":["/aws/lambda/fn"],"logEventFilterPattern":"[a]"}`, 400, cwParam),
	}

	// Every route of the front and every operation of POST / has a case.
	mux := http.NewServeMux()
	f.Register(mux)
	covered := map[string]bool{}
	for _, c := range cases {
		if c.target != "" {
			covered[strings.TrimPrefix(c.target, cwTargetPrefix)] = true
			continue
		}
		_, pattern := mux.Handler(httptest.NewRequest(c.method, c.path, nil))
		covered[pattern] = true
	}
	for _, route := range registeredRoutes(t) {
		if !covered[route] {
			t.Errorf("route %s has no malformed-input case", route)
		}
	}
	for _, op := range []string{"DescribeLogGroups", "DescribeLogStreams", "GetLogEvents", "FilterLogEvents", "StartLiveTail"} {
		if !covered[op] {
			t.Errorf("CloudWatch Logs %s has no malformed-input case", op)
		}
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			}
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%d: the body is not a JSON error: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != c.status || resp.Header.Get("X-Amzn-ErrorType") != c.code {
				t.Errorf("%d %s %v, want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, c.status, c.code)
			}
			if resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if body["message"] == "" {
				t.Errorf("no message: %v", body)
			}
			if c.target != "" {
				if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" || body["__type"] != c.code || len(body) != 2 {
					t.Errorf("not a JSON 1.1 error: %s %v", ct, body)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" || body["Type"] != "User" || len(body) != 2 {
				t.Errorf("not a Lambda REST error: %s %v", ct, body)
			}
		})
	}
}

// registeredRoutes reads the patterns Register gives the mux from its source.
func registeredRoutes(t *testing.T) []string {
	src, err := os.ReadFile("lambda.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range regexp.MustCompile(`mux\.HandleFunc\("([^"]+)"`).FindAllSubmatch(src, -1) {
		routes = append(routes, string(m[1]))
	}
	if len(routes) < 18 {
		t.Fatalf("found %d routes in lambda.go", len(routes))
	}
	return routes
}

// TestEngineErrorsInEachShape: an engine error is answered by its kind in
// the shape of the route; a throttled invoke carries Lambda's Reason.
func TestEngineErrorsInEachShape(t *testing.T) {
	cases := []struct {
		err    error
		shape  wireShape
		status int
		code   string
		body   map[string]string
	}{
		{&localemu.ThrottledError{Function: "f", Reserved: 1}, restShape, 429, "TooManyRequestsException",
			map[string]string{"Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}},
		{localemu.ErrShuttingDown, restShape, 429, "TooManyRequestsException",
			map[string]string{"Type": "User", "message": localemu.ErrShuttingDown.Error()}},
		{errors.Join(localemu.ErrFunctionNotFound, errors.New("x")), restShape, 404, "ResourceNotFoundException", nil},
		{&localemu.InvalidParameterError{Msg: "bad name"}, restShape, 400, "InvalidParameterValueException",
			map[string]string{"Type": "User", "message": "bad name"}},
		{errors.New("disk on fire"), restShape, 500, "ServiceException",
			map[string]string{"Type": "Service", "message": "disk on fire"}},
		{errors.New("disk on fire"), json11Shape, 500, "ServiceException",
			map[string]string{"__type": "ServiceException", "message": "disk on fire"}},
		{apiError(400, "InvalidParameterException", "limit %d", 0), json11Shape, 400, "InvalidParameterException",
			map[string]string{"__type": "InvalidParameterException", "message": "limit 0"}},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		c.shape.writeError(rec, c.err, "req-1")
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %v", c.err, err)
		}
		if rec.Code != c.status || rec.Header().Get("X-Amzn-ErrorType") != c.code || rec.Header().Get("X-Amzn-RequestId") != "req-1" {
			t.Errorf("%v: %d %s %s, want %d %s", c.err, rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Header().Get("X-Amzn-RequestId"), c.status, c.code)
		}
		if c.body != nil && !equalMaps(body, c.body) {
			t.Errorf("%v: body %v, want %v", c.err, body, c.body)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

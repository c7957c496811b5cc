package aws

// The AWS Lambda front: the REST API of Lambda (2015-03-31 functions and
// invoke, 2017-10-31 concurrency, 2019-09-25 event invoke config) and the
// durable-execution API (2025-12-01), served over the engine so that the AWS
// SDKs, the aws CLI and adapters/aws work against the emulator unchanged.
//
// Every asynchronous event of every function is exposed as a durable
// execution: plain Lambda offers no status, list or stop for an async invoke,
// the durable API does, and the emulator's events already have that lifecycle.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

const (
	// awsAccountID is the account every emulated ARN names (the 12 digits
	// the ARN patterns of the SDKs require).
	awsAccountID     = "000000000000"
	awsDefaultRegion = "us-east-1"
	// codeBody bounds CreateFunction and UpdateFunctionCode: Lambda takes a
	// zip of up to 50 MB through the API (Lambda quotas: "Deployment
	// package (.zip file archive) size: 50 MB (zipped, for direct upload)"),
	// base64 in JSON.
	codeBody = 70 << 20
	// smallBody bounds every other request but Invoke (whose bound is the
	// synchronous payload limit): configuration, concurrency, executions,
	// CloudWatch Logs queries.
	smallBody = 1 << 20
	// logTailBytes is how much of the log X-Amz-Log-Type: Tail returns.
	logTailBytes = 4096
	// defaultDurableRetentionDays is what a function without durableConfig
	// reports: its events are kept as executions all the same.
	defaultDurableRetentionDays = 14
)

// Register adds the Lambda REST and durable-execution routes.
func (s *Front) Register(mux *http.ServeMux) {
	h := func(f func(*awsCall)) http.HandlerFunc { return s.awsHandler(f, awsRESTError, smallBody) }
	code := func(f func(*awsCall)) http.HandlerFunc { return s.awsHandler(f, awsRESTError, codeBody) }
	mux.HandleFunc("POST /2015-03-31/functions", code(s.createFunction))
	mux.HandleFunc("GET /2015-03-31/functions", h(s.listFunctions))
	mux.HandleFunc("GET /2015-03-31/functions/{name}", h(s.getFunction))
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}", h(s.deleteFunction))
	mux.HandleFunc("GET /2015-03-31/functions/{name}/configuration", h(s.getConfiguration))
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/configuration", h(s.updateConfiguration))
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/code", code(s.updateCode))
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.awsHandler(s.lambdaInvoke, awsRESTError, nativeapi.MaxSyncPayload))
	mux.HandleFunc("PUT /2017-10-31/functions/{name}/concurrency", h(s.putConcurrency))
	mux.HandleFunc("DELETE /2017-10-31/functions/{name}/concurrency", h(s.deleteConcurrency))
	mux.HandleFunc("GET /2019-09-30/functions/{name}/concurrency", h(s.getConcurrency))
	mux.HandleFunc("PUT /2019-09-25/functions/{name}/event-invoke-config", h(s.putEventInvokeConfig))
	mux.HandleFunc("POST /2019-09-25/functions/{name}/event-invoke-config", h(s.putEventInvokeConfig))
	mux.HandleFunc("GET /2019-09-25/functions/{name}/event-invoke-config", h(s.getEventInvokeConfig))
	mux.HandleFunc("DELETE /2019-09-25/functions/{name}/event-invoke-config", h(s.deleteEventInvokeConfig))
	mux.HandleFunc("GET /2025-12-01/functions/{name}/durable-executions", h(s.listExecutions))
	mux.HandleFunc("GET /2025-12-01/durable-executions/{arn}", h(s.getExecution))
	mux.HandleFunc("POST /2025-12-01/durable-executions/{arn}/stop", h(s.stopExecution))
}

// awsCall is one verified request to an AWS front.
type awsCall struct {
	w         http.ResponseWriter
	r         *http.Request
	body      []byte
	requestID string // x-amzn-RequestId of the answer
	region    string // from the signature's credential scope
	fail      func(w http.ResponseWriter, status int, code, msg, requestID string)
}

// awsHandler authenticates a request and runs f. What the headers allow is
// checked before a byte of the body is read; the body is then read up to
// limit — the largest legitimate request of the route — and hashed as it is
// read, and the signature checked against that hash.
func (s *Front) awsHandler(f func(*awsCall), fail func(http.ResponseWriter, int, string, string, string), limit int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &awsCall{w: w, r: r, requestID: uuid.NewString(), fail: fail}
		deny := func(err error) {
			var se *sigV4Error
			errors.As(err, &se)
			fail(w, http.StatusForbidden, se.Code, se.Msg, c.requestID)
		}
		signed, err := checkSigV4Headers(r, s.creds, time.Now())
		if err != nil {
			deny(err)
			return
		}
		tooLarge := func() {
			fail(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("request must be smaller than %d bytes", limit+1), c.requestID)
		}
		if r.ContentLength > limit {
			tooLarge()
			return
		}
		hash := sha256.New()
		body, err := io.ReadAll(io.TeeReader(io.LimitReader(r.Body, limit+1), hash))
		if err != nil {
			fail(w, http.StatusBadRequest, "InvalidRequestContentException", "read request body: "+err.Error(), c.requestID)
			return
		}
		if int64(len(body)) > limit {
			tooLarge()
			return
		}
		if err := signed.verify(hash.Sum(nil), s.creds); err != nil {
			deny(err)
			return
		}
		c.body = body
		c.region = sigV4Region(r)
		if c.region == "" {
			c.region = awsDefaultRegion
		}
		f(c)
	}
}

// awsRESTError writes an error as Lambda does: the code in x-amzn-ErrorType
// and a JSON body with Type and message.
func awsRESTError(w http.ResponseWriter, status int, code, msg, requestID string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", requestID)
	typ := "User"
	if status >= 500 {
		typ = "Service"
	}
	front.WriteJSON(w, status, map[string]string{"Type": typ, "message": msg})
}

func (c *awsCall) ok(status int, v any) {
	c.w.Header().Set("X-Amzn-RequestId", c.requestID)
	if v == nil {
		c.w.WriteHeader(status)
		return
	}
	front.WriteJSON(c.w, status, v)
}

func (c *awsCall) errorf(status int, code, format string, args ...any) {
	c.fail(c.w, status, code, fmt.Sprintf(format, args...), c.requestID)
}

// engineFail maps an engine error onto Lambda's error codes.
func (c *awsCall) engineFail(err error) {
	k := localemu.KindOf(err)
	if k == localemu.KindThrottled {
		// Lambda API reference, Invoke: TooManyRequestsException (429) with
		// Reason ReservedFunctionConcurrentInvocationLimitExceeded.
		c.w.Header().Set("X-Amzn-RequestId", c.requestID)
		c.w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
		front.WriteJSON(c.w, http.StatusTooManyRequests, map[string]string{"Type": "User", "message": "Rate Exceeded.",
			"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})
		return
	}
	status, code := wireError(k)
	msg := err.Error()
	var invalid *localemu.InvalidParameterError
	switch {
	case k == localemu.KindFunctionNotFound:
		msg = "Function not found: " + strings.TrimPrefix(msg, localemu.ErrFunctionNotFound.Error()+": ")
	case errors.As(err, &invalid):
		msg = invalid.Msg
	}
	c.errorf(status, code, "%s", msg)
}

// wireError is Lambda's status and error code for each kind of engine error
// (Lambda API reference, Errors of each operation).
func wireError(k localemu.Kind) (int, string) {
	switch k {
	case localemu.KindThrottled, localemu.KindShuttingDown:
		return http.StatusTooManyRequests, "TooManyRequestsException"
	case localemu.KindFunctionNotFound, localemu.KindEventNotFound:
		return http.StatusNotFound, "ResourceNotFoundException"
	case localemu.KindEventFinished, localemu.KindInvalid:
		return http.StatusBadRequest, "InvalidParameterValueException"
	case localemu.KindTooLarge:
		return http.StatusRequestEntityTooLarge, "RequestTooLargeException"
	case localemu.KindCanceled:
		return http.StatusGatewayTimeout, "ServiceException"
	}
	return http.StatusInternalServerError, "ServiceException"
}

// decode reads a JSON body into v; an empty body leaves v as it is.
func (c *awsCall) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return true
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.errorf(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: %v", err)
		return false
	}
	return true
}

// functionName turns the FunctionName label (a name, a name:qualifier, or a
// full or partial ARN) into the function's name and qualifier.
func functionName(label string) (name, qualifier string) {
	if i := strings.Index(label, ":function:"); i >= 0 {
		label = label[i+len(":function:"):]
	}
	name, qualifier, _ = strings.Cut(label, ":")
	return name, qualifier
}

func aRN(region, name string) string {
	if region == "" {
		region = awsDefaultRegion
	}
	return "arn:aws:lambda:" + region + ":" + awsAccountID + ":function:" + name
}

// lambdaFunction is Lambda's FunctionConfiguration on the wire.
type lambdaFunction struct {
	FunctionName     string         `json:"FunctionName"`
	FunctionArn      string         `json:"FunctionArn"`
	Runtime          string         `json:"Runtime"`
	Role             string         `json:"Role"`
	Handler          string         `json:"Handler"`
	CodeSize         int64          `json:"CodeSize"`
	Description      string         `json:"Description"`
	Timeout          int            `json:"Timeout"`
	MemorySize       int            `json:"MemorySize"`
	LastModified     string         `json:"LastModified"`
	CodeSha256       string         `json:"CodeSha256"`
	Version          string         `json:"Version"`
	Environment      *environment   `json:"Environment,omitempty"`
	RevisionId       string         `json:"RevisionId"`
	State            string         `json:"State"`
	LastUpdateStatus string         `json:"LastUpdateStatus"`
	PackageType      string         `json:"PackageType"`
	Architectures    []string       `json:"Architectures"`
	DurableConfig    *lambdaDurable `json:"DurableConfig,omitempty"`
}

type environment struct {
	Variables map[string]string `json:"Variables"`
}

type lambdaDurable struct {
	ExecutionTimeout      int `json:"ExecutionTimeout,omitempty"`
	RetentionPeriodInDays int `json:"RetentionPeriodInDays,omitempty"`
}

func lambdaConfiguration(f store.Function, cfg *localemu.FunctionConfig) lambdaFunction {
	sum := f.CodeSHA256
	if raw, err := hex.DecodeString(sum); err == nil {
		sum = base64.StdEncoding.EncodeToString(raw) // Lambda reports the digest in base64
	}
	out := lambdaFunction{
		FunctionName: f.Name, FunctionArn: aRN(cfg.Region, f.Name), Runtime: cfg.Runtime,
		Role:    "arn:aws:iam::" + awsAccountID + ":role/asyncfn-emulator",
		Handler: cfg.Handler, CodeSize: f.CodeSize, Description: cfg.Description, Timeout: cfg.Timeout, MemorySize: cfg.MemorySize,
		LastModified: f.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000+0000"), CodeSha256: sum, Version: "$LATEST",
		RevisionId: fmt.Sprintf("%08x-0000-4000-8000-%012x", f.Version, f.Version),
		State:      "Active", LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: []string{"x86_64"},
	}
	if len(cfg.Environment) > 0 {
		out.Environment = &environment{Variables: cfg.Environment}
	}
	// Every function's async events are durable executions in the emulator,
	// so every function reports a DurableConfig: that is how a client (the
	// aws adapter) learns that list, get and stop are available.
	out.DurableConfig = &lambdaDurable{ExecutionTimeout: cfg.Timeout, RetentionPeriodInDays: defaultDurableRetentionDays}
	if d := cfg.Async.Durable; d != nil {
		out.DurableConfig = &lambdaDurable{ExecutionTimeout: d.ExecutionTimeout, RetentionPeriodInDays: d.RetentionPeriodInDays}
	}
	return out
}

// functionInput is the body of CreateFunction and UpdateFunctionConfiguration.
type functionInput struct {
	FunctionName  string         `json:"FunctionName"`
	Runtime       string         `json:"Runtime"`
	Role          string         `json:"Role"`
	Handler       string         `json:"Handler"`
	Description   *string        `json:"Description"`
	Timeout       *int           `json:"Timeout"`
	MemorySize    *int           `json:"MemorySize"`
	Environment   *environment   `json:"Environment"`
	DurableConfig *lambdaDurable `json:"DurableConfig"`
	PackageType   string         `json:"PackageType"`
	Code          *struct {
		ZipFile  []byte `json:"ZipFile"`
		S3Bucket string `json:"S3Bucket"`
		ImageUri string `json:"ImageUri"`
	} `json:"Code"`
}

// apply copies the fields that were given onto cfg.
func (in *functionInput) apply(cfg *localemu.FunctionConfig) {
	if in.Runtime != "" {
		cfg.Runtime = in.Runtime
	}
	if in.Handler != "" {
		cfg.Handler = in.Handler
	}
	if in.Description != nil {
		cfg.Description = *in.Description
	}
	if in.Timeout != nil {
		cfg.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		cfg.MemorySize = *in.MemorySize
	}
	if in.Environment != nil {
		cfg.Environment = in.Environment.Variables
	}
	if d := in.DurableConfig; d != nil {
		cfg.Async.Durable = &nativeapi.DurableConfig{ExecutionTimeout: d.ExecutionTimeout, RetentionPeriodInDays: d.RetentionPeriodInDays}
	}
}

func (s *Front) createFunction(c *awsCall) {
	var in functionInput
	if !c.decode(&in) {
		return
	}
	if in.FunctionName == "" {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "FunctionName is required")
		return
	}
	name, _ := functionName(in.FunctionName)
	if in.Role == "" || !strings.HasPrefix(in.Role, "arn:") {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "Role %q is not an IAM role ARN", in.Role)
		return
	}
	if in.Code == nil || len(in.Code.ZipFile) == 0 {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "Code.ZipFile is required: the emulator takes code as a zip (S3 and container images are not emulated)")
		return
	}
	if _, _, err := s.engine.Function(c.r.Context(), name); err == nil {
		c.errorf(http.StatusConflict, "ResourceConflictException", "Function already exist: %s", name)
		return
	} else if !errors.Is(err, localemu.ErrFunctionNotFound) {
		c.engineFail(err)
		return
	}
	cfg := localemu.FunctionConfig{Name: name, Provider: cloud.AWS, Region: c.region}
	in.apply(&cfg)
	f, err := s.engine.Deploy(c.r.Context(), cfg, in.Code.ZipFile)
	if err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusCreated, lambdaConfiguration(f, &cfg))
}

// function loads the function the {name} label names, answering 404 itself.
func (s *Front) function(c *awsCall) (store.Function, *localemu.FunctionConfig, bool) {
	name, _ := functionName(c.r.PathValue("name"))
	f, cfg, err := s.engine.Function(c.r.Context(), name)
	if err != nil {
		c.engineFail(err)
		return f, nil, false
	}
	return f, cfg, true
}

// pageStart reads a paging marker this front handed out: an offset, or
// nothing for the first page. Anything else is not a marker of ours.
func pageStart(marker string) (int, bool) {
	if marker == "" {
		return 0, true
	}
	n, err := strconv.Atoi(marker)
	return n, err == nil && n >= 0
}

func (s *Front) listFunctions(c *awsCall) {
	fns, err := s.engine.Functions(c.r.Context())
	if err != nil {
		c.engineFail(err)
		return
	}
	start, ok := pageStart(c.r.URL.Query().Get("Marker"))
	if !ok {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "Marker %q is not a marker this API returned", c.r.URL.Query().Get("Marker"))
		return
	}
	max := 50
	if v := c.r.URL.Query().Get("MaxItems"); v != "" {
		// Lambda API reference, ListFunctions: MaxItems is 1-10000 (answered in pages of at most 50).
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "MaxItems %q is not between 1 and 10000", v)
			return
		}
		max = min(n, 50)
	}
	out := struct {
		Functions  []lambdaFunction `json:"Functions"`
		NextMarker string           `json:"NextMarker,omitempty"`
	}{Functions: []lambdaFunction{}}
	for i := start; i < len(fns) && len(out.Functions) < max; i++ {
		cfg, err := localemu.DecodeConfig(fns[i].Config)
		if err != nil || cfg.Provider != cloud.AWS {
			continue // Tencent functions are not Lambda functions
		}
		out.Functions = append(out.Functions, lambdaConfiguration(fns[i], cfg))
		if len(out.Functions) == max && i+1 < len(fns) {
			out.NextMarker = strconv.Itoa(i + 1)
		}
	}
	c.ok(http.StatusOK, out)
}

func (s *Front) getFunction(c *awsCall) {
	f, cfg, ok := s.function(c)
	if !ok {
		return
	}
	out := map[string]any{
		"Configuration": lambdaConfiguration(f, cfg),
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "http://" + c.r.Host + "/v1/functions/" + f.Name},
	}
	if cfg.ReservedConcurrency != nil {
		out["Concurrency"] = map[string]int{"ReservedConcurrentExecutions": *cfg.ReservedConcurrency}
	}
	c.ok(http.StatusOK, out)
}

func (s *Front) getConfiguration(c *awsCall) {
	if f, cfg, ok := s.function(c); ok {
		c.ok(http.StatusOK, lambdaConfiguration(f, cfg))
	}
}

func (s *Front) deleteFunction(c *awsCall) {
	name, _ := functionName(c.r.PathValue("name"))
	if err := s.engine.RemoveFunction(c.r.Context(), name); err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusNoContent, nil)
}

func (s *Front) updateConfiguration(c *awsCall) {
	_, cfg, ok := s.function(c)
	if !ok {
		return
	}
	var in functionInput
	if !c.decode(&in) {
		return
	}
	in.apply(cfg)
	s.redeploy(c, cfg, nil)
}

func (s *Front) updateCode(c *awsCall) {
	_, cfg, ok := s.function(c)
	if !ok {
		return
	}
	var in struct {
		ZipFile []byte `json:"ZipFile"`
	}
	if !c.decode(&in) {
		return
	}
	if len(in.ZipFile) == 0 {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "ZipFile is required: the emulator takes code as a zip")
		return
	}
	s.redeploy(c, cfg, in.ZipFile)
}

// redeploy stores cfg (and code, when not nil) and answers with the configuration.
func (s *Front) redeploy(c *awsCall, cfg *localemu.FunctionConfig, code []byte) {
	f, err := s.engine.Deploy(c.r.Context(), *cfg, code)
	if err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusOK, lambdaConfiguration(f, cfg))
}

func (s *Front) putConcurrency(c *awsCall) {
	_, cfg, ok := s.function(c)
	if !ok {
		return
	}
	var in struct {
		ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
	}
	if !c.decode(&in) {
		return
	}
	if in.ReservedConcurrentExecutions == nil || *in.ReservedConcurrentExecutions < 0 {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "ReservedConcurrentExecutions must be a number >= 0")
		return
	}
	cfg.ReservedConcurrency = in.ReservedConcurrentExecutions
	if _, err := s.engine.Deploy(c.r.Context(), *cfg, nil); err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusOK, in)
}

func (s *Front) getConcurrency(c *awsCall) {
	_, cfg, ok := s.function(c)
	if !ok {
		return
	}
	out := map[string]int{}
	if cfg.ReservedConcurrency != nil {
		out["ReservedConcurrentExecutions"] = *cfg.ReservedConcurrency
	}
	c.ok(http.StatusOK, out)
}

func (s *Front) deleteConcurrency(c *awsCall) {
	_, cfg, ok := s.function(c)
	if !ok {
		return
	}
	cfg.ReservedConcurrency = nil
	if _, err := s.engine.Deploy(c.r.Context(), *cfg, nil); err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusNoContent, nil)
}

// lambdaEventInvokeConfig is FunctionEventInvokeConfig on the wire.
type lambdaEventInvokeConfig struct {
	FunctionArn              string   `json:"FunctionArn,omitempty"`
	LastModified             *float64 `json:"LastModified,omitempty"`
	MaximumRetryAttempts     *int     `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int     `json:"MaximumEventAgeInSeconds,omitempty"`
	DestinationConfig        *struct {
		OnSuccess *struct {
			Destination string `json:"Destination"`
		} `json:"OnSuccess,omitempty"`
		OnFailure *struct {
			Destination string `json:"Destination"`
		} `json:"OnFailure,omitempty"`
	} `json:"DestinationConfig,omitempty"`
}

// putEventInvokeConfig serves Put (PUT: replaces the whole
// configuration) and Update (POST: changes only what is given).
func (s *Front) putEventInvokeConfig(c *awsCall) {
	f, cfg, ok := s.function(c)
	if !ok {
		return
	}
	var in lambdaEventInvokeConfig
	if !c.decode(&in) {
		return
	}
	if c.r.Method == http.MethodPut {
		cfg.Async.RetryAttempts, cfg.Async.MaxEventAge, cfg.Async.OnSuccess, cfg.Async.OnFailure = nil, 0, "", ""
	}
	if n := in.MaximumRetryAttempts; n != nil {
		if *n < 0 || *n > 2 {
			c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "MaximumRetryAttempts %d is outside 0-2", *n)
			return
		}
		cfg.Async.RetryAttempts = n
	}
	if n := in.MaximumEventAgeInSeconds; n != nil {
		if *n < 60 || *n > 21600 {
			c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "MaximumEventAgeInSeconds %d is outside 60-21600", *n)
			return
		}
		cfg.Async.MaxEventAge = *n
	}
	if d := in.DestinationConfig; d != nil {
		if d.OnSuccess != nil {
			cfg.Async.OnSuccess = d.OnSuccess.Destination
		}
		if d.OnFailure != nil {
			cfg.Async.OnFailure = d.OnFailure.Destination
		}
	}
	f, err := s.engine.Deploy(c.r.Context(), *cfg, nil)
	if err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusOK, eventInvokeConfig(f, cfg))
}

func eventInvokeConfig(f store.Function, cfg *localemu.FunctionConfig) lambdaEventInvokeConfig {
	mod := float64(f.UpdatedAt.UnixMilli()) / 1000
	out := lambdaEventInvokeConfig{FunctionArn: aRN(cfg.Region, f.Name) + ":$LATEST", LastModified: &mod}
	retries, age := cfg.RetryAttempts(), int(cfg.MaxEventAge()/time.Second)
	out.MaximumRetryAttempts, out.MaximumEventAgeInSeconds = &retries, &age
	if cfg.Async.OnSuccess != "" || cfg.Async.OnFailure != "" {
		out.DestinationConfig = &struct {
			OnSuccess *struct {
				Destination string `json:"Destination"`
			} `json:"OnSuccess,omitempty"`
			OnFailure *struct {
				Destination string `json:"Destination"`
			} `json:"OnFailure,omitempty"`
		}{}
		if cfg.Async.OnSuccess != "" {
			out.DestinationConfig.OnSuccess = &struct {
				Destination string `json:"Destination"`
			}{cfg.Async.OnSuccess}
		}
		if cfg.Async.OnFailure != "" {
			out.DestinationConfig.OnFailure = &struct {
				Destination string `json:"Destination"`
			}{cfg.Async.OnFailure}
		}
	}
	return out
}

func hasEventInvokeConfig(cfg *localemu.FunctionConfig) bool {
	a := cfg.Async
	return a.RetryAttempts != nil || a.MaxEventAge != 0 || a.OnSuccess != "" || a.OnFailure != ""
}

func (s *Front) getEventInvokeConfig(c *awsCall) {
	f, cfg, ok := s.function(c)
	if !ok {
		return
	}
	if !hasEventInvokeConfig(cfg) {
		c.errorf(http.StatusNotFound, "ResourceNotFoundException", "The function %s doesn't have an EventInvokeConfig", aRN(cfg.Region, f.Name))
		return
	}
	c.ok(http.StatusOK, eventInvokeConfig(f, cfg))
}

func (s *Front) deleteEventInvokeConfig(c *awsCall) {
	f, cfg, ok := s.function(c)
	if !ok {
		return
	}
	if !hasEventInvokeConfig(cfg) {
		c.errorf(http.StatusNotFound, "ResourceNotFoundException", "The function %s doesn't have an EventInvokeConfig", aRN(cfg.Region, f.Name))
		return
	}
	cfg.Async.RetryAttempts, cfg.Async.MaxEventAge, cfg.Async.OnSuccess, cfg.Async.OnFailure = nil, 0, "", ""
	if _, err := s.engine.Deploy(c.r.Context(), *cfg, nil); err != nil {
		c.engineFail(err)
		return
	}
	c.ok(http.StatusNoContent, nil)
}

func (s *Front) lambdaInvoke(c *awsCall) {
	name, qualifier := functionName(c.r.PathValue("name"))
	if q := c.r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	ctx := c.r.Context()
	typ := c.r.Header.Get("X-Amz-Invocation-Type")
	switch typ {
	case "", event.InvokeRequestResponse, event.InvokeEvent:
	case "DryRun":
		// DryRun checks that the call would be allowed, without running it.
		if _, _, err := s.engine.Function(ctx, name); err != nil {
			c.engineFail(err)
			return
		}
		if len(c.body) > nativeapi.MaxSyncPayload {
			c.engineFail(&localemu.PayloadTooLargeError{Size: len(c.body), Limit: nativeapi.MaxSyncPayload})
			return
		}
		c.ok(http.StatusNoContent, nil)
		return
	default:
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "X-Amz-Invocation-Type %q is not Event, RequestResponse or DryRun", typ)
		return
	}
	logType := c.r.Header.Get("X-Amz-Log-Type")
	if logType != "" && logType != "None" && logType != "Tail" {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "X-Amz-Log-Type %q is not None or Tail", logType)
		return
	}
	req := localemu.InvokeRequest{Function: name, Payload: c.body, Type: typ, Qualifier: qualifier}
	if typ == event.InvokeEvent {
		req.DurableName = c.r.Header.Get("X-Amz-Durable-Execution-Name")
	}
	ev, err := s.engine.Invoke(ctx, req)
	if err != nil {
		c.engineFail(err)
		return
	}
	h := c.w.Header()
	c.requestID = ev.RequestID
	if typ == event.InvokeEvent {
		_, cfg, err := s.engine.Function(ctx, name)
		region := ""
		if err == nil {
			region = cfg.Region
		}
		h.Set("X-Amz-Durable-Execution-Arn", executionARN(region, ev))
		c.ok(http.StatusAccepted, nil)
		return
	}
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if logType == "Tail" {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(s.logTail(ctx, ev.RequestID)))
	}
	h.Set("X-Amzn-RequestId", ev.RequestID)
	if ev.Status == event.Succeeded {
		result := ev.Result
		if len(result) == 0 {
			result = []byte("null")
		}
		h.Set("Content-Type", "application/json")
		c.w.WriteHeader(http.StatusOK)
		c.w.Write(result)
		return
	}
	h.Set("X-Amz-Function-Error", "Unhandled")
	front.WriteJSON(c.w, http.StatusOK, map[string]any{"errorMessage": ev.ErrorMessage, "errorType": ev.ErrorType})
}

// logTail is the last 4 KB of an event's log, formatted as CloudWatch shows it.
func (s *Front) logTail(ctx context.Context, requestID string) []byte {
	lines, err := s.engine.Logs(ctx, store.LogQuery{RequestID: requestID})
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(cwMessage(l))
	}
	out := b.Bytes()
	if len(out) > logTailBytes {
		out = out[len(out)-logTailBytes:]
	}
	return out
}

// executionARN names an event as a durable execution. The real ARN ends in
// /durable-execution/<name>/<id>; an unnamed execution uses its request id
// as its name, and the id is always the event's request id.
func executionARN(region string, ev store.Event) string {
	name := ev.DurableName
	if name == "" {
		name = ev.RequestID
	}
	return aRN(region, ev.Function) + ":$LATEST/durable-execution/" + name + "/" + ev.RequestID
}

// parseExecutionARN returns the function name and request id an execution ARN names.
func parseExecutionARN(arn string) (fn, requestID string, ok bool) {
	head, tail, found := strings.Cut(arn, "/durable-execution/")
	if !found {
		return "", "", false
	}
	fn, _ = functionName(head)
	parts := strings.Split(tail, "/")
	return fn, parts[len(parts)-1], fn != "" && parts[len(parts)-1] != ""
}

// durableStatuses maps a durable ExecutionStatus onto the engine's statuses.
func durableStatuses(s string) ([]event.Status, bool) {
	var out []event.Status
	for _, st := range event.All {
		if st.Durable() == s {
			out = append(out, st)
		}
	}
	return out, len(out) > 0
}

func epochSeconds(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := float64(t.UnixMilli()) / 1000
	return &v
}

// lambdaExecution is the durable Execution summary on the wire.
type lambdaExecution struct {
	DurableExecutionArn  string   `json:"DurableExecutionArn"`
	DurableExecutionName string   `json:"DurableExecutionName"`
	FunctionArn          string   `json:"FunctionArn"`
	Status               string   `json:"Status"`
	StartTimestamp       *float64 `json:"StartTimestamp"`
	EndTimestamp         *float64 `json:"EndTimestamp,omitempty"`
}

func executionSummary(region string, ev store.Event) lambdaExecution {
	name := ev.DurableName
	if name == "" {
		name = ev.RequestID
	}
	return lambdaExecution{DurableExecutionArn: executionARN(region, ev), DurableExecutionName: name,
		FunctionArn: aRN(region, ev.Function) + ":$LATEST", Status: ev.Status.Durable(),
		StartTimestamp: epochSeconds(ev.CreatedAt), EndTimestamp: epochSeconds(ev.EndedAt)}
}

// parseQueryTime reads a timestamp query parameter: ISO 8601 as the SDKs
// send it, or epoch seconds.
func parseQueryTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 timestamp", v)
	}
	return time.UnixMilli(int64(f * 1000)), nil
}

func (s *Front) listExecutions(c *awsCall) {
	_, cfg, ok := s.function(c)
	if !ok {
		return
	}
	name, _ := functionName(c.r.PathValue("name"))
	qs := c.r.URL.Query()
	q := store.EventQuery{Function: name, InvokeType: event.InvokeEvent}
	for _, v := range qs["Statuses"] {
		for _, one := range strings.Split(v, ",") {
			sts, ok := durableStatuses(one)
			if !ok {
				c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "Statuses: %q is not RUNNING, SUCCEEDED, FAILED, TIMED_OUT or STOPPED", one)
				return
			}
			q.Statuses = append(q.Statuses, sts...)
		}
	}
	for key, dst := range map[string]*time.Time{"StartedAfter": &q.CreatedAfter, "StartedBefore": &q.CreatedBefore} {
		if v := qs.Get(key); v != "" {
			t, err := parseQueryTime(v)
			if err != nil {
				c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "%s: %v", key, err)
				return
			}
			*dst = t
		}
	}
	q.Desc = qs.Get("ReverseOrder") == "true"
	if m := qs.Get("Marker"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "Marker %q is not a marker this API returned", m)
			return
		}
		q.Offset = n
	}
	q.Limit = 100
	if v := qs.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "MaxItems %q is outside 1-1000", v)
			return
		}
		q.Limit = n
	}
	durableName := qs.Get("DurableExecutionName")
	if durableName != "" {
		q.Offset, q.Limit = 0, 0 // filtered below; a name matches at most one execution
	}
	evs, total, err := s.engine.Events(c.r.Context(), q)
	if err != nil {
		c.engineFail(err)
		return
	}
	out := struct {
		DurableExecutions []lambdaExecution `json:"DurableExecutions"`
		NextMarker        string            `json:"NextMarker,omitempty"`
	}{DurableExecutions: []lambdaExecution{}}
	for _, ev := range evs {
		if durableName != "" && ev.DurableName != durableName {
			continue
		}
		out.DurableExecutions = append(out.DurableExecutions, executionSummary(cfg.Region, ev))
	}
	if durableName == "" && q.Offset+len(evs) < total {
		out.NextMarker = strconv.Itoa(q.Offset + len(evs))
	}
	c.ok(http.StatusOK, out)
}

// execution loads the event an {arn} label names.
func (s *Front) execution(c *awsCall) (store.Event, string, bool) {
	arn := c.r.PathValue("arn")
	fn, id, ok := parseExecutionARN(arn)
	if !ok {
		c.errorf(http.StatusBadRequest, "InvalidParameterValueException", "%q is not a durable execution ARN", arn)
		return store.Event{}, "", false
	}
	ev, err := s.engine.Event(c.r.Context(), fn, id)
	if err != nil {
		c.errorf(http.StatusNotFound, "ResourceNotFoundException", "Durable execution not found: %s", arn)
		return store.Event{}, "", false
	}
	region := ""
	if _, cfg, err := s.engine.Function(c.r.Context(), fn); err == nil {
		region = cfg.Region
	}
	return ev, region, true
}

func (s *Front) getExecution(c *awsCall) {
	ev, region, ok := s.execution(c)
	if !ok {
		return
	}
	sum := executionSummary(region, ev)
	out := map[string]any{
		"DurableExecutionArn": sum.DurableExecutionArn, "DurableExecutionName": sum.DurableExecutionName,
		"FunctionArn": sum.FunctionArn, "Status": sum.Status, "StartTimestamp": sum.StartTimestamp, "Version": "$LATEST",
	}
	if sum.EndTimestamp != nil {
		out["EndTimestamp"] = sum.EndTimestamp
	}
	withData := c.r.URL.Query().Get("IncludeExecutionData") != "false"
	out["ExecutionDataIncluded"] = withData
	if withData {
		out["InputPayload"] = string(ev.Payload)
		if ev.Status == event.Succeeded && len(ev.Result) > 0 {
			out["Result"] = string(ev.Result)
		}
	}
	if ev.Status.Terminal() && ev.Status != event.Succeeded {
		out["Error"] = map[string]string{"ErrorType": ev.ErrorType, "ErrorMessage": ev.ErrorMessage}
	}
	c.ok(http.StatusOK, out)
}

// stopGraceKey is an emulator extension: StopDurableExecution has no grace
// period, so a client that wants SIGTERM first (asyncfn terminate --grace)
// puts {"asyncfnGraceMs": N} into the stop's ErrorData. Real Lambda keeps the
// ErrorData as part of the recorded error and ignores the key.
const stopGraceKey = "asyncfnGraceMs"

func (s *Front) stopExecution(c *awsCall) {
	ev, _, ok := s.execution(c)
	if !ok {
		return
	}
	var in struct {
		ErrorData string `json:"ErrorData"`
	}
	if !c.decode(&in) {
		return
	}
	var grace time.Duration
	if in.ErrorData != "" {
		var data map[string]json.RawMessage
		if json.Unmarshal([]byte(in.ErrorData), &data) == nil {
			var ms int64
			if json.Unmarshal(data[stopGraceKey], &ms) == nil && ms > 0 {
				grace = time.Duration(ms) * time.Millisecond
			}
		}
	}
	final, err := s.engine.Terminate(c.r.Context(), ev.Function, ev.RequestID, grace)
	if err != nil {
		c.engineFail(err)
		return
	}
	end := final.EndedAt
	if end.IsZero() {
		end = time.Now()
	}
	c.ok(http.StatusOK, map[string]any{"StopTimestamp": epochSeconds(end)})
}

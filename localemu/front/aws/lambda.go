package aws

// The AWS Lambda front: the REST API of Lambda (2015-03-31 functions and
// invoke, 2017-10-31 concurrency, 2019-09-25 event invoke config) and the
// durable-execution API (2025-12-01), served over the engine so that the AWS
// SDKs, the aws CLI and adapters/aws work against the emulator unchanged.
//
// Plain and durable functions differ as they do in Lambda: only a function
// created with a DurableConfig has one, must be invoked qualified, and has
// its events as durable executions (list, get, stop). A plain function's
// async invokes are known only by their request id and their log lines, as
// in Lambda. docs/fidelity.md lists what this front checks and where it
// differs from Lambda.

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
	"github.com/asyncfn/asyncfn/localemu/front/sigv4"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

const (
	// awsAccountID is the account every emulated ARN names (the 12 digits
	// the ARN patterns of the SDKs require).
	awsAccountID     = "000000000000"
	awsDefaultRegion = "us-east-1"
	// smallBody bounds every other request but Invoke (whose bound is the
	// synchronous payload limit): configuration, concurrency, executions,
	// CloudWatch Logs queries.
	smallBody = 1 << 20
	// logTailBytes is how much of the log X-Amz-Log-Type: Tail returns.
	logTailBytes = 4096
	// defaultDurableRetentionDays is what a durable function created
	// without RetentionPeriodInDays reports (AWS::Lambda::Function
	// DurableConfig: "RetentionPeriodInDays ... default 14"; CDK's
	// DurableConfig: retentionPeriod = Duration.days(14)).
	defaultDurableRetentionDays = 14
	// Durable limits (Lambda API reference, DurableConfig: ExecutionTimeout
	// 1-31622400 seconds, RetentionPeriodInDays 1-90).
	maxDurableExecutionTimeout = 31622400
	maxDurableRetentionDays    = 90
	// latest is the one version the emulator has: it publishes no versions
	// and has no aliases.
	latest = "$LATEST"
)

// Register adds the Lambda REST and durable-execution routes.
func (s *Front) Register(mux *http.ServeMux) {
	h := func(f handler) http.HandlerFunc { return s.awsHandler(f, restShape, smallBody) }
	code := func(f handler) http.HandlerFunc { return s.awsHandler(f, restShape, maxInlineRequest) }
	mux.HandleFunc("POST /2015-03-31/functions", code(s.createFunction))
	mux.HandleFunc("GET /2015-03-31/functions", h(s.listFunctions))
	mux.HandleFunc("GET /2015-03-31/functions/{name}", h(s.getFunction))
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}", h(s.deleteFunction))
	mux.HandleFunc("GET /2015-03-31/functions/{name}/configuration", h(s.getConfiguration))
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/configuration", h(s.updateConfiguration))
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/code", code(s.updateCode))
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.awsHandler(s.lambdaInvoke, restShape, nativeapi.MaxSyncPayload))
	mux.HandleFunc("POST /2018-10-31/layers/{layer}/versions", code(s.publishLayerVersion))
	mux.HandleFunc("GET /2018-10-31/layers/{layer}/versions", h(s.listLayerVersions))
	mux.HandleFunc("GET /2018-10-31/layers/{layer}/versions/{version}", h(s.getLayerVersion))
	mux.HandleFunc("DELETE /2018-10-31/layers/{layer}/versions/{version}", h(s.deleteLayerVersion))
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

// Every AWS route is a handler: it reads the verified request and returns
// what to answer — an answer: a status, the headers it needs, a body — or an
// error, and no handler writes to the connection. awsHandler is the one
// entry point of every route: it authenticates the request and reads its
// body, runs the handler, and has the route's wire shape write the answer or
// the error. There are two wire shapes:
//
//   - restShape, Lambda's REST APIs: JSON bodies (application/json); errors
//     carry their code in x-amzn-ErrorType and answer {"Type","message"}.
//   - json11Shape, CloudWatch Logs' JSON 1.1: bodies in
//     application/x-amz-json-1.1; errors answer {"__type","message"} (and
//     x-amzn-ErrorType as well).
//
// An error is either a *awsError — a request the API refuses before, or
// instead of, asking the engine, with the status, the AWS error code and any
// fields beside the message (TooManyRequestsException's Reason) — or the
// engine's, answered by its kind (engineError, through wireError).
//
// The one exception is StartLiveTail, whose answer is a long-lived event
// stream. Its handler checks the request as every handler does (its errors
// are answered in the JSON 1.1 shape, before anything is streamed) and
// returns streamAnswer(st); awsHandler then hands st to serveEventStream
// (livetail.go), which sends the event-stream headers and runs it for as long
// as the session lasts.

// handler is the shape of every AWS route.
type handler func(ctx context.Context, c *awsCall) (answer, error)

// awsCall is one verified request to an AWS front.
type awsCall struct {
	r         *http.Request
	body      []byte
	requestID string // x-amzn-RequestId of the answer
	region    string // from the signature's credential scope
}

// answer is what a handler sends.
type answer struct {
	status int
	// header holds the headers the answer needs beside Content-Type and
	// x-amzn-RequestId (Invoke's X-Amz-Function-Error, X-Amz-Log-Result, ...).
	header http.Header
	// body is encoded as JSON in the shape's content type; with body and
	// raw nil the answer is the status alone (202, 204).
	body any
	// raw is sent as it is, in the shape's content type (Invoke's payload).
	raw []byte
	// requestID, when set, is the x-amzn-RequestId of the answer instead of
	// the call's (Invoke answers with the event's request id).
	requestID string
	// stream is StartLiveTail's event stream (streamAnswer); nothing else
	// is set then.
	stream *eventStream
}

// ok answers 200 with body.
func ok(body any) answer { return answer{status: http.StatusOK, body: body} }

// noContent answers 204 with no body.
func noContent() answer { return answer{status: http.StatusNoContent} }

// awsError is an error answer of the API: a malformed or refused request.
type awsError struct {
	status int
	code   string
	msg    string
	// fields are sent beside the message, such as TooManyRequestsException's Reason.
	fields map[string]string
}

func (e *awsError) Error() string { return e.code + ": " + e.msg }

// apiError is an awsError with a formatted message.
func apiError(status int, code, format string, args ...any) *awsError {
	return &awsError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// invalidValue is Lambda's 400 InvalidParameterValueException.
func invalidValue(format string, args ...any) *awsError {
	return apiError(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

// awsHandler is the entry point of every AWS route: it authenticates a
// request, runs h and writes what h returns in shape. What the headers
// allow is checked before a byte of the body is read; the body is then read
// up to limit — the largest legitimate request of the route — and hashed as
// it is read, and the signature checked against that hash.
func (s *Front) awsHandler(h handler, shape wireShape, limit int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestID := uuid.NewString()
		c, err := s.receive(r, limit, shape.service, requestID)
		var a answer
		if err == nil {
			a, err = h(r.Context(), c)
		}
		switch {
		case err != nil:
			shape.writeError(w, err, requestID)
		case a.stream != nil:
			serveEventStream(w, r, a.stream, requestID)
		default:
			shape.writeAnswer(w, a, requestID)
		}
	}
}

// receive authenticates a request and reads its body (see awsHandler).
func (s *Front) receive(r *http.Request, limit int64, service, requestID string) (*awsCall, error) {
	deny := func(err error) error {
		var se *sigv4.Error
		errors.As(err, &se)
		return &awsError{status: http.StatusForbidden, code: se.Code, msg: se.Msg}
	}
	signed, err := sigv4.CheckHeaders(r, s.creds, time.Now(), sigv4.Options{})
	if err == nil {
		err = signed.CheckScope(service)
	}
	if err != nil {
		return nil, deny(err)
	}
	tooLarge := func() error {
		if limit == maxInlineRequest {
			return inlineTooLarge(r)
		}
		return apiError(http.StatusRequestEntityTooLarge, "RequestTooLargeException", "request must be smaller than %d bytes", limit+1)
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	hash := sha256.New()
	body, err := io.ReadAll(io.TeeReader(io.LimitReader(r.Body, limit+1), hash))
	if err != nil {
		return nil, apiError(http.StatusBadRequest, "InvalidRequestContentException", "read request body: %s", err.Error())
	}
	if int64(len(body)) > limit {
		return nil, tooLarge()
	}
	if err := signed.Verify(hex.EncodeToString(hash.Sum(nil))); err != nil {
		return nil, deny(err)
	}
	c := &awsCall{r: r, body: body, requestID: requestID, region: sigV4Region(r)}
	if c.region == "" {
		c.region = awsDefaultRegion
	}
	return c, nil
}

// wireShape is how one AWS protocol writes answers and errors.
type wireShape struct {
	contentType string
	// service is the SigV4 signing name of the API (its credential scope's
	// service): "lambda" for Lambda and durable executions, "logs" for
	// CloudWatch Logs (the SDK models' sigv4 signing names).
	service string
	// errorBody is the body of an error answer, before e.fields.
	errorBody func(e *awsError) map[string]string
}

var (
	// restShape is Lambda's REST protocol.
	restShape = wireShape{contentType: "application/json", service: "lambda", errorBody: func(e *awsError) map[string]string {
		typ := "User"
		if e.status >= 500 {
			typ = "Service"
		}
		return map[string]string{"Type": typ, "message": e.msg}
	}}
	// json11Shape is the awsJson1_1 protocol of CloudWatch Logs.
	json11Shape = wireShape{contentType: "application/x-amz-json-1.1", service: "logs", errorBody: func(e *awsError) map[string]string {
		return map[string]string{"__type": e.code, "message": e.msg}
	}}
)

// writeAnswer writes a handler's answer.
func (sh wireShape) writeAnswer(w http.ResponseWriter, a answer, requestID string) {
	h := w.Header()
	for k, vs := range a.header {
		h[k] = vs
	}
	if a.requestID != "" {
		requestID = a.requestID
	}
	h.Set("X-Amzn-RequestId", requestID)
	switch {
	case a.raw != nil:
		h.Set("Content-Type", sh.contentType)
		w.WriteHeader(a.status)
		_, _ = w.Write(a.raw)
	case a.body != nil:
		writeJSON(w, sh.contentType, a.status, a.body)
	default:
		w.WriteHeader(a.status)
	}
}

// writeError writes err: a *awsError as it says, any other error (the
// engine's) as engineError maps it.
func (sh wireShape) writeError(w http.ResponseWriter, err error, requestID string) {
	var e *awsError
	if !errors.As(err, &e) {
		e = engineError(err)
	}
	body := sh.errorBody(e)
	for k, v := range e.fields {
		body[k] = v
	}
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.Header().Set("X-Amzn-RequestId", requestID)
	writeJSON(w, sh.contentType, e.status, body)
}

// writeJSON answers with v as JSON in contentType (HTML characters
// unescaped, as AWS sends them).
func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// awsRESTError writes an error as Lambda does: the code in x-amzn-ErrorType
// and a JSON body with Type and message.
func awsRESTError(w http.ResponseWriter, status int, code, msg, requestID string) {
	restShape.writeError(w, &awsError{status: status, code: code, msg: msg}, requestID)
}

// engineError is Lambda's answer to an engine error: its kind's status and
// code (wireError), and the message Lambda gives.
func engineError(err error) *awsError {
	k := localemu.KindOf(err)
	if k == localemu.KindThrottled {
		// Lambda API reference, Invoke: TooManyRequestsException (429) with
		// Reason ReservedFunctionConcurrentInvocationLimitExceeded.
		return &awsError{status: http.StatusTooManyRequests, code: "TooManyRequestsException", msg: "Rate Exceeded.",
			fields: map[string]string{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}}
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
	return &awsError{status: status, code: code, msg: msg}
}

// wireError is Lambda's status and error code for each kind of engine error
// (Lambda API reference, Errors of each operation).
func wireError(k localemu.Kind) (int, string) {
	switch k {
	case localemu.KindThrottled, localemu.KindShuttingDown:
		return http.StatusTooManyRequests, "TooManyRequestsException"
	case localemu.KindFunctionNotFound, localemu.KindEventNotFound, localemu.KindNotFound:
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
func (c *awsCall) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return apiError(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: %v", err)
	}
	return nil
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
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	Environment      *environment      `json:"Environment,omitempty"`
	RevisionId       string            `json:"RevisionId"`
	State            string            `json:"State"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	DurableConfig    *lambdaDurable    `json:"DurableConfig,omitempty"`
	Layers           []layerOfFunction `json:"Layers,omitempty"`
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
		LastModified: f.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000+0000"), CodeSha256: sum, Version: latest,
		RevisionId: fmt.Sprintf("%08x-0000-4000-8000-%012x", f.Version, f.Version),
		State:      "Active", LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: []string{"x86_64"},
	}
	if len(cfg.Environment) > 0 {
		out.Environment = &environment{Variables: cfg.Environment}
	}
	// Only a function created with a DurableConfig reports one: that is how
	// a client (the aws adapter) learns that its events are durable
	// executions, with list, get and stop.
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
	Code          *codeInput     `json:"Code"`
	Layers        *[]string      `json:"Layers"`
}

// apply copies the fields that were given onto cfg.
func (in *functionInput) apply(cfg *localemu.FunctionConfig) error {
	if in.Layers != nil {
		refs, err := layerRefs(*in.Layers)
		if err != nil {
			return err
		}
		cfg.Layers = refs
	}
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
	return nil
}

// lambdaMemory checks a MemorySize as Lambda does (API reference,
// CreateFunction: MemorySize "Valid Range: Minimum value of 128. Maximum
// value of 10240"); the engine's own bound (64) is SCF's.
func lambdaMemory(mb *int) error {
	if mb != nil && (*mb < 128 || *mb > 10240) {
		return invalidValue("MemorySize %d is outside 128-10240 MB", *mb)
	}
	return nil
}

// durableConfig checks a DurableConfig as Lambda does. ExecutionTimeout is
// required ("Configure Lambda durable functions": "ExecutionTimeout –
// Required"; AWS::Lambda::Function DurableConfig: ExecutionTimeout Required:
// Yes, 1-31622400) and RetentionPeriodInDays, when given, is 1-90 (default 14).
func (d *lambdaDurable) config() (*nativeapi.DurableConfig, error) {
	if d.ExecutionTimeout == 0 {
		return nil, invalidValue("DurableConfig.ExecutionTimeout is required")
	}
	if d.ExecutionTimeout < 1 || d.ExecutionTimeout > maxDurableExecutionTimeout {
		return nil, invalidValue("DurableConfig.ExecutionTimeout %d is outside 1-%d seconds", d.ExecutionTimeout, maxDurableExecutionTimeout)
	}
	days := d.RetentionPeriodInDays
	if days == 0 {
		days = defaultDurableRetentionDays
	}
	if days < 1 || days > maxDurableRetentionDays {
		return nil, invalidValue("DurableConfig.RetentionPeriodInDays %d is outside 1-%d", days, maxDurableRetentionDays)
	}
	return &nativeapi.DurableConfig{ExecutionTimeout: d.ExecutionTimeout, RetentionPeriodInDays: days}, nil
}

func (s *Front) createFunction(ctx context.Context, c *awsCall) (answer, error) {
	var in functionInput
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	if in.FunctionName == "" {
		return answer{}, invalidValue("FunctionName is required")
	}
	name, _ := functionName(in.FunctionName)
	if in.Role == "" || !strings.HasPrefix(in.Role, "arn:") {
		return answer{}, invalidValue("Role %q is not an IAM role ARN", in.Role)
	}
	code, err := in.Code.code("Code")
	if err != nil {
		return answer{}, codeError(err)
	}
	if _, _, err := s.engine.Function(ctx, name); err == nil {
		return answer{}, apiError(http.StatusConflict, "ResourceConflictException", "Function already exist: %s", name)
	} else if !errors.Is(err, localemu.ErrFunctionNotFound) {
		return answer{}, err
	}
	cfg := localemu.FunctionConfig{Name: name, Provider: cloud.AWS, Region: c.region}
	if err := in.apply(&cfg); err != nil {
		return answer{}, err
	}
	if err := lambdaMemory(in.MemorySize); err != nil {
		return answer{}, err
	}
	if in.DurableConfig != nil {
		d, err := in.DurableConfig.config()
		if err != nil {
			return answer{}, err
		}
		cfg.Async.Durable = d
	}
	f, err := s.engine.DeployCode(ctx, cfg, code)
	if err != nil {
		return answer{}, codeError(err)
	}
	return answer{status: http.StatusCreated, body: s.configuration(ctx, f, &cfg)}, nil
}

// function loads the function the {name} label names; its error is the
// engine's (ResourceNotFoundException for a function that does not exist).
func (s *Front) function(ctx context.Context, c *awsCall) (store.Function, *localemu.FunctionConfig, error) {
	name, _ := functionName(c.r.PathValue("name"))
	return s.engine.Function(ctx, name)
}

// pageStart reads a paging marker this front handed out: an offset, or
// nothing for the first page. Anything else is not a marker of ours.
// page reads a list call's Marker and MaxItems (1 to maxItems): where its
// page starts, and how many items it holds (at most 50, Lambda's page).
func page(c *awsCall, maxItems int) (start, size int, err error) {
	q := c.r.URL.Query()
	start, valid := pageStart(q.Get("Marker"))
	if !valid {
		return 0, 0, invalidValue("Marker %q is not a marker this API returned", q.Get("Marker"))
	}
	size = 50
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxItems {
			return 0, 0, invalidValue("MaxItems %q is not between 1 and %d", v, maxItems)
		}
		size = min(n, 50)
	}
	return start, size, nil
}

func pageStart(marker string) (int, bool) {
	if marker == "" {
		return 0, true
	}
	n, err := strconv.Atoi(marker)
	return n, err == nil && n >= 0
}

func (s *Front) listFunctions(ctx context.Context, c *awsCall) (answer, error) {
	fns, err := s.engine.Functions(ctx)
	if err != nil {
		return answer{}, err
	}
	// Lambda API reference, ListFunctions: MaxItems is 1-10000 (answered in pages of at most 50).
	start, max, err := page(c, 10000)
	if err != nil {
		return answer{}, err
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
		out.Functions = append(out.Functions, s.configuration(ctx, fns[i], cfg))
		if len(out.Functions) == max && i+1 < len(fns) {
			out.NextMarker = strconv.Itoa(i + 1)
		}
	}
	return ok(out), nil
}

func (s *Front) getFunction(ctx context.Context, c *awsCall) (answer, error) {
	f, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	out := map[string]any{
		"Configuration": s.configuration(ctx, f, cfg),
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "http://" + c.r.Host + "/v1/functions/" + f.Name},
	}
	if cfg.ReservedConcurrency != nil {
		out["Concurrency"] = map[string]int{"ReservedConcurrentExecutions": *cfg.ReservedConcurrency}
	}
	return ok(out), nil
}

func (s *Front) getConfiguration(ctx context.Context, c *awsCall) (answer, error) {
	f, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	return ok(s.configuration(ctx, f, cfg)), nil
}

func (s *Front) deleteFunction(ctx context.Context, c *awsCall) (answer, error) {
	name, _ := functionName(c.r.PathValue("name"))
	if err := s.engine.RemoveFunction(ctx, name); err != nil {
		return answer{}, err
	}
	return noContent(), nil
}

func (s *Front) updateConfiguration(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	var in functionInput
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	if err := in.apply(cfg); err != nil {
		return answer{}, err
	}
	if err := lambdaMemory(in.MemorySize); err != nil {
		return answer{}, err
	}
	if in.DurableConfig != nil {
		// "You can only enable durable execution when creating a function.
		// You cannot enable it on existing functions." (Lambda developer
		// guide, Configure Lambda durable functions). A durable function's
		// settings may change ("Update requires: No interruption").
		if cfg.Async.Durable == nil {
			return answer{}, invalidValue("DurableConfig can only be set when a function is created; %s was created without one", cfg.Name)
		}
		d, err := in.DurableConfig.config()
		if err != nil {
			return answer{}, err
		}
		cfg.Async.Durable = d
	}
	return s.redeploy(ctx, cfg, localemu.Code{})
}

func (s *Front) updateCode(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	var in codeInput
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	code, err := in.code("Code")
	if err != nil {
		return answer{}, codeError(err)
	}
	return s.redeploy(ctx, cfg, code)
}

// redeploy stores cfg (and code, unless the zero Code) and answers with the configuration.
func (s *Front) redeploy(ctx context.Context, cfg *localemu.FunctionConfig, code localemu.Code) (answer, error) {
	f, err := s.engine.DeployCode(ctx, *cfg, code)
	if err != nil {
		return answer{}, codeError(err)
	}
	return ok(s.configuration(ctx, f, cfg)), nil
}

// configuration is lambdaConfiguration with the function's layers.
func (s *Front) configuration(ctx context.Context, f store.Function, cfg *localemu.FunctionConfig) lambdaFunction {
	out := lambdaConfiguration(f, cfg)
	out.Layers = s.functionLayers(ctx, cfg)
	return out
}

func (s *Front) putConcurrency(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	var in struct {
		ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	if in.ReservedConcurrentExecutions == nil || *in.ReservedConcurrentExecutions < 0 {
		return answer{}, invalidValue("ReservedConcurrentExecutions must be a number >= 0")
	}
	cfg.ReservedConcurrency = in.ReservedConcurrentExecutions
	if _, err := s.engine.Deploy(ctx, *cfg, nil); err != nil {
		return answer{}, err
	}
	return ok(in), nil
}

func (s *Front) getConcurrency(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	out := map[string]int{}
	if cfg.ReservedConcurrency != nil {
		out["ReservedConcurrentExecutions"] = *cfg.ReservedConcurrency
	}
	return ok(out), nil
}

func (s *Front) deleteConcurrency(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	cfg.ReservedConcurrency = nil
	if _, err := s.engine.Deploy(ctx, *cfg, nil); err != nil {
		return answer{}, err
	}
	return noContent(), nil
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
func (s *Front) putEventInvokeConfig(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	var in lambdaEventInvokeConfig
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	if c.r.Method == http.MethodPut {
		cfg.Async.RetryAttempts, cfg.Async.MaxEventAge, cfg.Async.OnSuccess, cfg.Async.OnFailure = nil, 0, "", ""
	}
	if n := in.MaximumRetryAttempts; n != nil {
		if *n < 0 || *n > 2 {
			return answer{}, invalidValue("MaximumRetryAttempts %d is outside 0-2", *n)
		}
		cfg.Async.RetryAttempts = n
	}
	if n := in.MaximumEventAgeInSeconds; n != nil {
		if *n < 60 || *n > 21600 {
			return answer{}, invalidValue("MaximumEventAgeInSeconds %d is outside 60-21600", *n)
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
	f, err := s.engine.Deploy(ctx, *cfg, nil)
	if err != nil {
		return answer{}, err
	}
	return ok(eventInvokeConfig(f, cfg)), nil
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

// noEventInvokeConfig is Lambda's answer for a function without one.
func noEventInvokeConfig(f store.Function, cfg *localemu.FunctionConfig) error {
	return apiError(http.StatusNotFound, "ResourceNotFoundException", "The function %s doesn't have an EventInvokeConfig", aRN(cfg.Region, f.Name))
}

func (s *Front) getEventInvokeConfig(ctx context.Context, c *awsCall) (answer, error) {
	f, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	if !hasEventInvokeConfig(cfg) {
		return answer{}, noEventInvokeConfig(f, cfg)
	}
	return ok(eventInvokeConfig(f, cfg)), nil
}

func (s *Front) deleteEventInvokeConfig(ctx context.Context, c *awsCall) (answer, error) {
	f, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	if !hasEventInvokeConfig(cfg) {
		return answer{}, noEventInvokeConfig(f, cfg)
	}
	cfg.Async.RetryAttempts, cfg.Async.MaxEventAge, cfg.Async.OnSuccess, cfg.Async.OnFailure = nil, 0, "", ""
	if _, err := s.engine.Deploy(ctx, *cfg, nil); err != nil {
		return answer{}, err
	}
	return noContent(), nil
}

// lambdaInvoke answers Invoke: 202 with the execution's ARN for an Event
// invoke, 204 for a DryRun, and for RequestResponse 200 with the function's
// result as it returned it, or its error as {"errorMessage","errorType"}
// with X-Amz-Function-Error: Unhandled.
func (s *Front) lambdaInvoke(ctx context.Context, c *awsCall) (answer, error) {
	name, qualifier := functionName(c.r.PathValue("name"))
	if q := c.r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	typ := c.r.Header.Get("X-Amz-Invocation-Type")
	switch typ {
	case "", event.InvokeRequestResponse, event.InvokeEvent:
	case "DryRun":
		// DryRun checks that the call would be allowed, without running it.
		if _, err := s.invocable(name, qualifier); err != nil {
			return answer{}, err
		}
		if len(c.body) > nativeapi.MaxSyncPayload {
			return answer{}, &localemu.PayloadTooLargeError{Size: len(c.body), Limit: nativeapi.MaxSyncPayload}
		}
		return noContent(), nil
	default:
		return answer{}, invalidValue("X-Amz-Invocation-Type %q is not Event, RequestResponse or DryRun", typ)
	}
	logType := c.r.Header.Get("X-Amz-Log-Type")
	if logType != "" && logType != "None" && logType != "Tail" {
		return answer{}, invalidValue("X-Amz-Log-Type %q is not None or Tail", logType)
	}
	cfg, err := s.invocable(name, qualifier)
	if err != nil {
		return answer{}, err
	}
	req := localemu.InvokeRequest{Function: name, Payload: c.body, Type: typ, Qualifier: qualifier}
	durableName := c.r.Header.Get("X-Amz-Durable-Execution-Name")
	if durableName != "" && cfg.Async.Durable == nil {
		return answer{}, invalidValue("X-Amz-Durable-Execution-Name is for durable functions; %s was created without a DurableConfig", name)
	}
	if typ == event.InvokeEvent {
		req.DurableName = durableName
	}
	ev, err := s.engine.Invoke(ctx, req)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: http.StatusOK, header: http.Header{}, requestID: ev.RequestID}
	if typ == event.InvokeEvent {
		a.status = http.StatusAccepted
		if cfg.Async.Durable != nil {
			// Only a durable function's invoke starts a durable execution.
			a.header.Set("X-Amz-Durable-Execution-Arn", executionARN(cfg.Region, ev))
		}
		return a, nil
	}
	a.header.Set("X-Amz-Executed-Version", latest)
	if logType == "Tail" {
		a.header.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(s.logTail(ctx, ev.RequestID)))
	}
	if ev.Status == event.Succeeded {
		a.raw = ev.Result
		if len(a.raw) == 0 {
			a.raw = []byte("null")
		}
		return a, nil
	}
	a.header.Set("X-Amz-Function-Error", "Unhandled")
	a.body = map[string]any{"errorMessage": ev.ErrorMessage, "errorType": ev.ErrorType}
	return a, nil
}

// invocable returns the configuration of the function an invoke names, or
// Lambda's refusal. A durable function must be invoked qualified: "You cannot
// invoke a durable function using an unqualified ARN" (Lambda's
// InvalidParameterValueException; developer guide, Invoking durable Lambda
// functions: "durable functions require qualified identifiers", a version,
// an alias or $LATEST). The emulator has one version, $LATEST: no published
// versions and no aliases, so any other qualifier names a version that does
// not exist, which Lambda answers 404 "Function not found: <qualified ARN>".
func (s *Front) invocable(name, qualifier string) (*localemu.FunctionConfig, error) {
	cfg, ok := s.engine.DeployedConfig(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", localemu.ErrFunctionNotFound, name)
	}
	switch {
	case qualifier == "" && cfg.Async.Durable != nil:
		return nil, invalidValue("You cannot invoke a durable function using an unqualified ARN.")
	case qualifier != "" && qualifier != latest:
		return nil, apiError(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s:%s", aRN(cfg.Region, name), qualifier)
	}
	return cfg, nil
}

// logTail is the last 4 KB of an event's log, formatted as CloudWatch shows
// it. It reads the newest lines only: every line is at least one byte, so
// logTailBytes lines hold at least the bytes kept.
func (s *Front) logTail(ctx context.Context, requestID string) []byte {
	lines, err := s.engine.Logs(ctx, store.LogQuery{RequestID: requestID, Desc: true, Limit: logTailBytes})
	if err != nil {
		return nil
	}
	reverse(lines)
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

// executionARN names an event as a durable execution, as Lambda does
// (Lambda API reference, Execution: DurableExecutionArn
// arn:...:function:<name>:<$LATEST|version>/durable-execution/<execution
// name>/<execution id>): the qualifier it was invoked with, its name — the
// one given at invoke, or for an unnamed execution a generated one, here its
// request id — and its id, the event's request id.
func executionARN(region string, ev store.Event) string {
	return qualifiedARN(region, ev) + "/durable-execution/" + executionName(ev) + "/" + ev.RequestID
}

// qualifiedARN is the function ARN an event was invoked through.
func qualifiedARN(region string, ev store.Event) string {
	q := ev.Qualifier
	if q == "" {
		q = latest
	}
	return aRN(region, ev.Function) + ":" + q
}

func executionName(ev store.Event) string {
	if ev.DurableName != "" {
		return ev.DurableName
	}
	return ev.RequestID
}

// parseExecutionARN returns the function name and execution id an execution
// ARN names; the caller then checks that the whole ARN is the event's.
func parseExecutionARN(arn string) (fn, requestID string, ok bool) {
	head, tail, found := strings.Cut(arn, "/durable-execution/")
	if !found || !strings.HasPrefix(head, "arn:") {
		return "", "", false
	}
	fn, _ = functionName(head)
	name, id, found := strings.Cut(tail, "/")
	return fn, id, found && fn != "" && name != "" && id != "" && !strings.Contains(id, "/")
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
	return lambdaExecution{DurableExecutionArn: executionARN(region, ev), DurableExecutionName: executionName(ev),
		FunctionArn: qualifiedARN(region, ev), Status: ev.Status.Durable(),
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

func (s *Front) listExecutions(ctx context.Context, c *awsCall) (answer, error) {
	_, cfg, err := s.function(ctx, c)
	if err != nil {
		return answer{}, err
	}
	if cfg.Async.Durable == nil {
		// Only a function created with a DurableConfig has durable
		// executions. Lambda documents no error for listing those of a
		// plain function; it has none, so the list is empty.
		return ok(struct {
			DurableExecutions []lambdaExecution `json:"DurableExecutions"`
		}{DurableExecutions: []lambdaExecution{}}), nil
	}
	name, _ := functionName(c.r.PathValue("name"))
	qs := c.r.URL.Query()
	// The list shows neither payload nor result: they are not loaded.
	q := store.EventQuery{Function: name, InvokeType: event.InvokeEvent, Omit: store.OmitBlobs}
	for _, v := range qs["Statuses"] {
		for _, one := range strings.Split(v, ",") {
			sts, ok := durableStatuses(one)
			if !ok {
				return answer{}, invalidValue("Statuses: %q is not RUNNING, SUCCEEDED, FAILED, TIMED_OUT or STOPPED", one)
			}
			q.Statuses = append(q.Statuses, sts...)
		}
	}
	for key, dst := range map[string]*time.Time{"StartedAfter": &q.CreatedAfter, "StartedBefore": &q.CreatedBefore} {
		if v := qs.Get(key); v != "" {
			t, err := parseQueryTime(v)
			if err != nil {
				return answer{}, invalidValue("%s: %v", key, err)
			}
			*dst = t
		}
	}
	q.Desc = qs.Get("ReverseOrder") == "true"
	if m := qs.Get("Marker"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return answer{}, invalidValue("Marker %q is not a marker this API returned", m)
		}
		q.Offset = n
	}
	q.Limit = 100
	if v := qs.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return answer{}, invalidValue("MaxItems %q is outside 1-1000", v)
		}
		q.Limit = n
	}
	q.DurableName = qs.Get("DurableExecutionName") // a name matches at most one execution
	evs, total, err := s.engine.Events(ctx, q)
	if err != nil {
		return answer{}, err
	}
	out := struct {
		DurableExecutions []lambdaExecution `json:"DurableExecutions"`
		NextMarker        string            `json:"NextMarker,omitempty"`
	}{DurableExecutions: []lambdaExecution{}}
	for _, ev := range evs {
		out.DurableExecutions = append(out.DurableExecutions, executionSummary(cfg.Region, ev))
	}
	if q.Offset+len(evs) < total {
		out.NextMarker = strconv.Itoa(q.Offset + len(evs))
	}
	return ok(out), nil
}

// execution loads the event an {arn} label names, and its function's region.
func (s *Front) execution(ctx context.Context, c *awsCall) (store.Event, string, error) {
	arn := c.r.PathValue("arn")
	fn, id, ok := parseExecutionARN(arn)
	if !ok {
		return store.Event{}, "", invalidValue("%q is not a durable execution ARN", arn)
	}
	notFound := apiError(http.StatusNotFound, "ResourceNotFoundException", "Durable execution not found: %s", arn)
	_, cfg, err := s.engine.Function(ctx, fn)
	if err != nil || cfg.Async.Durable == nil {
		return store.Event{}, "", notFound // a plain function has no durable executions
	}
	ev, err := s.engine.Event(ctx, fn, id)
	// The whole ARN must be the execution's: region, account, qualifier and
	// name as well as the id at its end.
	if err != nil || ev.InvokeType != event.InvokeEvent || executionARN(cfg.Region, ev) != arn {
		return store.Event{}, "", notFound
	}
	return ev, cfg.Region, nil
}

func (s *Front) getExecution(ctx context.Context, c *awsCall) (answer, error) {
	ev, region, err := s.execution(ctx, c)
	if err != nil {
		return answer{}, err
	}
	sum := executionSummary(region, ev)
	out := map[string]any{
		"DurableExecutionArn": sum.DurableExecutionArn, "DurableExecutionName": sum.DurableExecutionName,
		"FunctionArn": sum.FunctionArn, "Status": sum.Status, "StartTimestamp": sum.StartTimestamp, "Version": latest,
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
	return ok(out), nil
}

// stopGraceKey is an emulator extension: StopDurableExecution has no grace
// period, so a client that wants SIGTERM first (asyncfn terminate --grace)
// puts {"asyncfnGraceMs": N} into the stop's ErrorData. Real Lambda keeps the
// ErrorData as part of the recorded error and ignores the key.
const stopGraceKey = "asyncfnGraceMs"

func (s *Front) stopExecution(ctx context.Context, c *awsCall) (answer, error) {
	ev, _, err := s.execution(ctx, c)
	if err != nil {
		return answer{}, err
	}
	var in struct {
		ErrorData string `json:"ErrorData"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
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
	final, err := s.engine.Terminate(ctx, ev.Function, ev.RequestID, grace)
	if err != nil {
		return answer{}, err
	}
	end := final.EndedAt
	if end.IsZero() {
		end = time.Now()
	}
	return ok(map[string]any{"StopTimestamp": epochSeconds(end)}), nil
}

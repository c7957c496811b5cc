package scf

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
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/runtime"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// The SCF front speaks Tencent Cloud API 3.0 for SCF (version 2018-04-16):
// POST / with a JSON body, the action in X-TC-Action, answers
// {"Response":{...,"RequestId"}} and errors {"Response":{"Error":{"Code","Message"},"RequestId"}}
// with HTTP 200, as the cloud does. Request and response shapes follow the
// SDK's models (tencentcloud-sdk-go scf/v20180416) and the API reference.
//
// What the emulator decides where the cloud is silent or unreachable:
//   - Times are China Standard Time (UTC+8), as SCF's API writes them.
//   - A function reports Creating/Updating for settleTime after a change,
//     so clients exercise their wait-until-Active loop; updates during that
//     window fail with FailedOperation.UpdateFunctionCode / ...Configuration.
//   - GetFunctionLogs returns one FunctionLog per attempt (RetryNum counts
//     the retries before it), its Log the whole text of that attempt so far;
//     a running attempt has InvokeFinished 0 and a growing Log.
//   - GraceShutdown sends SIGTERM and allows graceShutdown before SIGKILL:
//     SCF does not document its grace length.
//   - Only the "default" namespace exists.
//
// Error codes: every refusal uses a code of the action's own error list
// (tencentcloud-sdk-go scf/v20180416 client.go, the "可能返回的错误码" of
// each action; meanings in errors.go) or one of API 3.0's common codes
// (MissingParameter, InvalidParameterValue, UnknownParameter, ...). Where the
// list has no code for a case, the closest listed one is used and the choice
// is said where it is made. docs/fidelity.md lists the checks per action.

const (
	apiVersion = "2018-04-16"
	// settleTime is how long a created or updated function reports
	// Creating / Updating before Active.
	settleTime = 300 * time.Millisecond
	// graceShutdown is the SIGTERM-to-SIGKILL window of TerminateAsyncEvent
	// with GraceShutdown.
	graceShutdown    = 30 * time.Second
	defaultNamespace = "default"
	latest           = "$LATEST"
	maxPageLimit     = 100
	logMaxLimit      = 10000 // GetFunctionLogs: Offset+Limit
	defaultRuntime   = "Python3.6"
	minMsgTTL        = 60
	maxMsgTTL        = 21600
	maxRetryNum      = 2
	// maxMemory: CreateFunction / UpdateFunctionConfiguration MemorySize is
	// "64、128MB-3072MB，并且以 128MB 为阶梯" (SCF API, models.go).
	maxMemory = 3072
	// syncInvokeLimit: "接口超时时间为 300s，更长超时时间请使用异步调用"
	// (SCF API, Invoke: InvocationType): a RequestResponse Invoke waits at
	// most 300 s for its result, whatever the function's Timeout.
	syncInvokeLimit = 300 * time.Second
	// eventRetention: "事件状态保留 3 * 24 小时（从事件完成开始计时）"
	// (SCF API, GetAsyncEventStatus).
	eventRetention = 72 * time.Hour
	// timeLayout is "%Y-%m-%d %H:%M:%S"; milliLayout adds the milliseconds,
	// as SCF writes AsyncEvent.StartTime/EndTime ("2020-12-01 08:35:00.000",
	// SCF API, ListAsyncEvents example; tencentcloud-cli examples.json).
	timeLayout  = "2006-01-02 15:04:05"
	milliLayout = "2006-01-02 15:04:05.000"
)

// SCF status codes the emulator reports in GetAsyncEventStatus.StatusCode,
// Invoke's InvokeResult and FunctionLog.RetCode (0 = success in the latter two),
// as SCF's "function status codes" page lists them.
const (
	codeOK         = 200
	codeUserError  = 430 // UserCodeException
	codeTimeout    = 433 // TimeLimitReached
	codeMemory     = 434 // MemoryLimitReached: killed for using more than its memory size
	codeProcessEnd = 439 // User process exit when running (crash or terminate)
)

// FunctionLog.RetCode outside the status codes: "如果是 0 表示执行成功，2表示
// 函数运行中，3表示函数执行中断，其他值表示失败"; and InvokeFinished "如果是 1
// 表示执行结束，其他值表示调用异常" (SCF API, models.go FunctionLog).
const (
	logRunning     = 2 // the attempt is still running
	logInterrupted = 3 // the attempt was terminated (TerminateAsyncEvent)
)

// apiZone is the time zone of SCF's API times.
func apiZone() *time.Location { return time.FixedZone("CST", 8*3600) }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(apiZone()).Format(milliLayout)
}

func secondTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(apiZone()).Format(timeLayout)
}

// parseSCFTime reads "%Y-%m-%d %H:%M:%S" with an optional fraction, in CST.
func parseSCFTime(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.TrimSpace(s), apiZone())
}

// apiError is an API error answer.
type apiError struct{ Code, Message string }

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (s *Front) serve(w http.ResponseWriter, r *http.Request) {
	requestID := uuid.NewString()
	resp, err := s.handleSCF(r.Context(), w, r)
	if err != nil {
		var se *apiError
		if !errors.As(err, &se) {
			se = engineError(err)
		}
		writeResponse(w, map[string]any{"Error": map[string]string{"Code": se.Code, "Message": se.Message}, "RequestId": requestID})
		return
	}
	out := map[string]any{}
	if resp != nil {
		b, err := json.Marshal(resp)
		if err == nil {
			var fields map[string]json.RawMessage
			if json.Unmarshal(b, &fields) == nil {
				for k, v := range fields {
					out[k] = v
				}
			}
		}
	}
	out["RequestId"] = requestID
	writeResponse(w, out)
}

func writeResponse(w http.ResponseWriter, response map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK) // API 3.0 answers errors with 200 as well
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"Response": response})
}

// Body bounds by action. CreateFunction, UpdateFunctionCode and
// PublishLayerVersion may carry code inline (codeBody, code.go); Invoke
// carries a payload of up to 6 MB (ClientContext); every other action is
// small.
const (
	// invokeBody leaves room for a 6 MB ClientContext escaped in JSON; the
	// engine then holds the payload itself to the 6 MB limit.
	invokeBody = 2*nativeapi.MaxSyncPayload + 64<<10
	smallBody  = 1 << 20
)

func bodyLimit(action string) int64 {
	switch action {
	case "CreateFunction", "UpdateFunctionCode", "PublishLayerVersion":
		return codeBody
	case "Invoke":
		return invokeBody
	}
	return smallBody
}

// handleSCF authenticates, decodes and dispatches one request. What the
// headers allow is checked before a byte of the body is read; the body is
// then read up to the largest legitimate request of its action, hashed as it
// is read, and the signature checked against that hash.
func (s *Front) handleSCF(ctx context.Context, w http.ResponseWriter, r *http.Request) (any, error) {
	var signed *tc3Request
	if s.creds != nil {
		var f *tc3Failure
		if signed, f = checkTC3Headers(r, s.creds, time.Now()); f != nil {
			return nil, &apiError{Code: f.Code, Message: f.Message}
		}
	}
	limit := bodyLimit(r.Header.Get("X-TC-Action"))
	tooLarge := func() error {
		code := "RequestSizeLimitExceeded" // API 3.0's common code for an oversize request
		if r.Header.Get("X-TC-Action") == "Invoke" {
			code = "InvalidParameter.RequestTooLarge" // what Invoke answers a payload over its limit
		}
		return apiErr(code, "the request body exceeds the %d bytes this action takes", limit)
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	hash := sha256.New()
	body, err := io.ReadAll(io.TeeReader(http.MaxBytesReader(w, r.Body, limit), hash))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, tooLarge()
		}
		return nil, apiErr("InvalidParameter", "read the request body: %v", err)
	}
	if signed != nil {
		if f := signed.verify(hex.EncodeToString(hash.Sum(nil)), s.creds); f != nil {
			return nil, &apiError{Code: f.Code, Message: f.Message}
		}
	}
	action := r.Header.Get("X-TC-Action")
	if action == "" {
		return nil, apiErr("MissingParameter", "the request is missing the X-TC-Action header (the API action)")
	}
	if v := r.Header.Get("X-TC-Version"); v == "" {
		return nil, apiErr("MissingParameter", "the request is missing the X-TC-Version header (SCF is %s)", apiVersion)
	} else if action == "GetUserAppId" && v == camVersion {
		return s.getUserAppID() // CAM's, for the appid in COS bucket names (code.go)
	} else if v != apiVersion {
		return nil, apiErr("NoSuchVersion", "version %q of the SCF API does not exist; use %s", v, apiVersion)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return s.dispatch(ctx, action, body)
}

func (s *Front) dispatch(ctx context.Context, action string, body []byte) (any, error) {
	switch action {
	case "CreateFunction":
		return s.createFunction(ctx, body)
	case "GetFunction":
		return s.getFunction(ctx, body)
	case "ListFunctions":
		return s.listFunctions(ctx, body)
	case "UpdateFunctionCode":
		return s.updateFunctionCode(ctx, body)
	case "UpdateFunctionConfiguration":
		return s.updateFunctionConfiguration(ctx, body)
	case "DeleteFunction":
		return s.deleteFunction(ctx, body)
	case "Invoke":
		return s.invokeAction(ctx, body)
	case "ListAsyncEvents":
		return s.listAsyncEvents(ctx, body)
	case "GetAsyncEventStatus":
		return s.getAsyncEventStatus(ctx, body)
	case "TerminateAsyncEvent":
		return s.terminateAsyncEvent(ctx, body)
	case "GetFunctionEventInvokeConfig":
		return s.getEventInvokeConfig(ctx, body)
	case "UpdateFunctionEventInvokeConfig":
		return s.updateEventInvokeConfig(ctx, body)
	case "GetFunctionLogs":
		return s.getFunctionLogs(ctx, body)
	case "PublishLayerVersion":
		return s.publishLayerVersion(ctx, body)
	case "GetLayerVersion":
		return s.getLayerVersion(ctx, body)
	case "ListLayerVersions":
		return s.listLayerVersions(ctx, body)
	case "ListLayers":
		return s.listLayers(ctx, body)
	case "DeleteLayerVersion":
		return s.deleteLayerVersion(ctx, body)
	}
	return nil, apiErr("InvalidAction", "the action %q is not an SCF %s action the emulator serves", action, apiVersion)
}

// engineError maps an engine error onto SCF's codes.
func engineError(err error) *apiError {
	code := wireError(localemu.KindOf(err))
	var invalid *localemu.InvalidParameterError
	switch {
	case code == "FailedOperation.InvokeFunction":
		return apiErr(code, "432 ResourceLimitReached: %v", err)
	case errors.As(err, &invalid):
		return apiErr(code, "%s", invalid.Msg)
	case localemu.KindOf(err) == localemu.KindCanceled:
		return apiErr(code, "the request ended before the operation completed: %v", err)
	}
	return apiErr(code, "%v", err)
}

// wireError is SCF's error code for each kind of engine error (scf
// v20180416 errors, and the codes each action lists).
func wireError(k localemu.Kind) string {
	switch k {
	case localemu.KindThrottled:
		// SCF's function status code 432 ResourceLimitReached ("the
		// concurrency exceeds the limit", SCF docs: function status codes),
		// reported by Invoke as FailedOperation.InvokeFunction.
		return "FailedOperation.InvokeFunction"
	case localemu.KindFunctionNotFound:
		return "ResourceNotFound.Function"
	case localemu.KindEventNotFound:
		return "ResourceNotFound.AsyncEvent"
	case localemu.KindNotFound:
		// A layer version, bucket or object: the common Tencent Cloud API
		// code; operations with a more specific one map it themselves.
		return "ResourceNotFound"
	case localemu.KindEventFinished:
		return "FailedOperation.AsyncEventStatus"
	case localemu.KindShuttingDown:
		return "ResourceUnavailable"
	case localemu.KindTooLarge:
		// InvalidParameter.RequestTooLarge: "请求大小超限" (request size exceeds the limit).
		return "InvalidParameter.RequestTooLarge"
	case localemu.KindInvalid:
		return "InvalidParameterValue"
	}
	return "InternalError"
}

// decodeSCF reads a request body into v; malformed JSON or a value of the
// wrong type is InvalidParameter.
func decodeSCF(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return apiErr("InvalidParameter", "the request body is not the expected JSON: %v", err)
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// varInput is one environment variable.
type varInput struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type envInput struct {
	Variables []varInput `json:"Variables"`
}

type codeInput struct {
	ZipFile         *string `json:"ZipFile,omitempty"`
	CosBucketName   *string `json:"CosBucketName,omitempty"`
	CosObjectName   *string `json:"CosObjectName,omitempty"`
	CosBucketRegion *string `json:"CosBucketRegion,omitempty"`
	DemoId          *string `json:"DemoId,omitempty"`
	GitUrl          *string `json:"GitUrl,omitempty"`
}

type functionRef struct {
	FunctionName *string `json:"FunctionName"`
	Namespace    *string `json:"Namespace"`
	Qualifier    *string `json:"Qualifier"`
}

// lookupFunction checks the name and namespace and returns the function. A
// qualifier other than $LATEST is ResourceNotFound.Version (GetFunction,
// ListAsyncEvents, GetFunctionEventInvokeConfig list it); actions whose error
// list has no such code rewrite it (versionMissing).
func (s *Front) lookupFunction(ctx context.Context, ref functionRef) (store.Function, *localemu.FunctionConfig, error) {
	name := str(ref.FunctionName)
	if name == "" {
		return store.Function{}, nil, apiErr("MissingParameter", "FunctionName is required")
	}
	if err := checkNamespace(ref.Namespace); err != nil {
		return store.Function{}, nil, err
	}
	if q := str(ref.Qualifier); q != "" && q != latest {
		return store.Function{}, nil, apiErr("ResourceNotFound.Version", "version %q of %s does not exist: the emulator keeps only %s", q, name, latest)
	}
	f, cfg, err := s.engine.Function(ctx, name)
	if err != nil {
		if errors.Is(err, localemu.ErrFunctionNotFound) {
			return f, nil, apiErr("ResourceNotFound.Function", "function %s does not exist in namespace %s", name, defaultNamespace)
		}
		return f, nil, err
	}
	return f, cfg, nil
}

// versionMissing rewrites ResourceNotFound.Version into code, for the
// actions whose error list names another code for a missing version:
// DeleteFunction ResourceNotFound.Qualifier; Invoke and GetFunctionLogs list
// none, so the function (that version of it) is not found:
// ResourceNotFound.Function.
func versionMissing(err error, code string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "ResourceNotFound.Version" {
		return &apiError{Code: code, Message: ae.Message}
	}
	return err
}

// tracked refuses the async event actions for a function that is not in
// async run mode with event tracking: ListAsyncEvents, GetAsyncEventStatus and
// TerminateAsyncEvent serve "异步执行" functions, and only "开启状态追踪" ones
// record events ("异步执行事件状态仅保留3天", SCF docs, 状态追踪,
// cloud.tencent.com/document/product/583/63967). No source names the code SCF
// answers; ListAsyncEvents' and TerminateAsyncEvent's lists share
// InvalidParameterValue.FunctionName, the closest (the FunctionName is not one
// this action takes), which keeps it apart from ResourceNotFound.Function.
func tracked(name string, cfg *localemu.FunctionConfig) error {
	switch {
	case !cfg.Async.Enabled:
		return apiErr("InvalidParameterValue.FunctionName", "function %s is not in async run mode (AsyncRunEnable FALSE): async events are kept only for functions created with AsyncRunEnable TRUE and TraceEnable TRUE", name)
	case !cfg.Async.Trace:
		return apiErr("InvalidParameterValue.FunctionName", "function %s has no event tracking (TraceEnable FALSE): async events are kept only for functions created with TraceEnable TRUE", name)
	}
	return nil
}

func checkNamespace(ns *string) error {
	if n := str(ns); n != "" && n != defaultNamespace {
		return apiErr("ResourceNotFound.Namespace", "namespace %q does not exist: the emulator has only %q", n, defaultNamespace)
	}
	return nil
}

func boolParam(field string, v *string) (bool, error) {
	switch strings.ToUpper(str(v)) {
	case "", "FALSE":
		return false, nil
	case "TRUE":
		return true, nil
	}
	return false, apiErr("InvalidParameterValue."+field, "%s must be TRUE or FALSE, not %q", field, str(v))
}

func flag(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// statusOf is a function's Status: Creating / Updating shortly after a change.
func statusOf(f store.Function, now time.Time) string {
	if now.Sub(f.UpdatedAt) < settleTime {
		if f.Version <= 1 {
			return "Creating"
		}
		return "Updating"
	}
	return "Active"
}

// decodeZip decodes a base64 zip.
func decodeZip(field string, b64 string) ([]byte, error) {
	zip, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, apiErr("InvalidParameterValue.ZipFileBase64BinasciiError", "%s is not base64: %v", field, err)
	}
	if len(zip) < 4 || string(zip[:2]) != "PK" {
		return nil, apiErr("InvalidParameterValue.ZipFile", "%s is not a zip archive", field)
	}
	return zip, nil
}

func checkConfig(cfg *localemu.FunctionConfig) error {
	// MemorySize: 64, or 128 to 3072 in steps of 128 (maxMemory). A step
	// above the maximum is LimitExceeded.Memory ("内存超出最大限制"), any
	// other value InvalidParameterValue.MemorySize; both are in the lists of
	// CreateFunction and UpdateFunctionConfiguration.
	if cfg.MemorySize != 64 && (cfg.MemorySize < 128 || cfg.MemorySize%128 != 0) {
		return apiErr("InvalidParameterValue.MemorySize", "MemorySize %d is not 64 or 128 to %d in steps of 128", cfg.MemorySize, maxMemory)
	}
	if cfg.MemorySize > maxMemory {
		return apiErr("LimitExceeded.Memory", "MemorySize %d exceeds the maximum of %d MB", cfg.MemorySize, maxMemory)
	}
	limit := nativeapi.MaxSyncTimeout
	if cfg.Async.Enabled {
		limit = nativeapi.MaxAsyncTimeout
	}
	// Timeout: 1-900 s, up to 86400 s in async run mode. Over the maximum is
	// LimitExceeded.Timeout ("Timeout超出最大限制"); neither action lists an
	// InvalidParameterValue.Timeout, so below 1 is the common
	// InvalidParameterValue.
	if cfg.Timeout < 1 {
		return apiErr("InvalidParameterValue", "Timeout %d is below 1 second", cfg.Timeout)
	}
	if cfg.Timeout > limit {
		hint := ""
		if !cfg.Async.Enabled && cfg.Timeout <= nativeapi.MaxAsyncTimeout {
			hint = fmt.Sprintf(" (up to %d needs AsyncRunEnable TRUE, chosen at creation)", nativeapi.MaxAsyncTimeout)
		}
		return apiErr("LimitExceeded.Timeout", "Timeout %d exceeds the maximum of %d seconds%s", cfg.Timeout, limit, hint)
	}
	if _, err := runtime.Family(cfg.Runtime); err != nil {
		return apiErr("InvalidParameterValue.Runtime", "%v", err)
	}
	if cfg.Handler == "" {
		return apiErr("InvalidParameterValue.Handler", "Handler is required")
	}
	return nil
}

func envMap(env *envInput) (map[string]string, error) {
	if env == nil || len(env.Variables) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(env.Variables))
	for _, v := range env.Variables {
		if v.Key == "" {
			return nil, apiErr("InvalidParameterValue.Environment", "an environment variable has no Key")
		}
		m[v.Key] = v.Value
	}
	return m, nil
}

type createFunctionRequest struct {
	FunctionName   *string      `json:"FunctionName"`
	Code           *codeInput   `json:"Code"`
	Handler        *string      `json:"Handler"`
	Description    *string      `json:"Description"`
	MemorySize     *int         `json:"MemorySize"`
	Timeout        *int         `json:"Timeout"`
	Environment    *envInput    `json:"Environment"`
	Runtime        *string      `json:"Runtime"`
	Namespace      *string      `json:"Namespace"`
	Type           *string      `json:"Type"`
	AsyncRunEnable *string      `json:"AsyncRunEnable"`
	TraceEnable    *string      `json:"TraceEnable"`
	Layers         []layerInput `json:"Layers"`
}

func (s *Front) createFunction(ctx context.Context, body []byte) (any, error) {
	var req createFunctionRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	name := str(req.FunctionName)
	if name == "" {
		return nil, apiErr("MissingParameter", "FunctionName is required")
	}
	if msg := localemu.CheckFunctionName(cloud.Tencent, name); msg != "" {
		return nil, apiErr("InvalidParameterValue.FunctionName", "FunctionName: %s", msg)
	}
	if err := checkNamespace(req.Namespace); err != nil {
		return nil, err
	}
	if t := str(req.Type); t != "" && t != "Event" {
		return nil, apiErr("UnsupportedOperation", "function Type %q is not emulated; only Event functions are", t)
	}
	code, err := s.codeSource("Code", req.Code, nil)
	if err != nil {
		return nil, err
	}
	if code.Zip == nil && code.Object == nil {
		return nil, apiErr("MissingParameter.Code", "Code is required: Code.ZipFile (a base64 zip) or Code.CosBucketName and Code.CosObjectName")
	}
	layers, err := layerRefs(req.Layers)
	if err != nil {
		return nil, err
	}
	async, err := boolParam("AsyncRunEnable", req.AsyncRunEnable)
	if err != nil {
		return nil, err
	}
	trace, err := boolParam("TraceEnable", req.TraceEnable)
	if err != nil {
		return nil, err
	}
	env, err := envMap(req.Environment)
	if err != nil {
		return nil, err
	}
	cfg := localemu.FunctionConfig{Name: name, Provider: cloud.Tencent, Runtime: str(req.Runtime), Handler: str(req.Handler), MemorySize: 128, Timeout: 3,
		Environment: env, Description: str(req.Description), Async: localemu.AsyncConfig{Enabled: async, Trace: trace}, Layers: layers}
	if cfg.Runtime == "" {
		cfg.Runtime = defaultRuntime
	}
	if req.MemorySize != nil {
		cfg.MemorySize = *req.MemorySize
	}
	if req.Timeout != nil {
		cfg.Timeout = *req.Timeout
	}
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	if _, _, err := s.engine.Function(ctx, name); err == nil {
		return nil, apiErr("ResourceInUse.Function", "function %s already exists in namespace %s", name, defaultNamespace)
	} else if !errors.Is(err, localemu.ErrFunctionNotFound) {
		return nil, err
	}
	if _, err := s.engine.DeployCode(ctx, cfg, code); err != nil {
		return nil, codeError(err)
	}
	return struct{}{}, nil
}

// functionInfo is GetFunction's answer (and ListFunctions' items, which
// are a subset).
type functionInfo struct {
	FunctionName    string    `json:"FunctionName"`
	FunctionId      string    `json:"FunctionId"`
	Namespace       string    `json:"Namespace"`
	Runtime         string    `json:"Runtime"`
	Handler         string    `json:"Handler,omitempty"`
	Description     string    `json:"Description"`
	MemorySize      int       `json:"MemorySize,omitempty"`
	Timeout         int       `json:"Timeout,omitempty"`
	Environment     *envInput `json:"Environment,omitempty"`
	Status          string    `json:"Status"`
	StatusDesc      string    `json:"StatusDesc"`
	ModTime         string    `json:"ModTime"`
	AddTime         string    `json:"AddTime"`
	Type            string    `json:"Type"`
	CodeSize        int64     `json:"CodeSize,omitempty"`
	CodeResult      string    `json:"CodeResult,omitempty"`
	FunctionVersion string    `json:"FunctionVersion,omitempty"`
	Qualifier       string    `json:"Qualifier,omitempty"`
	AsyncRunEnable  string    `json:"AsyncRunEnable,omitempty"`
	TraceEnable     string    `json:"TraceEnable,omitempty"`
	InitTimeout     int       `json:"InitTimeout,omitempty"`
	AvailableStatus string    `json:"AvailableStatus,omitempty"`
	// Layers: the bound layer versions (GetFunction only).
	Layers []layerVersionInfo `json:"Layers,omitempty"`
}

func functionID(f store.Function) string {
	sum := strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceURL, []byte("scf:"+f.Name+":"+f.CreatedAt.String())).String(), "-", "")
	return "lam-" + sum[:8]
}

func functionView(f store.Function, cfg *localemu.FunctionConfig, full bool) functionInfo {
	info := functionInfo{FunctionName: f.Name, FunctionId: functionID(f), Namespace: defaultNamespace, Status: statusOf(f, time.Now()),
		ModTime: secondTime(f.UpdatedAt), AddTime: secondTime(f.CreatedAt), Type: "Event"}
	if cfg != nil {
		info.Runtime, info.Description = cfg.Runtime, cfg.Description
	}
	if info.Status == "Active" {
		info.StatusDesc = "Success"
	}
	if !full || cfg == nil {
		return info
	}
	info.Handler, info.MemorySize, info.Timeout = cfg.Handler, cfg.MemorySize, cfg.Timeout
	env := &envInput{Variables: []varInput{}}
	keys := make([]string, 0, len(cfg.Environment))
	for k := range cfg.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env.Variables = append(env.Variables, varInput{Key: k, Value: cfg.Environment[k]})
	}
	info.Environment = env
	info.CodeSize, info.CodeResult = f.CodeSize, "success"
	info.FunctionVersion, info.Qualifier = latest, latest
	info.AsyncRunEnable, info.TraceEnable = flag(cfg.Async.Enabled), flag(cfg.Async.Trace)
	info.InitTimeout, info.AvailableStatus = 65, "Available"
	return info
}

func (s *Front) getFunction(ctx context.Context, body []byte) (any, error) {
	var req functionRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	f, cfg, err := s.lookupFunction(ctx, req)
	if err != nil {
		return nil, err
	}
	v := functionView(f, cfg, true)
	if cfg != nil && len(cfg.Layers) > 0 {
		v.Layers = s.functionLayers(ctx, cfg.Layers)
	}
	return v, nil
}

type listFunctionsRequest struct {
	Order     *string `json:"Order"`
	Orderby   *string `json:"Orderby"`
	Offset    *int    `json:"Offset"`
	Limit     *int    `json:"Limit"`
	SearchKey *string `json:"SearchKey"`
	Namespace *string `json:"Namespace"`
}

func (s *Front) listFunctions(ctx context.Context, body []byte) (any, error) {
	var req listFunctionsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if err := checkNamespace(req.Namespace); err != nil {
		return nil, err
	}
	offset, limit, err := paginate(req.Offset, req.Limit, 20, maxPageLimit, listFunctionsPaging)
	if err != nil {
		return nil, err
	}
	fns, err := s.engine.Functions(ctx)
	if err != nil {
		return nil, err
	}
	var out []functionInfo
	for _, f := range fns {
		cfg, err := localemu.DecodeConfig(f.Config)
		if err != nil || cfg.Provider != cloud.Tencent {
			continue // functions deployed through the Lambda front are not SCF's
		}
		if k := str(req.SearchKey); k != "" && !strings.Contains(f.Name, k) {
			continue
		}
		out = append(out, functionView(f, cfg, false))
	}
	desc := !strings.EqualFold(str(req.Order), "ASC")
	by := str(req.Orderby)
	key := func(f functionInfo) string {
		switch by {
		case "FunctionName":
			return f.FunctionName
		case "ModTime":
			return f.ModTime + "\x00" + f.FunctionName
		}
		return f.AddTime + "\x00" + f.FunctionName
	}
	sort.SliceStable(out, func(i, j int) bool {
		if desc {
			return key(out[i]) > key(out[j])
		}
		return key(out[i]) < key(out[j])
	})
	total := len(out)
	out = pageSlice(out, offset, limit)
	if out == nil {
		out = []functionInfo{}
	}
	return map[string]any{"Functions": out, "TotalCount": total}, nil
}

// pageCodes are the codes an action answers a bad Offset and Limit with.
type pageCodes struct{ offset, limit string }

var (
	// ListFunctions lists InvalidParameterValue.Offset and .Limit.
	listFunctionsPaging = pageCodes{"InvalidParameterValue.Offset", "InvalidParameterValue.Limit"}
	// ListAsyncEvents lists InvalidParameterValue.Limit and no Offset code:
	// the common InvalidParameterValue.
	asyncEventsPaging = pageCodes{"InvalidParameterValue", "InvalidParameterValue.Limit"}
	// GetFunctionLogs lists InvalidParameterValue.Offset and no Limit code.
	functionLogsPaging = pageCodes{"InvalidParameterValue.Offset", "InvalidParameterValue"}
)

func paginate(offset, limit *int, def, max int, codes pageCodes) (int, int, error) {
	o, l := 0, def
	if offset != nil {
		o = *offset
	}
	if limit != nil {
		l = *limit
	}
	if o < 0 {
		return 0, 0, apiErr(codes.offset, "Offset %d is negative", o)
	}
	if l < 0 || l > max {
		return 0, 0, apiErr(codes.limit, "Limit %d is outside 0-%d", l, max)
	}
	if l == 0 {
		l = def
	}
	return o, l, nil
}

func pageSlice[T any](xs []T, offset, limit int) []T {
	if offset >= len(xs) {
		return nil
	}
	xs = xs[offset:]
	if limit < len(xs) {
		xs = xs[:limit]
	}
	return xs
}

// ready refuses a change while the function is still settling, as SCF
// refuses updates of a function that is not Active, with the code the
// action lists: FailedOperation.UpdateFunctionCode ("当前函数状态无法更新代码"),
// FailedOperation.UpdateFunctionConfiguration, and for
// UpdateFunctionEventInvokeConfig FailedOperation.FunctionVersionStatusNotActive
// ("当前函数版本状态无法进行此操作").
func ready(f store.Function, code string) error {
	if st := statusOf(f, time.Now()); st != "Active" {
		return apiErr(code, "function %s is %s; wait until its Status is Active", f.Name, st)
	}
	return nil
}

type updateCodeRequest struct {
	FunctionName *string    `json:"FunctionName"`
	Namespace    *string    `json:"Namespace"`
	Handler      *string    `json:"Handler"`
	ZipFile      *string    `json:"ZipFile"`
	Code         *codeInput `json:"Code"`
	// CosBucketName, CosObjectName, CosBucketRegion: the code from COS.
	CosBucketName   *string `json:"CosBucketName"`
	CosObjectName   *string `json:"CosObjectName"`
	CosBucketRegion *string `json:"CosBucketRegion"`
}

func (s *Front) updateFunctionCode(ctx context.Context, body []byte) (any, error) {
	var req updateCodeRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	f, cfg, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := ready(f, "FailedOperation.UpdateFunctionCode"); err != nil {
		return nil, err
	}
	// The code is the top-level ZipFile / CosBucketName / CosObjectName /
	// CosBucketRegion, or the same in Code (SCF API, UpdateFunctionCode).
	in := req.Code
	if in == nil {
		in = &codeInput{CosBucketName: req.CosBucketName, CosObjectName: req.CosObjectName, CosBucketRegion: req.CosBucketRegion}
	}
	code, err := s.codeSource("Code", in, req.ZipFile)
	if err != nil {
		return nil, err
	}
	if code.Zip == nil && code.Object == nil {
		return nil, apiErr("MissingParameter", "ZipFile (or Code.ZipFile), or CosBucketName and CosObjectName, is required")
	}
	if h := str(req.Handler); h != "" {
		cfg.Handler = h
	}
	if _, err := s.engine.DeployCode(ctx, *cfg, code); err != nil {
		return nil, codeError(err)
	}
	return struct{}{}, nil
}

type updateConfigRequest struct {
	FunctionName *string   `json:"FunctionName"`
	Namespace    *string   `json:"Namespace"`
	Description  *string   `json:"Description"`
	MemorySize   *int      `json:"MemorySize"`
	Timeout      *int      `json:"Timeout"`
	Runtime      *string   `json:"Runtime"`
	Environment  *envInput `json:"Environment"`
	// AsyncRunEnable is not a parameter of this action: async mode is chosen
	// at creation. It is decoded only to refuse it with a clear message.
	AsyncRunEnable *string `json:"AsyncRunEnable"`
	// Layers replaces the bound layer versions; an empty list unbinds all.
	Layers *[]layerInput `json:"Layers"`
}

func (s *Front) updateFunctionConfiguration(ctx context.Context, body []byte) (any, error) {
	var req updateConfigRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if req.AsyncRunEnable != nil {
		return nil, apiErr("UnknownParameter", "AsyncRunEnable is not a parameter of UpdateFunctionConfiguration: async run mode is chosen at CreateFunction and cannot be changed; delete the function and create it again")
	}
	f, cfg, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := ready(f, "FailedOperation.UpdateFunctionConfiguration"); err != nil {
		return nil, err
	}
	next := *cfg
	if req.Description != nil {
		next.Description = *req.Description
	}
	if req.MemorySize != nil {
		next.MemorySize = *req.MemorySize
	}
	if req.Timeout != nil {
		next.Timeout = *req.Timeout
	}
	// Runtime: "函数运行环境，创建时指定，目前不支持修改" (SCF API,
	// UpdateFunctionConfiguration). The same value is accepted; another one
	// is InvalidParameterValue.Runtime, of the action's list.
	if req.Runtime != nil && *req.Runtime != cfg.Runtime {
		return nil, apiErr("InvalidParameterValue.Runtime", "Runtime is chosen at creation and cannot be changed (function %s runs %s, not %s); delete the function and create it again", cfg.Name, cfg.Runtime, *req.Runtime)
	}
	if req.Environment != nil {
		env, err := envMap(req.Environment)
		if err != nil {
			return nil, err
		}
		next.Environment = env
	}
	if req.Layers != nil {
		layers, err := layerRefs(*req.Layers)
		if err != nil {
			return nil, err
		}
		next.Layers = layers
	}
	if err := checkConfig(&next); err != nil {
		return nil, err
	}
	if _, err := s.engine.Deploy(ctx, next, nil); err != nil {
		return nil, codeError(err)
	}
	return struct{}{}, nil
}

func (s *Front) deleteFunction(ctx context.Context, body []byte) (any, error) {
	var req functionRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.lookupFunction(ctx, req); err != nil {
		return nil, versionMissing(err, "ResourceNotFound.Qualifier")
	}
	if err := s.engine.RemoveFunction(ctx, str(req.FunctionName)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type invokeRequest struct {
	FunctionName   *string `json:"FunctionName"`
	InvocationType *string `json:"InvocationType"`
	Qualifier      *string `json:"Qualifier"`
	ClientContext  *string `json:"ClientContext"`
	LogType        *string `json:"LogType"`
	Namespace      *string `json:"Namespace"`
}

// result is Invoke's Result.
type result struct {
	FunctionRequestId string   `json:"FunctionRequestId"`
	Log               *string  `json:"Log,omitempty"`
	RetMsg            *string  `json:"RetMsg,omitempty"`
	ErrMsg            *string  `json:"ErrMsg,omitempty"`
	MemUsage          *int64   `json:"MemUsage,omitempty"`
	Duration          *float64 `json:"Duration,omitempty"`
	BillDuration      *int64   `json:"BillDuration,omitempty"`
	InvokeResult      *int64   `json:"InvokeResult,omitempty"`
}

// errorText is how a function error is reported in ErrMsg and RetMsg.
func errorText(errType, msg string) string {
	b, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": msg})
	return string(b)
}

// retCodeOf is the status code of a finished event or attempt.
func retCodeOf(st event.Status, errType string) int64 {
	switch localemu.OutcomeOf(st, errType) {
	case localemu.OutcomeSucceeded:
		return 0
	case localemu.OutcomeTimedOut:
		return codeTimeout
	case localemu.OutcomeOutOfMemory:
		return codeMemory
	case localemu.OutcomeTerminated, localemu.OutcomeCrashed:
		return codeProcessEnd
	}
	return codeUserError
}

func (s *Front) invokeAction(ctx context.Context, body []byte) (any, error) {
	var req invokeRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace, Qualifier: req.Qualifier}); err != nil {
		return nil, versionMissing(err, "ResourceNotFound.Function")
	}
	typ := str(req.InvocationType)
	switch typ {
	case "":
		typ = event.InvokeRequestResponse
	case event.InvokeRequestResponse, event.InvokeEvent:
	default:
		// Invoke's list has no InvalidParameterValue.InvocationType.
		return nil, apiErr("InvalidParameterValue", "InvocationType %q is not RequestResponse or Event", typ)
	}
	qualifier := str(req.Qualifier)
	if qualifier == "" {
		qualifier = latest
	}
	payload := []byte(str(req.ClientContext))
	if len(payload) > 0 && !json.Valid(payload) {
		// InvalidParameterValue.Param: "入参不是标准的json" (Invoke's list).
		return nil, apiErr("InvalidParameterValue.Param", "ClientContext must be a JSON document")
	}
	ictx := ctx
	if typ == event.InvokeRequestResponse {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, s.syncWait)
		defer cancel()
	}
	ev, err := s.engine.Invoke(ictx, localemu.InvokeRequest{Function: str(req.FunctionName), Payload: payload, Type: typ, Qualifier: qualifier})
	if err != nil {
		if ictx.Err() != nil && ctx.Err() == nil && ev.RequestID != "" {
			// The API's 300 s are over (syncInvokeLimit); the invocation
			// runs on. Invoke's list has no timeout code: its
			// FailedOperation.InvokeFunction ("调用函数失败") is the closest.
			return nil, apiErr("FailedOperation.InvokeFunction", "the synchronous Invoke API waits at most %s for a result (use InvocationType Event for longer runs); invocation %s goes on",
				s.syncWait, ev.RequestID)
		}
		return nil, err
	}
	res := result{FunctionRequestId: ev.RequestID}
	if typ == event.InvokeEvent {
		return map[string]any{"Result": res}, nil
	}
	empty := ""
	res.RetMsg, res.ErrMsg, res.Log = &empty, &empty, &empty
	if ev.Status == event.Succeeded {
		ret := string(ev.Result)
		res.RetMsg = &ret
	} else {
		msg := errorText(ev.ErrorType, ev.ErrorMessage)
		res.ErrMsg = &msg
	}
	code := retCodeOf(ev.Status, ev.ErrorType)
	dur := float64(ev.DurationMs)
	bill := billDuration(ev.DurationMs)
	mem := int64(ev.MaxMemoryMB) << 20
	res.InvokeResult, res.Duration, res.BillDuration, res.MemUsage = &code, &dur, &bill, &mem
	if strings.EqualFold(str(req.LogType), "Tail") {
		text, err := s.tailLog(ctx, ev.Function, ev.RequestID)
		if err != nil {
			return nil, err
		}
		res.Log = &text
	}
	return map[string]any{"Result": res}, nil
}

// billDuration is BillDuration for a run of ms milliseconds. SCF bills the
// actual run time in milliseconds, no longer rounded up to 100 ms: "配置为
// 256MB的函数，单次运行了1760ms，计费时长为1760ms" and "相较于向上对齐100ms计费
// 的方式" (SCF docs, 计费方式, cloud.tencent.com/document/product/583/12284;
// the older "根据 duration 向上取最近的 100ms" of models.go FunctionLog is the
// superseded rule). The engine records whole milliseconds, truncated; a run
// that took place is billed at least 1 ms (the ceiling of a positive time).
func billDuration(ms int64) int64 {
	return max(ms, 1)
}

// tailSize is how much of an invocation's log Invoke's LogType Tail
// returns: SCF returns the last 4 KB.
const tailSize = 4096

// tailLog is the end of an event's log, its last tailSize bytes. Every line
// takes at least one byte (its newline), so its last tailSize lines hold
// them: those are read newest first and put back in order.
func (s *Front) tailLog(ctx context.Context, fn, requestID string) (string, error) {
	lines, err := s.engine.Logs(ctx, store.LogQuery{Function: fn, RequestID: requestID, Desc: true, Limit: tailSize})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := len(lines) - 1; i >= 0; i-- {
		b.WriteString(lines[i].Text + "\n")
	}
	text := b.String()
	if len(text) > tailSize {
		text = text[len(text)-tailSize:]
	}
	return text, nil
}

type timeInterval struct {
	Start *string `json:"Start"`
	End   *string `json:"End"`
}

type listAsyncEventsRequest struct {
	FunctionName      *string       `json:"FunctionName"`
	Namespace         *string       `json:"Namespace"`
	Qualifier         *string       `json:"Qualifier"`
	InvokeType        []string      `json:"InvokeType"`
	Status            []string      `json:"Status"`
	StartTimeInterval *timeInterval `json:"StartTimeInterval"`
	EndTimeInterval   *timeInterval `json:"EndTimeInterval"`
	Order             *string       `json:"Order"`
	Orderby           *string       `json:"Orderby"`
	Offset            *int          `json:"Offset"`
	Limit             *int          `json:"Limit"`
	InvokeRequestId   *string       `json:"InvokeRequestId"`
}

// asyncEvent is one item of ListAsyncEvents.
type asyncEvent struct {
	InvokeRequestId string `json:"InvokeRequestId"`
	InvokeType      string `json:"InvokeType"`
	Qualifier       string `json:"Qualifier"`
	Status          string `json:"Status"`
	StartTime       string `json:"StartTime"`
	EndTime         string `json:"EndTime"`
}

// statusesOf maps SCF's AsyncEvent.Status onto the engine's statuses.
func statusesOf(s string) ([]event.Status, bool) {
	switch strings.ToUpper(s) {
	case "RUNNING":
		return []event.Status{event.Queued, event.Running}, true
	case "FINISHED":
		return []event.Status{event.Succeeded}, true
	case "FAILED":
		return []event.Status{event.Failed, event.TimedOut}, true
	case "ABORTED":
		return []event.Status{event.Terminated}, true
	}
	return nil, false
}

func interval(field string, iv *timeInterval, after, before *time.Time) error {
	if iv == nil {
		return nil
	}
	if str(iv.Start) == "" || str(iv.End) == "" {
		// SCF API, ListAsyncEvents: a TimeInterval takes both bounds
		// (InvalidParameterValue.StartTimeOrEndTime: "需要同时指定开始日期与结束日期").
		return apiErr("InvalidParameterValue.StartTimeOrEndTime", "%s needs both Start and End", field)
	}
	for _, x := range []struct {
		name string
		v    *string
		dst  *time.Time
	}{{field + ".Start", iv.Start, after}, {field + ".End", iv.End, before}} {
		if str(x.v) == "" {
			continue
		}
		t, err := parseSCFTime(*x.v)
		if err != nil {
			// ListAsyncEvents lists no code for a malformed time: the common
			// InvalidParameterValue.
			return apiErr("InvalidParameterValue", "%s %q is not a time such as 2024-05-01 12:00:00", x.name, *x.v)
		}
		*x.dst = t
	}
	return nil
}

func (s *Front) listAsyncEvents(ctx context.Context, body []byte) (any, error) {
	var req listAsyncEventsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	_, cfg, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := tracked(str(req.FunctionName), cfg); err != nil {
		return nil, err
	}
	offset, limit, err := paginate(req.Offset, req.Limit, 20, maxPageLimit, asyncEventsPaging)
	if err != nil {
		return nil, err
	}
	q := store.EventQuery{Function: str(req.FunctionName), Qualifier: str(req.Qualifier), RequestID: str(req.InvokeRequestId)}
	for _, st := range req.Status {
		sts, ok := statusesOf(st)
		if !ok {
			return nil, apiErr("InvalidParameterValue.Status", "Status %q is not RUNNING, FINISHED, FAILED or ABORTED", st)
		}
		q.Statuses = append(q.Statuses, sts...)
	}
	types := map[string]bool{}
	for _, t := range req.InvokeType {
		if t != event.InvokeEvent && t != event.InvokeRequestResponse {
			return nil, apiErr("InvalidParameterValue.InvokeType", "InvokeType %q is not Event or RequestResponse", t)
		}
		types[t] = true
	}
	if len(types) == 1 {
		for t := range types {
			q.InvokeType = t
		}
	}
	if err := interval("StartTimeInterval", req.StartTimeInterval, &q.CreatedAfter, &q.CreatedBefore); err != nil {
		return nil, err
	}
	if err := interval("EndTimeInterval", req.EndTimeInterval, &q.EndedAfter, &q.EndedBefore); err != nil {
		return nil, err
	}
	switch strings.ToUpper(str(req.Order)) {
	case "", "DESC":
		q.Desc = true
	case "ASC":
	default:
		return nil, apiErr("InvalidParameterValue.Order", "Order %q is not ASC or DESC", str(req.Order))
	}
	switch str(req.Orderby) {
	case "", "StartTime":
		q.OrderBy = store.ByCreated
	case "EndTime":
		q.OrderBy = store.ByEnded // unfinished last (first with DESC), ties by creation
	default:
		// ListAsyncEvents lists InvalidParameterValue.Order, the closest; it
		// has no Orderby code.
		return nil, apiErr("InvalidParameterValue.Order", "Orderby %q is not StartTime or EndTime", str(req.Orderby))
	}
	q.Offset, q.Limit, q.Omit = offset, limit, store.OmitBlobs // the list shows neither payload nor result
	evs, total, err := s.engine.Events(ctx, q)
	if err != nil {
		return nil, err
	}
	list := make([]asyncEvent, 0, len(evs))
	for _, ev := range evs {
		qual := ev.Qualifier
		if qual == "" {
			qual = latest
		}
		list = append(list, asyncEvent{InvokeRequestId: ev.RequestID, InvokeType: ev.InvokeType, Qualifier: qual, Status: ev.Status.SCF(),
			StartTime: formatTime(ev.CreatedAt), EndTime: formatTime(ev.EndedAt)})
	}
	return map[string]any{"EventList": list, "TotalCount": total}, nil
}

type eventRef struct {
	FunctionName    *string `json:"FunctionName"`
	Namespace       *string `json:"Namespace"`
	InvokeRequestId *string `json:"InvokeRequestId"`
	GraceShutdown   *bool   `json:"GraceShutdown"`
}

// statusCode is GetAsyncEventStatus.StatusCode: 0 while running, 200 on
// success, else the error's status code.
func statusCode(ev store.Event) int64 {
	switch {
	case !ev.Status.Terminal():
		return 0
	case ev.Status == event.Succeeded:
		return codeOK
	}
	return retCodeOf(ev.Status, ev.ErrorType)
}

func (s *Front) getAsyncEventStatus(ctx context.Context, body []byte) (any, error) {
	var req eventRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	id := str(req.InvokeRequestId)
	if id == "" {
		return nil, apiErr("MissingParameter", "InvokeRequestId is required")
	}
	ev, err := s.engine.Event(ctx, "", id)
	if err != nil {
		return nil, err
	}
	// Only events of async, tracked functions are recorded, and kept for
	// eventRetention after they end: any other is not found.
	_, cfg, err := s.engine.Function(ctx, ev.Function)
	if err != nil && !errors.Is(err, localemu.ErrFunctionNotFound) {
		return nil, err
	}
	if cfg == nil || tracked(ev.Function, cfg) != nil {
		return nil, apiErr("ResourceNotFound.AsyncEvent", "no async event %s: SCF records events only for functions in async run mode with event tracking (AsyncRunEnable and TraceEnable TRUE)", id)
	}
	if !ev.EndedAt.IsZero() && time.Since(ev.EndedAt) > eventRetention {
		return nil, apiErr("ResourceNotFound.AsyncEvent", "async event %s ended more than 3 days ago: SCF keeps an event's status for 3 * 24 hours after it ends", id)
	}
	return map[string]any{"Result": map[string]any{"Status": ev.Status.SCF(), "StatusCode": statusCode(ev), "InvokeRequestId": ev.RequestID}}, nil
}

func (s *Front) terminateAsyncEvent(ctx context.Context, body []byte) (any, error) {
	var req eventRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	_, cfg, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := tracked(str(req.FunctionName), cfg); err != nil {
		return nil, err
	}
	id := str(req.InvokeRequestId)
	if id == "" {
		return nil, apiErr("MissingParameter", "InvokeRequestId is required")
	}
	var grace time.Duration
	if req.GraceShutdown != nil && *req.GraceShutdown {
		grace = graceShutdown
	}
	if _, err := s.engine.Terminate(ctx, str(req.FunctionName), id, grace); err != nil {
		if errors.Is(err, localemu.ErrEventFinished) {
			ev, gerr := s.engine.Event(ctx, "", id)
			if gerr == nil {
				return nil, apiErr("FailedOperation.AsyncEventStatus", "event %s is already %s and cannot be terminated", id, ev.Status.SCF())
			}
		}
		return nil, err
	}
	return struct{}{}, nil
}

type asyncTriggerConfig struct {
	RetryConfig []struct {
		RetryNum *int `json:"RetryNum"`
	} `json:"RetryConfig"`
	MsgTTL *int `json:"MsgTTL"`
}

func triggerConfigView(cfg *localemu.FunctionConfig) map[string]any {
	ttl := int(cfg.MaxEventAge() / time.Second)
	return map[string]any{"AsyncTriggerConfig": map[string]any{
		"RetryConfig": []map[string]int{{"RetryNum": cfg.RetryAttempts()}},
		"MsgTTL":      ttl,
	}}
}

func (s *Front) getEventInvokeConfig(ctx context.Context, body []byte) (any, error) {
	var req functionRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	_, cfg, err := s.lookupFunction(ctx, req)
	if err != nil {
		return nil, err
	}
	return triggerConfigView(cfg), nil
}

func (s *Front) updateEventInvokeConfig(ctx context.Context, body []byte) (any, error) {
	var req struct {
		FunctionName       *string             `json:"FunctionName"`
		Namespace          *string             `json:"Namespace"`
		AsyncTriggerConfig *asyncTriggerConfig `json:"AsyncTriggerConfig"`
	}
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	f, cfg, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := ready(f, "FailedOperation.FunctionVersionStatusNotActive"); err != nil {
		return nil, err
	}
	atc := req.AsyncTriggerConfig
	if atc == nil {
		return nil, apiErr("MissingParameter", "AsyncTriggerConfig is required")
	}
	next := *cfg
	if len(atc.RetryConfig) > 0 && atc.RetryConfig[0].RetryNum != nil {
		n := *atc.RetryConfig[0].RetryNum
		// LimitExceeded.RetryNum: "异步重试次数超过限制"; a negative count is
		// InvalidParameterValue.AsyncTriggerConfig ("函数异步重试配置参数无效").
		if n < 0 {
			return nil, apiErr("InvalidParameterValue.AsyncTriggerConfig", "RetryNum %d is negative", n)
		}
		if n > maxRetryNum {
			return nil, apiErr("LimitExceeded.RetryNum", "RetryNum %d exceeds the maximum of %d", n, maxRetryNum)
		}
		next.Async.RetryAttempts = &n
	}
	if atc.MsgTTL != nil {
		// LimitExceeded.MsgTTL: "消息保留时间超过限制"; below the minimum is
		// InvalidParameterValue.AsyncTriggerConfig.
		if *atc.MsgTTL < minMsgTTL {
			return nil, apiErr("InvalidParameterValue.AsyncTriggerConfig", "MsgTTL %d is below the minimum of %d seconds", *atc.MsgTTL, minMsgTTL)
		}
		if *atc.MsgTTL > maxMsgTTL {
			return nil, apiErr("LimitExceeded.MsgTTL", "MsgTTL %d exceeds the maximum of %d seconds", *atc.MsgTTL, maxMsgTTL)
		}
		next.Async.MaxEventAge = *atc.MsgTTL
	}
	if _, err := s.engine.Deploy(ctx, next, nil); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type getFunctionLogsRequest struct {
	FunctionName      *string `json:"FunctionName"`
	Namespace         *string `json:"Namespace"`
	Qualifier         *string `json:"Qualifier"`
	FunctionRequestId *string `json:"FunctionRequestId"`
	Offset            *int    `json:"Offset"`
	Limit             *int    `json:"Limit"`
	Order             *string `json:"Order"`
	OrderBy           *string `json:"OrderBy"`
	StartTime         *string `json:"StartTime"`
	EndTime           *string `json:"EndTime"`
	Filter            *struct {
		RetCode *string `json:"RetCode"`
	} `json:"Filter"`
}

// functionLog is one FunctionLog: one attempt of one invocation.
type functionLog struct {
	FunctionName   string  `json:"FunctionName"`
	RetMsg         string  `json:"RetMsg"`
	RequestId      string  `json:"RequestId"`
	StartTime      string  `json:"StartTime"`
	RetCode        int64   `json:"RetCode"`
	InvokeFinished int64   `json:"InvokeFinished"`
	Duration       float64 `json:"Duration"`
	BillDuration   int64   `json:"BillDuration"`
	MemUsage       int64   `json:"MemUsage"`
	Log            string  `json:"Log"`
	Level          string  `json:"Level"`
	Source         string  `json:"Source"`
	RetryNum       uint64  `json:"RetryNum"`
}

func (s *Front) getFunctionLogs(ctx context.Context, body []byte) (any, error) {
	var req getFunctionLogsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.lookupFunction(ctx, functionRef{FunctionName: req.FunctionName, Namespace: req.Namespace, Qualifier: req.Qualifier}); err != nil {
		return nil, versionMissing(err, "ResourceNotFound.Function")
	}
	fn := str(req.FunctionName)
	offset, limit, err := paginate(req.Offset, req.Limit, 10000, logMaxLimit, functionLogsPaging)
	if err != nil {
		return nil, err
	}
	if offset+limit > logMaxLimit {
		// LimitExceeded.Offset: "Offset超出限制" (GetFunctionLogs' list).
		return nil, apiErr("LimitExceeded.Offset", "Offset + Limit must not exceed %d", logMaxLimit)
	}
	// The window: StartTime and EndTime ("%Y-%m-%d %H:%M:%S", a fraction
	// accepted), at most one day apart ("只能与endtime相差一天之内", SCF API,
	// GetFunctionLogs); the last day when neither is given. One without the
	// other is InvalidParameterValue.StartTimeOrEndTime ("需要同时指定开始日期与
	// 结束日期"), a malformed or inverted one InvalidParameterValue.DateTime
	// ("DateTime传入错误"): both in GetFunctionLogs' list.
	now := time.Now()
	var from, to time.Time
	if v := str(req.StartTime); v != "" {
		if from, err = parseSCFTime(v); err != nil {
			return nil, apiErr("InvalidParameterValue.DateTime", "StartTime %q is not a time such as 2024-05-01 12:00:00", v)
		}
	}
	if v := str(req.EndTime); v != "" {
		if to, err = parseSCFTime(v); err != nil {
			return nil, apiErr("InvalidParameterValue.DateTime", "EndTime %q is not a time such as 2024-05-01 12:00:00", v)
		}
	}
	switch {
	case from.IsZero() && to.IsZero():
		to = now
		from = to.Add(-24 * time.Hour)
	case from.IsZero() || to.IsZero():
		return nil, apiErr("InvalidParameterValue.StartTimeOrEndTime", "StartTime and EndTime go together: give both or neither")
	}
	if to.Before(from) {
		return nil, apiErr("InvalidParameterValue.DateTime", "EndTime is before StartTime")
	}
	if to.Sub(from) > 24*time.Hour {
		return nil, apiErr("InvalidParameterValue.DateTime", "StartTime and EndTime are more than one day apart")
	}
	retCode := ""
	if req.Filter != nil {
		retCode = str(req.Filter.RetCode)
		switch retCode {
		case "", "not0", "is0", "TimeLimitExceeded", "ResourceLimitExceeded", "UserCodeException":
		default:
			return nil, apiErr("InvalidParameterValue.RetCode", "Filter.RetCode %q is not not0, is0, TimeLimitExceeded, ResourceLimitExceeded or UserCodeException", retCode)
		}
	}
	var desc bool
	switch strings.ToLower(str(req.Order)) {
	case "", "desc":
		desc = true
	case "asc":
	default:
		return nil, apiErr("InvalidParameterValue.Order", "Order %q is not desc or asc", str(req.Order))
	}
	var order store.AttemptOrder
	switch strings.ToLower(str(req.OrderBy)) {
	case "", "start_time", "function_name": // function_name: one function here
		order = store.ByStart
	case "duration":
		order = store.ByDuration
	case "mem_usage":
		order = store.ByMaxMemory
	default:
		return nil, apiErr("InvalidParameterValue.OrderBy", "OrderBy %q is not start_time, function_name, duration or mem_usage", str(req.OrderBy))
	}

	// One entry per attempt that started inside the window: the page comes
	// from the store in its order with the number matching, and then the
	// results of its successes and its log lines, one query each.
	q := store.AttemptQuery{Function: fn, RequestID: str(req.FunctionRequestId),
		StartedAfter: from.Truncate(time.Second), StartedBefore: to.Truncate(time.Second).Add(time.Second),
		OrderBy: order, Desc: desc, Offset: offset, Limit: limit}
	retCodeFilter(retCode, &q)
	attempts, total, err := s.engine.ListAttempts(ctx, q)
	if err != nil {
		return nil, err
	}
	data := make([]functionLog, 0, len(attempts))
	var succeeded []string
	// The lines of the page's events, all their attempts (a few per event):
	// the store then matches them by request id alone, with no per-line
	// lookup of the attempt among the page's.
	refs := make([]store.LogRef, 0, len(attempts))
	seen := make(map[string]bool, len(attempts))
	for _, a := range attempts {
		// A running attempt: RetCode 2, InvokeFinished 0. An ended one:
		// InvokeFinished 1, RetCode 0 on success, 3 when terminated
		// (interrupted), else its status code (logRunning, logInterrupted).
		e := functionLog{FunctionName: fn, RequestId: a.RequestID, StartTime: formatTime(a.StartedAt), RetryNum: uint64(a.N - 1), RetCode: logRunning}
		if !a.EndedAt.IsZero() && a.Status.Terminal() {
			e.InvokeFinished = 1
			e.Duration, e.BillDuration, e.MemUsage = float64(a.DurationMs), billDuration(a.DurationMs), int64(a.MaxMemoryMB)<<20
			e.RetCode = retCodeOf(a.Status, a.ErrorType)
			if a.Status == event.Terminated {
				e.RetCode = logInterrupted
			}
			if a.Status == event.Succeeded {
				succeeded = append(succeeded, a.RequestID) // RetMsg is the event's result
			} else {
				e.RetMsg = errorText(a.ErrorType, a.ErrorMessage)
			}
		}
		data = append(data, e)
		if !seen[a.RequestID] {
			seen[a.RequestID] = true
			refs = append(refs, store.LogRef{RequestID: a.RequestID})
		}
	}
	if len(succeeded) > 0 {
		evs, _, err := s.engine.Events(ctx, store.EventQuery{Function: fn, RequestIDs: succeeded, Omit: store.PayloadBlob})
		if err != nil {
			return nil, err
		}
		results := make(map[string]string, len(evs))
		for _, ev := range evs {
			results[ev.RequestID] = string(ev.Result)
		}
		for i, a := range attempts {
			if data[i].InvokeFinished == 1 && a.Status == event.Succeeded {
				data[i].RetMsg = results[a.RequestID]
			}
		}
	}
	if len(refs) > 0 {
		lines, err := s.engine.Logs(ctx, store.LogQuery{Function: fn, Requests: refs})
		if err != nil {
			return nil, err
		}
		type attemptKey struct {
			id string
			n  int
		}
		text := make(map[attemptKey]*strings.Builder, len(attempts))
		for _, a := range attempts {
			text[attemptKey{a.RequestID, a.N}] = &strings.Builder{}
		}
		for _, l := range lines {
			if b := text[attemptKey{l.RequestID, l.Attempt}]; b != nil { // an attempt of the page
				b.WriteString(l.Text + "\n")
			}
		}
		for i, a := range attempts {
			data[i].Log = text[attemptKey{a.RequestID, a.N}].String()
		}
	}
	return map[string]any{"Data": data, "TotalCount": total, "SearchContext": map[string]any{"Offset": "", "Limit": 0, "Keyword": "", "Type": ""}}, nil
}

// retCodeFilter narrows q to the attempts GetFunctionLogs' Filter.RetCode
// selects: finished attempts whose RetCode (retCodeOf) is, or is not, 0, or
// is one kind of failure.
func retCodeFilter(filter string, q *store.AttemptQuery) {
	switch filter {
	case "is0":
		q.Ended, q.Statuses = true, []event.Status{event.Succeeded}
	case "not0":
		q.Ended, q.Statuses = true, []event.Status{event.Failed, event.TimedOut, event.Terminated}
	case "TimeLimitExceeded":
		q.Ended, q.Statuses = true, []event.Status{event.TimedOut}
	case "ResourceLimitExceeded":
		// The resource SCF limits per execution is memory (the emulator
		// enforces memorySize: such an attempt fails Runtime.OutOfMemory).
		q.Ended, q.Statuses, q.ErrorTypes = true, []event.Status{event.Failed}, []string{localemu.ErrTypeOutOfMemory}
	case "UserCodeException":
		// codeUserError: failed, but neither the runtime's failure (a
		// crash, or out of memory) nor a timeout or termination.
		q.Ended, q.Statuses, q.NotErrorTypePrefixes = true, []event.Status{event.Failed}, []string{localemu.RuntimeErrorPrefix}
	}
}

package localemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/runtime"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// The SCF front speaks Tencent Cloud API 3.0 for SCF (version 2018-04-16):
// POST / with a JSON body, the action in X-TC-Action, answers
// {"Response":{...,"RequestId"}} and errors {"Response":{"Error":{"Code","Message"},"RequestId"}}
// with HTTP 200, as the cloud does. Request and response shapes follow the
// SDK's models (tencentcloud-sdk-go scf/v20180416) and the API reference.
//
// What the emulator decides where the cloud is silent or unreachable:
//   - Times are China Standard Time (UTC+8), as SCF's API writes them.
//   - A function reports Creating/Updating for scfSettleTime after a change,
//     so clients exercise their wait-until-Active loop; updates during that
//     window fail with FailedOperation.UpdateFunctionCode / ...Configuration.
//   - GetFunctionLogs returns one FunctionLog per attempt (RetryNum counts
//     the retries before it), its Log the whole text of that attempt so far;
//     a running attempt has InvokeFinished 0 and a growing Log.
//   - GraceShutdown sends SIGTERM and allows scfGraceShutdown before SIGKILL:
//     SCF does not document its grace length.
//   - Only the "default" namespace exists.

const (
	scfVersion = "2018-04-16"
	// scfSettleTime is how long a created or updated function reports
	// Creating / Updating before Active.
	scfSettleTime = 300 * time.Millisecond
	// scfGraceShutdown is the SIGTERM-to-SIGKILL window of TerminateAsyncEvent
	// with GraceShutdown.
	scfGraceShutdown  = 30 * time.Second
	scfNamespace      = "default"
	scfLatest         = "$LATEST"
	scfMaxPageLimit   = 100
	scfLogMaxLimit    = 10000 // GetFunctionLogs: Offset+Limit
	scfDefaultRuntime = "Python3.6"
	scfMinMsgTTL      = 60
	scfMaxMsgTTL      = 21600
	scfMaxRetryNum    = 2
	// scfTimeLayout is "%Y-%m-%d %H:%M:%S"; scfMicroLayout adds ".%f".
	scfTimeLayout  = "2006-01-02 15:04:05"
	scfMicroLayout = "2006-01-02 15:04:05.000000"
)

// SCF status codes the emulator reports in GetAsyncEventStatus.StatusCode,
// Invoke's InvokeResult and FunctionLog.RetCode (0 = success in the latter two),
// as SCF's "function status codes" page lists them.
const (
	scfCodeOK         = 200
	scfCodeUserError  = 430 // UserCodeException
	scfCodeTimeout    = 433 // TimeLimitReached
	scfCodeMemory     = 434 // MemoryLimitReached: killed for using more than its memory size
	scfCodeProcessEnd = 439 // User process exit when running (crash or terminate)
)

var scfFunctionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)

// scfZone is the time zone of SCF's API times.
func scfZone() *time.Location { return time.FixedZone("CST", 8*3600) }

func scfTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(scfZone()).Format(scfMicroLayout)
}

func scfSecondTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(scfZone()).Format(scfTimeLayout)
}

// parseSCFTime reads "%Y-%m-%d %H:%M:%S" with an optional fraction, in CST.
func parseSCFTime(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.TrimSpace(s), scfZone())
}

// scfError is an API error answer.
type scfError struct{ Code, Message string }

func (e *scfError) Error() string { return e.Code + ": " + e.Message }

func scfErr(code, format string, args ...any) *scfError {
	return &scfError{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (s *Server) registerSCF(mux *http.ServeMux) {
	mux.HandleFunc("POST /{$}", s.serveSCF)
}

func (s *Server) serveSCF(w http.ResponseWriter, r *http.Request) {
	requestID := uuid.NewString()
	resp, err := s.handleSCF(r.Context(), w, r)
	if err != nil {
		var se *scfError
		if !errors.As(err, &se) {
			se = scfEngineError(err)
		}
		writeSCF(w, map[string]any{"Error": map[string]string{"Code": se.Code, "Message": se.Message}, "RequestId": requestID})
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
	writeSCF(w, out)
}

func writeSCF(w http.ResponseWriter, response map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK) // API 3.0 answers errors with 200 as well
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"Response": response})
}

// handleSCF authenticates, decodes and dispatches one request.
func (s *Server) handleSCF(ctx context.Context, w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDeployBody))
	if err != nil {
		return nil, scfErr("RequestSizeLimitExceeded", "read the request body: %v", err)
	}
	if s.creds != nil {
		if f := verifyTC3(r, body, s.creds, time.Now()); f != nil {
			return nil, &scfError{Code: f.Code, Message: f.Message}
		}
	}
	action := r.Header.Get("X-TC-Action")
	if action == "" {
		return nil, scfErr("MissingParameter", "the request is missing the X-TC-Action header (the API action)")
	}
	if v := r.Header.Get("X-TC-Version"); v == "" {
		return nil, scfErr("MissingParameter", "the request is missing the X-TC-Version header (SCF is %s)", scfVersion)
	} else if v != scfVersion {
		return nil, scfErr("NoSuchVersion", "version %q of the SCF API does not exist; use %s", v, scfVersion)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return s.scfDispatch(ctx, action, body)
}

func (s *Server) scfDispatch(ctx context.Context, action string, body []byte) (any, error) {
	switch action {
	case "CreateFunction":
		return s.scfCreateFunction(ctx, body)
	case "GetFunction":
		return s.scfGetFunction(ctx, body)
	case "ListFunctions":
		return s.scfListFunctions(ctx, body)
	case "UpdateFunctionCode":
		return s.scfUpdateFunctionCode(ctx, body)
	case "UpdateFunctionConfiguration":
		return s.scfUpdateFunctionConfiguration(ctx, body)
	case "DeleteFunction":
		return s.scfDeleteFunction(ctx, body)
	case "Invoke":
		return s.scfInvoke(ctx, body)
	case "ListAsyncEvents":
		return s.scfListAsyncEvents(ctx, body)
	case "GetAsyncEventStatus":
		return s.scfGetAsyncEventStatus(ctx, body)
	case "TerminateAsyncEvent":
		return s.scfTerminateAsyncEvent(ctx, body)
	case "GetFunctionEventInvokeConfig":
		return s.scfGetEventInvokeConfig(ctx, body)
	case "UpdateFunctionEventInvokeConfig":
		return s.scfUpdateEventInvokeConfig(ctx, body)
	case "GetFunctionLogs":
		return s.scfGetFunctionLogs(ctx, body)
	}
	return nil, scfErr("InvalidAction", "the action %q is not an SCF %s action the emulator serves", action, scfVersion)
}

// scfEngineError maps an engine error onto SCF's codes.
func scfEngineError(err error) *scfError {
	var tooLarge *PayloadTooLargeError
	var invalid *InvalidParameterError
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		// SCF's function status code 432 ResourceLimitReached ("the
		// concurrency exceeds the limit", SCF docs: function status codes),
		// reported by Invoke as FailedOperation.InvokeFunction (scf v20180416 errors).
		return scfErr("FailedOperation.InvokeFunction", "432 ResourceLimitReached: %v", err)
	case errors.Is(err, ErrFunctionNotFound):
		return scfErr("ResourceNotFound.Function", "%v", err)
	case errors.Is(err, ErrEventNotFound):
		return scfErr("ResourceNotFound.AsyncEvent", "%v", err)
	case errors.Is(err, ErrEventFinished):
		return scfErr("FailedOperation.AsyncEventStatus", "%v", err)
	case errors.Is(err, ErrShuttingDown):
		return scfErr("ResourceUnavailable", "%v", err)
	case errors.As(err, &tooLarge):
		// SCF's code for a request over its size limit (scf v20180416
		// errors: InvalidParameter.RequestTooLarge, "请求大小超限").
		return scfErr("InvalidParameter.RequestTooLarge", "%v", err)
	case errors.As(err, &invalid):
		return scfErr("InvalidParameterValue", "%s", invalid.Msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return scfErr("InternalError", "the request ended before the operation completed: %v", err)
	}
	return scfErr("InternalError", "%v", err)
}

// decodeSCF reads a request body into v; malformed JSON or a value of the
// wrong type is InvalidParameter.
func decodeSCF(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return scfErr("InvalidParameter", "the request body is not the expected JSON: %v", err)
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// scfVariable is one environment variable.
type scfVariable struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type scfEnvironment struct {
	Variables []scfVariable `json:"Variables"`
}

type scfCode struct {
	ZipFile       *string `json:"ZipFile,omitempty"`
	CosBucketName *string `json:"CosBucketName,omitempty"`
	CosObjectName *string `json:"CosObjectName,omitempty"`
	DemoId        *string `json:"DemoId,omitempty"`
	GitUrl        *string `json:"GitUrl,omitempty"`
}

type scfFunctionRef struct {
	FunctionName *string `json:"FunctionName"`
	Namespace    *string `json:"Namespace"`
	Qualifier    *string `json:"Qualifier"`
}

// function checks the name and namespace and returns the function.
func (s *Server) scfFunction(ctx context.Context, ref scfFunctionRef) (store.Function, *FunctionConfig, error) {
	name := str(ref.FunctionName)
	if name == "" {
		return store.Function{}, nil, scfErr("MissingParameter", "FunctionName is required")
	}
	if err := scfCheckNamespace(ref.Namespace); err != nil {
		return store.Function{}, nil, err
	}
	if q := str(ref.Qualifier); q != "" && q != scfLatest {
		return store.Function{}, nil, scfErr("ResourceNotFound.Version", "version %q of %s does not exist: the emulator keeps only %s", q, name, scfLatest)
	}
	f, cfg, err := s.engine.Function(ctx, name)
	if err != nil {
		if errors.Is(err, ErrFunctionNotFound) {
			return f, nil, scfErr("ResourceNotFound.Function", "function %s does not exist in namespace %s", name, scfNamespace)
		}
		return f, nil, err
	}
	return f, cfg, nil
}

func scfCheckNamespace(ns *string) error {
	if n := str(ns); n != "" && n != scfNamespace {
		return scfErr("ResourceNotFound.Namespace", "namespace %q does not exist: the emulator has only %q", n, scfNamespace)
	}
	return nil
}

func scfBool(field string, v *string) (bool, error) {
	switch strings.ToUpper(str(v)) {
	case "", "FALSE":
		return false, nil
	case "TRUE":
		return true, nil
	}
	return false, scfErr("InvalidParameterValue."+field, "%s must be TRUE or FALSE, not %q", field, str(v))
}

func scfFlag(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// scfStatus is a function's Status: Creating / Updating shortly after a change.
func scfStatus(f store.Function, now time.Time) string {
	if now.Sub(f.UpdatedAt) < scfSettleTime {
		if f.Version <= 1 {
			return "Creating"
		}
		return "Updating"
	}
	return "Active"
}

// scfZip decodes a base64 zip.
func scfZip(field string, b64 string) ([]byte, error) {
	zip, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, scfErr("InvalidParameterValue.ZipFile", "%s is not base64: %v", field, err)
	}
	if len(zip) < 4 || string(zip[:2]) != "PK" {
		return nil, scfErr("InvalidParameterValue.ZipFile", "%s is not a zip archive", field)
	}
	return zip, nil
}

func scfCheckConfig(cfg *FunctionConfig) error {
	if cfg.MemorySize != 64 && (cfg.MemorySize < 128 || cfg.MemorySize%128 != 0 || cfg.MemorySize > 10240) {
		return scfErr("InvalidParameterValue.MemorySize", "MemorySize %d is not 64 or a multiple of 128 up to 10240", cfg.MemorySize)
	}
	limit := maxSyncTimeout
	if cfg.Async.Enabled {
		limit = maxAsyncTimeout
	}
	if cfg.Timeout < 1 || cfg.Timeout > limit {
		hint := ""
		if !cfg.Async.Enabled && cfg.Timeout > maxSyncTimeout {
			hint = fmt.Sprintf(" (up to %d needs AsyncRunEnable TRUE, chosen at creation)", maxAsyncTimeout)
		}
		return scfErr("InvalidParameterValue.Timeout", "Timeout %d is outside 1-%d%s", cfg.Timeout, limit, hint)
	}
	if _, err := runtime.Family(cfg.Runtime); err != nil {
		return scfErr("InvalidParameterValue.Runtime", "%v", err)
	}
	if cfg.Handler == "" {
		return scfErr("InvalidParameterValue.Handler", "Handler is required")
	}
	return nil
}

func scfEnvMap(env *scfEnvironment) (map[string]string, error) {
	if env == nil || len(env.Variables) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(env.Variables))
	for _, v := range env.Variables {
		if v.Key == "" {
			return nil, scfErr("InvalidParameterValue.Environment", "an environment variable has no Key")
		}
		m[v.Key] = v.Value
	}
	return m, nil
}

type scfCreateFunctionRequest struct {
	FunctionName   *string         `json:"FunctionName"`
	Code           *scfCode        `json:"Code"`
	Handler        *string         `json:"Handler"`
	Description    *string         `json:"Description"`
	MemorySize     *int            `json:"MemorySize"`
	Timeout        *int            `json:"Timeout"`
	Environment    *scfEnvironment `json:"Environment"`
	Runtime        *string         `json:"Runtime"`
	Namespace      *string         `json:"Namespace"`
	Type           *string         `json:"Type"`
	AsyncRunEnable *string         `json:"AsyncRunEnable"`
	TraceEnable    *string         `json:"TraceEnable"`
}

func (s *Server) scfCreateFunction(ctx context.Context, body []byte) (any, error) {
	var req scfCreateFunctionRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	name := str(req.FunctionName)
	if name == "" {
		return nil, scfErr("MissingParameter", "FunctionName is required")
	}
	if !scfFunctionNameRE.MatchString(name) {
		return nil, scfErr("InvalidParameterValue.FunctionName", "FunctionName %q must be 2-60 letters, digits, - and _, start with a letter and not end with - or _", name)
	}
	if err := scfCheckNamespace(req.Namespace); err != nil {
		return nil, err
	}
	if t := str(req.Type); t != "" && t != "Event" {
		return nil, scfErr("UnsupportedOperation", "function Type %q is not emulated; only Event functions are", t)
	}
	if req.Code == nil || req.Code.ZipFile == nil {
		if req.Code != nil && (req.Code.CosBucketName != nil || req.Code.DemoId != nil || req.Code.GitUrl != nil) {
			return nil, scfErr("UnsupportedOperation", "code from COS, a demo or Git is not emulated; send Code.ZipFile")
		}
		return nil, scfErr("MissingParameter", "Code.ZipFile is required")
	}
	zip, err := scfZip("Code.ZipFile", *req.Code.ZipFile)
	if err != nil {
		return nil, err
	}
	async, err := scfBool("AsyncRunEnable", req.AsyncRunEnable)
	if err != nil {
		return nil, err
	}
	trace, err := scfBool("TraceEnable", req.TraceEnable)
	if err != nil {
		return nil, err
	}
	env, err := scfEnvMap(req.Environment)
	if err != nil {
		return nil, err
	}
	cfg := FunctionConfig{Name: name, Provider: "tencent", Runtime: str(req.Runtime), Handler: str(req.Handler), MemorySize: 128, Timeout: 3,
		Environment: env, Description: str(req.Description), Async: AsyncConfig{Enabled: async, Trace: trace}}
	if cfg.Runtime == "" {
		cfg.Runtime = scfDefaultRuntime
	}
	if req.MemorySize != nil {
		cfg.MemorySize = *req.MemorySize
	}
	if req.Timeout != nil {
		cfg.Timeout = *req.Timeout
	}
	if err := scfCheckConfig(&cfg); err != nil {
		return nil, err
	}
	if _, _, err := s.engine.Function(ctx, name); err == nil {
		return nil, scfErr("ResourceInUse.Function", "function %s already exists in namespace %s", name, scfNamespace)
	} else if !errors.Is(err, ErrFunctionNotFound) {
		return nil, err
	}
	if _, err := s.engine.Deploy(ctx, cfg, zip); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// scfFunctionInfo is GetFunction's answer (and ListFunctions' items, which
// are a subset).
type scfFunctionInfo struct {
	FunctionName    string          `json:"FunctionName"`
	FunctionId      string          `json:"FunctionId"`
	Namespace       string          `json:"Namespace"`
	Runtime         string          `json:"Runtime"`
	Handler         string          `json:"Handler,omitempty"`
	Description     string          `json:"Description"`
	MemorySize      int             `json:"MemorySize,omitempty"`
	Timeout         int             `json:"Timeout,omitempty"`
	Environment     *scfEnvironment `json:"Environment,omitempty"`
	Status          string          `json:"Status"`
	StatusDesc      string          `json:"StatusDesc"`
	ModTime         string          `json:"ModTime"`
	AddTime         string          `json:"AddTime"`
	Type            string          `json:"Type"`
	CodeSize        int64           `json:"CodeSize,omitempty"`
	CodeResult      string          `json:"CodeResult,omitempty"`
	FunctionVersion string          `json:"FunctionVersion,omitempty"`
	Qualifier       string          `json:"Qualifier,omitempty"`
	AsyncRunEnable  string          `json:"AsyncRunEnable,omitempty"`
	TraceEnable     string          `json:"TraceEnable,omitempty"`
	InitTimeout     int             `json:"InitTimeout,omitempty"`
	AvailableStatus string          `json:"AvailableStatus,omitempty"`
}

func scfFunctionID(f store.Function) string {
	sum := strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceURL, []byte("scf:"+f.Name+":"+f.CreatedAt.String())).String(), "-", "")
	return "lam-" + sum[:8]
}

func scfFunctionView(f store.Function, cfg *FunctionConfig, full bool) scfFunctionInfo {
	info := scfFunctionInfo{FunctionName: f.Name, FunctionId: scfFunctionID(f), Namespace: scfNamespace, Status: scfStatus(f, time.Now()),
		ModTime: scfSecondTime(f.UpdatedAt), AddTime: scfSecondTime(f.CreatedAt), Type: "Event"}
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
	env := &scfEnvironment{Variables: []scfVariable{}}
	keys := make([]string, 0, len(cfg.Environment))
	for k := range cfg.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env.Variables = append(env.Variables, scfVariable{Key: k, Value: cfg.Environment[k]})
	}
	info.Environment = env
	info.CodeSize, info.CodeResult = f.CodeSize, "success"
	info.FunctionVersion, info.Qualifier = scfLatest, scfLatest
	info.AsyncRunEnable, info.TraceEnable = scfFlag(cfg.Async.Enabled), scfFlag(cfg.Async.Trace)
	info.InitTimeout, info.AvailableStatus = 65, "Available"
	return info
}

func (s *Server) scfGetFunction(ctx context.Context, body []byte) (any, error) {
	var req scfFunctionRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	f, cfg, err := s.scfFunction(ctx, req)
	if err != nil {
		return nil, err
	}
	return scfFunctionView(f, cfg, true), nil
}

type scfListFunctionsRequest struct {
	Order     *string `json:"Order"`
	Orderby   *string `json:"Orderby"`
	Offset    *int    `json:"Offset"`
	Limit     *int    `json:"Limit"`
	SearchKey *string `json:"SearchKey"`
	Namespace *string `json:"Namespace"`
}

func (s *Server) scfListFunctions(ctx context.Context, body []byte) (any, error) {
	var req scfListFunctionsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if err := scfCheckNamespace(req.Namespace); err != nil {
		return nil, err
	}
	offset, limit, err := scfPage(req.Offset, req.Limit, 20, scfMaxPageLimit)
	if err != nil {
		return nil, err
	}
	fns, err := s.engine.Functions(ctx)
	if err != nil {
		return nil, err
	}
	var out []scfFunctionInfo
	for _, f := range fns {
		cfg, err := decodeConfig(f.Config)
		if err != nil || cfg.Provider != "tencent" {
			continue // functions deployed through the Lambda front are not SCF's
		}
		if k := str(req.SearchKey); k != "" && !strings.Contains(f.Name, k) {
			continue
		}
		out = append(out, scfFunctionView(f, cfg, false))
	}
	desc := !strings.EqualFold(str(req.Order), "ASC")
	by := str(req.Orderby)
	key := func(f scfFunctionInfo) string {
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
		out = []scfFunctionInfo{}
	}
	return map[string]any{"Functions": out, "TotalCount": total}, nil
}

func scfPage(offset, limit *int, def, max int) (int, int, error) {
	o, l := 0, def
	if offset != nil {
		o = *offset
	}
	if limit != nil {
		l = *limit
	}
	if o < 0 {
		return 0, 0, scfErr("InvalidParameterValue.Offset", "Offset %d is negative", o)
	}
	if l < 0 || l > max {
		return 0, 0, scfErr("InvalidParameterValue.Limit", "Limit %d is outside 0-%d", l, max)
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

// scfReady refuses a change while the function is still settling, as SCF
// refuses updates of a function that is not Active.
func scfReady(f store.Function, action string) error {
	if st := scfStatus(f, time.Now()); st != "Active" {
		return scfErr("FailedOperation."+action, "function %s is %s; wait until its Status is Active", f.Name, st)
	}
	return nil
}

type scfUpdateCodeRequest struct {
	FunctionName *string  `json:"FunctionName"`
	Namespace    *string  `json:"Namespace"`
	Handler      *string  `json:"Handler"`
	ZipFile      *string  `json:"ZipFile"`
	Code         *scfCode `json:"Code"`
}

func (s *Server) scfUpdateFunctionCode(ctx context.Context, body []byte) (any, error) {
	var req scfUpdateCodeRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	f, cfg, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := scfReady(f, "UpdateFunctionCode"); err != nil {
		return nil, err
	}
	b64 := req.ZipFile
	if req.Code != nil && req.Code.ZipFile != nil {
		b64 = req.Code.ZipFile
	}
	if b64 == nil {
		return nil, scfErr("MissingParameter", "ZipFile (or Code.ZipFile) is required: the emulator takes code only as a base64 zip")
	}
	zip, err := scfZip("ZipFile", *b64)
	if err != nil {
		return nil, err
	}
	if h := str(req.Handler); h != "" {
		cfg.Handler = h
	}
	if _, err := s.engine.Deploy(ctx, *cfg, zip); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type scfUpdateConfigRequest struct {
	FunctionName *string         `json:"FunctionName"`
	Namespace    *string         `json:"Namespace"`
	Description  *string         `json:"Description"`
	MemorySize   *int            `json:"MemorySize"`
	Timeout      *int            `json:"Timeout"`
	Runtime      *string         `json:"Runtime"`
	Environment  *scfEnvironment `json:"Environment"`
	// AsyncRunEnable is not a parameter of this action: async mode is chosen
	// at creation. It is decoded only to refuse it with a clear message.
	AsyncRunEnable *string `json:"AsyncRunEnable"`
}

func (s *Server) scfUpdateFunctionConfiguration(ctx context.Context, body []byte) (any, error) {
	var req scfUpdateConfigRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if req.AsyncRunEnable != nil {
		return nil, scfErr("UnknownParameter", "AsyncRunEnable is not a parameter of UpdateFunctionConfiguration: async run mode is chosen at CreateFunction and cannot be changed; delete the function and create it again")
	}
	f, cfg, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := scfReady(f, "UpdateFunctionConfiguration"); err != nil {
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
	if req.Runtime != nil {
		next.Runtime = *req.Runtime
	}
	if req.Environment != nil {
		env, err := scfEnvMap(req.Environment)
		if err != nil {
			return nil, err
		}
		next.Environment = env
	}
	if err := scfCheckConfig(&next); err != nil {
		return nil, err
	}
	if _, err := s.engine.Deploy(ctx, next, nil); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) scfDeleteFunction(ctx context.Context, body []byte) (any, error) {
	var req scfFunctionRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.scfFunction(ctx, req); err != nil {
		return nil, err
	}
	if err := s.engine.RemoveFunction(ctx, str(req.FunctionName)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type scfInvokeRequest struct {
	FunctionName   *string `json:"FunctionName"`
	InvocationType *string `json:"InvocationType"`
	Qualifier      *string `json:"Qualifier"`
	ClientContext  *string `json:"ClientContext"`
	LogType        *string `json:"LogType"`
	Namespace      *string `json:"Namespace"`
}

// scfResult is Invoke's Result.
type scfResult struct {
	FunctionRequestId string   `json:"FunctionRequestId"`
	Log               *string  `json:"Log,omitempty"`
	RetMsg            *string  `json:"RetMsg,omitempty"`
	ErrMsg            *string  `json:"ErrMsg,omitempty"`
	MemUsage          *int64   `json:"MemUsage,omitempty"`
	Duration          *float64 `json:"Duration,omitempty"`
	BillDuration      *int64   `json:"BillDuration,omitempty"`
	InvokeResult      *int64   `json:"InvokeResult,omitempty"`
}

// scfErrorText is how a function error is reported in ErrMsg and RetMsg.
func scfErrorText(errType, msg string) string {
	b, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": msg})
	return string(b)
}

// scfRetCode is the status code of a finished event or attempt.
func scfRetCode(st event.Status, errType string) int64 {
	switch st {
	case event.Succeeded:
		return 0
	case event.TimedOut:
		return scfCodeTimeout
	case event.Terminated:
		return scfCodeProcessEnd
	}
	if errType == errTypeOutOfMemory {
		return scfCodeMemory
	}
	if strings.HasPrefix(errType, "Runtime.") {
		return scfCodeProcessEnd
	}
	return scfCodeUserError
}

func (s *Server) scfInvoke(ctx context.Context, body []byte) (any, error) {
	var req scfInvokeRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace, Qualifier: req.Qualifier}); err != nil {
		return nil, err
	}
	typ := str(req.InvocationType)
	switch typ {
	case "":
		typ = event.InvokeRequestResponse
	case event.InvokeRequestResponse, event.InvokeEvent:
	default:
		return nil, scfErr("InvalidParameterValue.InvocationType", "InvocationType %q is not RequestResponse or Event", typ)
	}
	qualifier := str(req.Qualifier)
	if qualifier == "" {
		qualifier = scfLatest
	}
	payload := []byte(str(req.ClientContext))
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, scfErr("InvalidParameterValue.ClientContext", "ClientContext must be a JSON document")
	}
	ev, err := s.engine.Invoke(ctx, InvokeRequest{Function: str(req.FunctionName), Payload: payload, Type: typ, Qualifier: qualifier})
	if err != nil {
		return nil, err
	}
	res := scfResult{FunctionRequestId: ev.RequestID}
	if typ == event.InvokeEvent {
		return map[string]any{"Result": res}, nil
	}
	empty := ""
	res.RetMsg, res.ErrMsg, res.Log = &empty, &empty, &empty
	if ev.Status == event.Succeeded {
		ret := string(ev.Result)
		res.RetMsg = &ret
	} else {
		msg := scfErrorText(ev.ErrorType, ev.ErrorMessage)
		res.ErrMsg = &msg
	}
	code := scfRetCode(ev.Status, ev.ErrorType)
	dur := float64(ev.DurationMs)
	bill := ev.DurationMs + 1
	mem := int64(ev.MaxMemoryMB) << 20
	res.InvokeResult, res.Duration, res.BillDuration, res.MemUsage = &code, &dur, &bill, &mem
	if strings.EqualFold(str(req.LogType), "Tail") {
		lines, err := s.engine.Logs(ctx, store.LogQuery{Function: ev.Function, RequestID: ev.RequestID})
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l.Text + "\n")
		}
		text := b.String()
		if len(text) > 4096 { // SCF returns the last 4 KB
			text = text[len(text)-4096:]
		}
		res.Log = &text
	}
	return map[string]any{"Result": res}, nil
}

type scfTimeInterval struct {
	Start *string `json:"Start"`
	End   *string `json:"End"`
}

type scfListAsyncEventsRequest struct {
	FunctionName      *string          `json:"FunctionName"`
	Namespace         *string          `json:"Namespace"`
	Qualifier         *string          `json:"Qualifier"`
	InvokeType        []string         `json:"InvokeType"`
	Status            []string         `json:"Status"`
	StartTimeInterval *scfTimeInterval `json:"StartTimeInterval"`
	EndTimeInterval   *scfTimeInterval `json:"EndTimeInterval"`
	Order             *string          `json:"Order"`
	Orderby           *string          `json:"Orderby"`
	Offset            *int             `json:"Offset"`
	Limit             *int             `json:"Limit"`
	InvokeRequestId   *string          `json:"InvokeRequestId"`
}

// scfAsyncEvent is one item of ListAsyncEvents.
type scfAsyncEvent struct {
	InvokeRequestId string `json:"InvokeRequestId"`
	InvokeType      string `json:"InvokeType"`
	Qualifier       string `json:"Qualifier"`
	Status          string `json:"Status"`
	StartTime       string `json:"StartTime"`
	EndTime         string `json:"EndTime"`
}

// scfStatuses maps SCF's AsyncEvent.Status onto the engine's statuses.
func scfStatuses(s string) ([]event.Status, bool) {
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

func scfInterval(field string, iv *scfTimeInterval, after, before *time.Time) error {
	if iv == nil {
		return nil
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
			return scfErr("InvalidParameterValue."+field, "%s %q is not a time such as 2024-05-01 12:00:00", x.name, *x.v)
		}
		*x.dst = t
	}
	return nil
}

func (s *Server) scfListAsyncEvents(ctx context.Context, body []byte) (any, error) {
	var req scfListAsyncEventsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace}); err != nil {
		return nil, err
	}
	offset, limit, err := scfPage(req.Offset, req.Limit, 20, scfMaxPageLimit)
	if err != nil {
		return nil, err
	}
	q := store.EventQuery{Function: str(req.FunctionName), Qualifier: str(req.Qualifier), RequestID: str(req.InvokeRequestId)}
	for _, st := range req.Status {
		sts, ok := scfStatuses(st)
		if !ok {
			return nil, scfErr("InvalidParameterValue.Status", "Status %q is not RUNNING, FINISHED, FAILED or ABORTED", st)
		}
		q.Statuses = append(q.Statuses, sts...)
	}
	types := map[string]bool{}
	for _, t := range req.InvokeType {
		if t != event.InvokeEvent && t != event.InvokeRequestResponse {
			return nil, scfErr("InvalidParameterValue.InvokeType", "InvokeType %q is not Event or RequestResponse", t)
		}
		types[t] = true
	}
	if len(types) == 1 {
		for t := range types {
			q.InvokeType = t
		}
	}
	if err := scfInterval("StartTimeInterval", req.StartTimeInterval, &q.CreatedAfter, &q.CreatedBefore); err != nil {
		return nil, err
	}
	if err := scfInterval("EndTimeInterval", req.EndTimeInterval, &q.EndedAfter, &q.EndedBefore); err != nil {
		return nil, err
	}
	switch strings.ToUpper(str(req.Order)) {
	case "", "DESC":
		q.Desc = true
	case "ASC":
	default:
		return nil, scfErr("InvalidParameterValue.Order", "Order %q is not ASC or DESC", str(req.Order))
	}
	var evs []store.Event
	var total int
	switch str(req.Orderby) {
	case "", "StartTime":
		q.Offset, q.Limit = offset, limit
		if evs, total, err = s.engine.Events(ctx, q); err != nil {
			return nil, err
		}
	case "EndTime":
		// The store orders by creation; order by end here (unfinished last).
		all, n, err := s.engine.Events(ctx, q)
		if err != nil {
			return nil, err
		}
		sort.SliceStable(all, func(i, j int) bool {
			a, b := all[i].EndedAt, all[j].EndedAt
			if a.IsZero() != b.IsZero() {
				return b.IsZero() != q.Desc
			}
			if q.Desc {
				return a.After(b)
			}
			return a.Before(b)
		})
		evs, total = pageSlice(all, offset, limit), n
	default:
		return nil, scfErr("InvalidParameterValue.Orderby", "Orderby %q is not StartTime or EndTime", str(req.Orderby))
	}
	list := make([]scfAsyncEvent, 0, len(evs))
	for _, ev := range evs {
		qual := ev.Qualifier
		if qual == "" {
			qual = scfLatest
		}
		list = append(list, scfAsyncEvent{InvokeRequestId: ev.RequestID, InvokeType: ev.InvokeType, Qualifier: qual, Status: ev.Status.SCF(),
			StartTime: scfTime(ev.CreatedAt), EndTime: scfTime(ev.EndedAt)})
	}
	return map[string]any{"EventList": list, "TotalCount": total}, nil
}

type scfEventRef struct {
	FunctionName    *string `json:"FunctionName"`
	Namespace       *string `json:"Namespace"`
	InvokeRequestId *string `json:"InvokeRequestId"`
	GraceShutdown   *bool   `json:"GraceShutdown"`
}

// scfStatusCode is GetAsyncEventStatus.StatusCode: 0 while running, 200 on
// success, else the error's status code.
func scfStatusCode(ev store.Event) int64 {
	switch {
	case !ev.Status.Terminal():
		return 0
	case ev.Status == event.Succeeded:
		return scfCodeOK
	}
	return scfRetCode(ev.Status, ev.ErrorType)
}

func (s *Server) scfGetAsyncEventStatus(ctx context.Context, body []byte) (any, error) {
	var req scfEventRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	id := str(req.InvokeRequestId)
	if id == "" {
		return nil, scfErr("MissingParameter", "InvokeRequestId is required")
	}
	ev, err := s.engine.Event(ctx, "", id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Result": map[string]any{"Status": ev.Status.SCF(), "StatusCode": scfStatusCode(ev), "InvokeRequestId": ev.RequestID}}, nil
}

func (s *Server) scfTerminateAsyncEvent(ctx context.Context, body []byte) (any, error) {
	var req scfEventRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace}); err != nil {
		return nil, err
	}
	id := str(req.InvokeRequestId)
	if id == "" {
		return nil, scfErr("MissingParameter", "InvokeRequestId is required")
	}
	var grace time.Duration
	if req.GraceShutdown != nil && *req.GraceShutdown {
		grace = scfGraceShutdown
	}
	if _, err := s.engine.Terminate(ctx, str(req.FunctionName), id, grace); err != nil {
		if errors.Is(err, ErrEventFinished) {
			ev, gerr := s.engine.Event(ctx, "", id)
			if gerr == nil {
				return nil, scfErr("FailedOperation.AsyncEventStatus", "event %s is already %s and cannot be terminated", id, ev.Status.SCF())
			}
		}
		return nil, err
	}
	return struct{}{}, nil
}

type scfAsyncTriggerConfig struct {
	RetryConfig []struct {
		RetryNum *int `json:"RetryNum"`
	} `json:"RetryConfig"`
	MsgTTL *int `json:"MsgTTL"`
}

func scfTriggerConfigView(cfg *FunctionConfig) map[string]any {
	ttl := int(cfg.maxEventAge() / time.Second)
	return map[string]any{"AsyncTriggerConfig": map[string]any{
		"RetryConfig": []map[string]int{{"RetryNum": cfg.retryAttempts()}},
		"MsgTTL":      ttl,
	}}
}

func (s *Server) scfGetEventInvokeConfig(ctx context.Context, body []byte) (any, error) {
	var req scfFunctionRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	_, cfg, err := s.scfFunction(ctx, req)
	if err != nil {
		return nil, err
	}
	return scfTriggerConfigView(cfg), nil
}

func (s *Server) scfUpdateEventInvokeConfig(ctx context.Context, body []byte) (any, error) {
	var req struct {
		FunctionName       *string                `json:"FunctionName"`
		Namespace          *string                `json:"Namespace"`
		AsyncTriggerConfig *scfAsyncTriggerConfig `json:"AsyncTriggerConfig"`
	}
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	f, cfg, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace})
	if err != nil {
		return nil, err
	}
	if err := scfReady(f, "UpdateFunctionEventInvokeConfig"); err != nil {
		return nil, err
	}
	atc := req.AsyncTriggerConfig
	if atc == nil {
		return nil, scfErr("MissingParameter", "AsyncTriggerConfig is required")
	}
	next := *cfg
	if len(atc.RetryConfig) > 0 && atc.RetryConfig[0].RetryNum != nil {
		n := *atc.RetryConfig[0].RetryNum
		if n < 0 || n > scfMaxRetryNum {
			return nil, scfErr("InvalidParameterValue.RetryNum", "RetryNum %d is outside 0-%d", n, scfMaxRetryNum)
		}
		next.Async.RetryAttempts = &n
	}
	if atc.MsgTTL != nil {
		if *atc.MsgTTL < scfMinMsgTTL || *atc.MsgTTL > scfMaxMsgTTL {
			return nil, scfErr("InvalidParameterValue.MsgTTL", "MsgTTL %d is outside %d-%d seconds", *atc.MsgTTL, scfMinMsgTTL, scfMaxMsgTTL)
		}
		next.Async.MaxEventAge = *atc.MsgTTL
	}
	if _, err := s.engine.Deploy(ctx, next, nil); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type scfGetFunctionLogsRequest struct {
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

// scfFunctionLog is one FunctionLog: one attempt of one invocation.
type scfFunctionLog struct {
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

	start    time.Time
	attempt  int
	status   event.Status
	errType  string
	finished bool
}

func (s *Server) scfGetFunctionLogs(ctx context.Context, body []byte) (any, error) {
	var req scfGetFunctionLogsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if _, _, err := s.scfFunction(ctx, scfFunctionRef{FunctionName: req.FunctionName, Namespace: req.Namespace, Qualifier: req.Qualifier}); err != nil {
		return nil, err
	}
	fn := str(req.FunctionName)
	offset, limit, err := scfPage(req.Offset, req.Limit, 10000, scfLogMaxLimit)
	if err != nil {
		return nil, err
	}
	if offset+limit > scfLogMaxLimit {
		return nil, scfErr("InvalidParameterValue.Limit", "Offset + Limit must not exceed %d", scfLogMaxLimit)
	}
	// The window: StartTime/EndTime ("%Y-%m-%d %H:%M:%S"), one day by default.
	now := time.Now()
	var from, to time.Time
	if v := str(req.StartTime); v != "" {
		if from, err = parseSCFTime(v); err != nil {
			return nil, scfErr("InvalidParameterValue.StartTime", "StartTime %q is not a time such as 2024-05-01 12:00:00", v)
		}
	}
	if v := str(req.EndTime); v != "" {
		if to, err = parseSCFTime(v); err != nil {
			return nil, scfErr("InvalidParameterValue.EndTime", "EndTime %q is not a time such as 2024-05-01 12:00:00", v)
		}
	}
	switch {
	case from.IsZero() && to.IsZero():
		to = now
		from = to.Add(-24 * time.Hour)
	case from.IsZero():
		from = to.Add(-24 * time.Hour)
	case to.IsZero():
		to = from.Add(24 * time.Hour)
	}
	if to.Before(from) {
		return nil, scfErr("InvalidParameterValue.EndTime", "EndTime is before StartTime")
	}
	retCode := ""
	if req.Filter != nil {
		retCode = str(req.Filter.RetCode)
		switch retCode {
		case "", "not0", "is0", "TimeLimitExceeded", "ResourceLimitExceeded", "UserCodeException":
		default:
			return nil, scfErr("InvalidParameterValue.RetCode", "Filter.RetCode %q is not not0, is0, TimeLimitExceeded, ResourceLimitExceeded or UserCodeException", retCode)
		}
	}
	desc := !strings.EqualFold(str(req.Order), "asc")
	switch strings.ToLower(str(req.OrderBy)) {
	case "", "start_time", "function_name", "duration", "mem_usage":
	default:
		return nil, scfErr("InvalidParameterValue.OrderBy", "OrderBy %q is not start_time, function_name, duration or mem_usage", str(req.OrderBy))
	}

	// One entry per attempt that started inside the window. An attempt
	// starts after its event was created, so events created after the
	// window cannot contribute.
	q := store.EventQuery{Function: fn, RequestID: str(req.FunctionRequestId), CreatedBefore: to.Add(time.Second)}
	evs, _, err := s.engine.Events(ctx, q)
	if err != nil {
		return nil, err
	}
	var entries []*scfFunctionLog
	for _, ev := range evs {
		if ev.StartedAt.IsZero() || ev.Attempts == 0 {
			continue
		}
		attempts, err := s.engine.Attempts(ctx, ev.RequestID)
		if err != nil {
			return nil, err
		}
		for _, a := range attempts {
			if a.StartedAt.Before(from.Truncate(time.Second)) || !a.StartedAt.Before(to.Truncate(time.Second).Add(time.Second)) {
				continue
			}
			e := &scfFunctionLog{FunctionName: fn, RequestId: ev.RequestID, StartTime: scfTime(a.StartedAt), RetryNum: uint64(a.N - 1),
				start: a.StartedAt, attempt: a.N, status: a.Status, errType: a.ErrorType, finished: !a.EndedAt.IsZero() && a.Status.Terminal()}
			if e.finished {
				e.InvokeFinished = 1
				e.Duration, e.BillDuration, e.MemUsage = float64(a.DurationMs), a.DurationMs+1, int64(a.MaxMemoryMB)<<20
				e.RetCode = scfRetCode(a.Status, a.ErrorType)
				if a.Status == event.Succeeded {
					e.RetMsg = string(ev.Result)
				} else {
					e.RetMsg = scfErrorText(a.ErrorType, a.ErrorMessage)
				}
			}
			if !scfRetCodeMatch(retCode, e) {
				continue
			}
			entries = append(entries, e)
		}
	}
	orderBy := strings.ToLower(str(req.OrderBy))
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		var less, equal bool
		switch orderBy {
		case "duration":
			less, equal = a.Duration < b.Duration, a.Duration == b.Duration
		case "mem_usage":
			less, equal = a.MemUsage < b.MemUsage, a.MemUsage == b.MemUsage
		default: // start_time (function_name is one function here)
			less, equal = a.start.Before(b.start), a.start.Equal(b.start)
		}
		if equal { // a stable tie-break, so that paging is deterministic
			less = a.RequestId < b.RequestId || a.RequestId == b.RequestId && a.attempt < b.attempt
			equal = false
		}
		if desc {
			return !less
		}
		return less
	})
	total := len(entries)
	entries = pageSlice(entries, offset, limit)
	data := make([]scfFunctionLog, 0, len(entries))
	for _, e := range entries {
		lines, err := s.engine.Logs(ctx, store.LogQuery{Function: fn, RequestID: e.RequestId})
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, l := range lines {
			if l.Attempt == e.attempt {
				b.WriteString(l.Text + "\n")
			}
		}
		e.Log = b.String()
		data = append(data, *e)
	}
	return map[string]any{"Data": data, "TotalCount": total, "SearchContext": map[string]any{"Offset": "", "Limit": 0, "Keyword": "", "Type": ""}}, nil
}

func scfRetCodeMatch(filter string, e *scfFunctionLog) bool {
	switch filter {
	case "":
		return true
	case "is0":
		return e.finished && e.RetCode == 0
	case "not0":
		return e.finished && e.RetCode != 0
	case "TimeLimitExceeded":
		return e.finished && e.status == event.TimedOut
	case "ResourceLimitExceeded":
		// The resource SCF limits per execution is memory (the emulator
		// enforces memorySize: such an attempt fails Runtime.OutOfMemory).
		return e.finished && e.RetCode == scfCodeMemory
	case "UserCodeException":
		return e.finished && e.RetCode == scfCodeUserError
	}
	return false
}

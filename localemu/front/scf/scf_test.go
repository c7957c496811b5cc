package scf

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
)

const testID, testKey = "AKIDtest", "test-secret-key"

// testServer runs the HTTP fronts over a fresh engine.
func testServer(t *testing.T, creds *front.Credentials) string {
	t.Helper()
	e := emutest.NewEngine(t, localemu.Options{})
	ts := httptest.NewServer(emutest.Handler(New(e, creds, e.Logger())))
	t.Cleanup(func() {
		ts.Close()
		emutest.CloseEngine(t, e)
	})
	return ts.URL
}

// sdkClient is the official Go SDK pointed at the emulator.
func sdkClient(t *testing.T, url, id, key string) *scf.Client {
	t.Helper()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(url, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	c, err := scf.NewClient(common.NewCredential(id, key), "ap-guangzhou", cpf)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sdkCode(t *testing.T, err error) string {
	t.Helper()
	var se *tcerr.TencentCloudSDKError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an SDK error", err)
	}
	if se.RequestId == "" && !strings.HasPrefix(se.Code, "ClientError.") {
		t.Errorf("error %s has no RequestId", se.Code)
	}
	return se.Code
}

func ptr[T any](v T) *T { return &v }

// signTC3 signs r (POST / with body) the way the Go SDK does.
func signTC3(r *http.Request, body []byte, id, key, service string, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	date := at.UTC().Format("2006-01-02")
	r.Header.Set("X-TC-Timestamp", ts)
	headers := map[string]string{"content-type": r.Header.Get("Content-Type"), "host": r.Host}
	canonical := tc3CanonicalRequest("POST", "/", "", []string{"content-type", "host"}, headers, tc3SHA256Hex(body))
	sig := tc3Sign(key, date, service, ts, canonical)
	r.Header.Set("Authorization", tc3Algorithm+" Credential="+id+"/"+date+"/"+service+"/tc3_request, SignedHeaders=content-type;host, Signature="+sig)
}

// rawSCF posts one API 3.0 request; sign may be nil. It returns the
// Response object and checks the transport-level contract.
func rawSCF(t *testing.T, url, action, version, body string, sign func(*http.Request, []byte)) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if action != "" {
		req.Header.Set("X-TC-Action", action)
	}
	if version != "" {
		req.Header.Set("X-TC-Version", version)
	}
	req.Header.Set("X-TC-Region", "ap-guangzhou")
	if sign != nil {
		sign(req, []byte(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s: HTTP %d, want 200 (API 3.0 answers errors with 200)", action, resp.StatusCode)
	}
	var out struct {
		Response map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if id, _ := out.Response["RequestId"].(string); len(id) != 36 {
		t.Errorf("%s: RequestId %v", action, out.Response["RequestId"])
	}
	return out.Response
}

func errorCode(resp map[string]any) string {
	e, _ := resp["Error"].(map[string]any)
	code, _ := e["Code"].(string)
	return code
}

func TestSCFSignature(t *testing.T) {
	url := testServer(t, &front.Credentials{ID: testID, Key: testKey})

	if _, err := sdkClient(t, url, testID, testKey).ListFunctions(scf.NewListFunctionsRequest()); err != nil {
		t.Fatalf("the right key was refused: %v", err)
	}
	_, err := sdkClient(t, url, testID, "wrong-key").ListFunctions(scf.NewListFunctionsRequest())
	if code := sdkCode(t, err); code != "AuthFailure.SignatureFailure" {
		t.Errorf("wrong key: %s, want AuthFailure.SignatureFailure", code)
	}
	_, err = sdkClient(t, url, "AKIDother", testKey).ListFunctions(scf.NewListFunctionsRequest())
	if code := sdkCode(t, err); code != "AuthFailure.SecretIdNotFound" {
		t.Errorf("wrong SecretId: %s, want AuthFailure.SecretIdNotFound", code)
	}

	sign := func(service string, at time.Time, key string) func(*http.Request, []byte) {
		return func(r *http.Request, body []byte) { signTC3(r, body, testID, key, service, at) }
	}
	if code := errorCode(rawSCF(t, url, "ListFunctions", apiVersion, `{}`, sign("scf", time.Now().Add(-10*time.Minute), testKey))); code != "AuthFailure.SignatureExpire" {
		t.Errorf("a 10-minute-old signature: %s, want AuthFailure.SignatureExpire", code)
	}
	if code := errorCode(rawSCF(t, url, "ListFunctions", apiVersion, `{}`, sign("scf", time.Now().Add(10*time.Minute), testKey))); code != "AuthFailure.SignatureExpire" {
		t.Errorf("a signature from the future: %s, want AuthFailure.SignatureExpire", code)
	}
	// Clients put different service names in the scope: the one signed counts.
	if code := errorCode(rawSCF(t, url, "ListFunctions", apiVersion, `{}`, sign("127", time.Now(), testKey))); code != "" {
		t.Errorf("service 127 in the scope: %s, want success", code)
	}
	if code := errorCode(rawSCF(t, url, "ListFunctions", apiVersion, `{}`, nil)); code != "AuthFailure.SignatureFailure" {
		t.Errorf("unsigned: %s", code)
	}
	// A body changed after signing is refused.
	tamper := func(r *http.Request, body []byte) {
		signTC3(r, []byte(`{"Limit":1}`), testID, testKey, "scf", time.Now())
	}
	if code := errorCode(rawSCF(t, url, "ListFunctions", apiVersion, `{}`, tamper)); code != "AuthFailure.SignatureFailure" {
		t.Errorf("tampered body: %s", code)
	}
	if code := errorCode(rawSCF(t, url, "ListFunctions", apiVersion, `{}`, func(r *http.Request, _ []byte) {
		r.Header.Set("Authorization", "Bearer x")
	})); code != "AuthFailure.InvalidAuthorization" {
		t.Errorf("not TC3: %s", code)
	}
}

func TestSCFProtocolErrors(t *testing.T) {
	url := testServer(t, nil)
	for _, c := range []struct {
		action, version, body, want string
	}{
		{"NoSuchThing", apiVersion, `{}`, "InvalidAction"},
		{"", apiVersion, `{}`, "MissingParameter"},
		{"ListFunctions", "", `{}`, "MissingParameter"},
		{"ListFunctions", "2017-01-01", `{}`, "NoSuchVersion"},
		{"ListFunctions", apiVersion, `{"Limit":`, "InvalidParameter"},
		{"ListFunctions", apiVersion, `{"Limit":"ten"}`, "InvalidParameter"},
		{"ListFunctions", apiVersion, `{"Namespace":"other"}`, "ResourceNotFound.Namespace"},
		{"GetFunction", apiVersion, `{}`, "MissingParameter"},
		{"GetFunction", apiVersion, `{"FunctionName":"nope"}`, "ResourceNotFound.Function"},
		{"Invoke", apiVersion, `{"FunctionName":"nope"}`, "ResourceNotFound.Function"},
		{"GetAsyncEventStatus", apiVersion, `{}`, "MissingParameter"},
		{"GetAsyncEventStatus", apiVersion, `{"InvokeRequestId":"6f1d1f5e-0000-4000-8000-000000000000"}`, "ResourceNotFound.AsyncEvent"},
		{"CreateFunction", apiVersion, `{"FunctionName":"1bad"}`, "InvalidParameterValue.FunctionName"},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name"}`, "MissingParameter.Code"},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name","Code":{"CosBucketName":"b"}}`, "InvalidParameterValue.CosObjectName"},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name","Code":{"CosObjectName":"/a.zip"}}`, "InvalidParameterValue.CosBucketName"},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name","Code":{"ZipFile":"UEsDBA==","CosBucketName":"b","CosObjectName":"a.zip"}}`, "InvalidParameterValue.Code"},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name","Code":{"DemoId":"d"}}`, "UnsupportedOperation"},
		{"PublishLayerVersion", apiVersion, `{"LayerName":"ok","CompatibleRuntimes":["Nodejs16.13"]}`, "MissingParameter"},
		{"GetLayerVersion", apiVersion, `{"LayerName":"ok"}`, "MissingParameter"},
		{"GetUserAppId", "2019-01-16", `{}`, ""},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name","Code":{"ZipFile":"!!"}}`, "InvalidParameterValue.ZipFileBase64BinasciiError"},
		{"CreateFunction", apiVersion, `{"FunctionName":"good-name","Code":{"ZipFile":"bm90IGEgemlw"}}`, "InvalidParameterValue.ZipFile"},
	} {
		resp := rawSCF(t, url, c.action, c.version, c.body, nil)
		if got := errorCode(resp); got != c.want {
			t.Errorf("%s %s %s: %s (%v), want %s", c.action, c.version, c.body, got, resp["Error"], c.want)
		}
	}
}

func TestSCFFunctionLifecycle(t *testing.T) {
	url := testServer(t, nil)
	c := sdkClient(t, url, "any", "any")
	zip := base64.StdEncoding.EncodeToString(emutest.CodeZip(t))
	create := func(name, async string, timeout int64) error {
		req := scf.NewCreateFunctionRequest()
		req.FunctionName, req.Handler, req.Runtime = ptr(name), ptr("index.ok"), ptr("Nodejs16.13")
		req.Code = &scf.Code{ZipFile: ptr(zip)}
		req.Timeout, req.AsyncRunEnable, req.TraceEnable = ptr(timeout), ptr(async), ptr(async)
		req.Environment = &scf.Environment{Variables: []*scf.Variable{{Key: ptr("A"), Value: ptr("1")}}}
		_, err := c.CreateFunction(req)
		return err
	}
	if err := create("life", "TRUE", 3600); err != nil {
		t.Fatal(err)
	}
	if code := sdkCode(t, create("life", "TRUE", 3600)); code != "ResourceInUse.Function" {
		t.Errorf("second create: %s", code)
	}
	if code := sdkCode(t, create("sync-long", "FALSE", 3600)); code != "LimitExceeded.Timeout" {
		t.Errorf("a 3600 s timeout without async: %s", code)
	}
	if code := sdkCode(t, create("bad-async", "MAYBE", 60)); code != "InvalidParameterValue.AsyncRunEnable" {
		t.Errorf("AsyncRunEnable MAYBE: %s", code)
	}

	// GetFunction: Creating, then Active, with the async flags.
	get := func() map[string]any {
		return rawSCF(t, url, "GetFunction", apiVersion, `{"FunctionName":"life"}`, nil)
	}
	if st := get()["Status"]; st != "Creating" {
		t.Errorf("status right after create: %v", st)
	}
	upd := scf.NewUpdateFunctionConfigurationRequest()
	upd.FunctionName, upd.MemorySize = ptr("life"), ptr(int64(256))
	if _, err := c.UpdateFunctionConfiguration(upd); sdkCode(t, err) != "FailedOperation.UpdateFunctionConfiguration" {
		t.Errorf("update while Creating: %v", err)
	}
	time.Sleep(settleTime + 50*time.Millisecond)
	f := get()
	if f["Status"] != "Active" || f["AsyncRunEnable"] != "TRUE" || f["TraceEnable"] != "TRUE" || f["Timeout"] != 3600.0 || f["Namespace"] != "default" {
		t.Errorf("GetFunction: %v", f)
	}
	if _, err := c.UpdateFunctionConfiguration(upd); err != nil {
		t.Fatal(err)
	}
	if st := get()["Status"]; st != "Updating" {
		t.Errorf("status right after update: %v", st)
	}
	time.Sleep(settleTime + 50*time.Millisecond)
	if f := get(); f["MemorySize"] != 256.0 {
		t.Errorf("MemorySize after update: %v", f["MemorySize"])
	}
	// Async mode is locked at creation.
	if code := errorCode(rawSCF(t, url, "UpdateFunctionConfiguration", apiVersion, `{"FunctionName":"life","AsyncRunEnable":"FALSE"}`, nil)); code != "UnknownParameter" {
		t.Errorf("UpdateFunctionConfiguration with AsyncRunEnable: %s", code)
	}

	// Retry policy.
	ec := scf.NewUpdateFunctionEventInvokeConfigRequest()
	ec.FunctionName = ptr("life")
	ec.AsyncTriggerConfig = &scf.AsyncTriggerConfig{RetryConfig: []*scf.RetryConfig{{RetryNum: ptr(int64(5))}}, MsgTTL: ptr(int64(600))}
	if _, err := c.UpdateFunctionEventInvokeConfig(ec); sdkCode(t, err) != "LimitExceeded.RetryNum" {
		t.Errorf("RetryNum 5: %v", err)
	}
	ec.AsyncTriggerConfig.RetryConfig[0].RetryNum = ptr(int64(1))
	if _, err := c.UpdateFunctionEventInvokeConfig(ec); err != nil {
		t.Fatal(err)
	}
	gc := scf.NewGetFunctionEventInvokeConfigRequest()
	gc.FunctionName = ptr("life")
	got, err := c.GetFunctionEventInvokeConfig(gc)
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Response.AsyncTriggerConfig; *a.MsgTTL != 600 || *a.RetryConfig[0].RetryNum != 1 {
		t.Errorf("event invoke config: MsgTTL %d RetryNum %d", *a.MsgTTL, *a.RetryConfig[0].RetryNum)
	}

	list, err := c.ListFunctions(scf.NewListFunctionsRequest())
	if err != nil {
		t.Fatal(err)
	}
	if *list.Response.TotalCount != 1 || *list.Response.Functions[0].FunctionName != "life" {
		t.Errorf("ListFunctions: %d functions", *list.Response.TotalCount)
	}
	la := scf.NewListAsyncEventsRequest()
	la.FunctionName, la.Limit = ptr("life"), ptr(int64(101))
	if _, err := c.ListAsyncEvents(la); sdkCode(t, err) != "InvalidParameterValue.Limit" {
		t.Errorf("Limit 101: %v", err)
	}
	la.Limit, la.Status = ptr(int64(10)), []*string{ptr("DONE")}
	if _, err := c.ListAsyncEvents(la); sdkCode(t, err) != "InvalidParameterValue.Status" {
		t.Errorf("Status DONE: %v", err)
	}

	del := scf.NewDeleteFunctionRequest()
	del.FunctionName = ptr("life")
	if _, err := c.DeleteFunction(del); err != nil {
		t.Fatal(err)
	}
	if code := errorCode(get()); code != "ResourceNotFound.Function" {
		t.Errorf("after delete: %s", code)
	}
}

func TestSCFAsyncEvents(t *testing.T) {
	emutest.NeedNode(t)
	url := testServer(t, nil)
	c := sdkClient(t, url, "any", "any")
	req := scf.NewCreateFunctionRequest()
	req.FunctionName, req.Handler, req.Runtime = ptr("ev"), ptr("index.ok"), ptr("Nodejs16.13")
	req.Code = &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(emutest.CodeZip(t)))}
	req.Timeout, req.AsyncRunEnable, req.TraceEnable = ptr(int64(60)), ptr("TRUE"), ptr("TRUE")
	if _, err := c.CreateFunction(req); err != nil {
		t.Fatal(err)
	}
	inv := scf.NewInvokeRequest()
	inv.FunctionName, inv.InvocationType, inv.ClientContext = ptr("ev"), ptr("Event"), ptr(`{}`)
	r, err := c.Invoke(inv)
	if err != nil {
		t.Fatal(err)
	}
	id := *r.Response.Result.FunctionRequestId
	if r.Response.Result.RetMsg != nil || r.Response.Result.InvokeResult != nil {
		t.Errorf("an Event invoke returned execution fields: %+v", r.Response.Result)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp := rawSCF(t, url, "GetAsyncEventStatus", apiVersion, `{"InvokeRequestId":"`+id+`"}`, nil)
		res, _ := resp["Result"].(map[string]any)
		if res["Status"] == "FINISHED" {
			if res["StatusCode"] != 200.0 || res["InvokeRequestId"] != id {
				t.Errorf("GetAsyncEventStatus: %v", res)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never FINISHED: %v", resp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	la := scf.NewListAsyncEventsRequest()
	la.FunctionName, la.InvokeRequestId = ptr("ev"), ptr(id)
	l, err := c.ListAsyncEvents(la)
	if err != nil {
		t.Fatal(err)
	}
	// Milliseconds, as in the API's example ("2020-12-01 08:35:00.000").
	milli := regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$`)
	if *l.Response.TotalCount != 1 || !milli.MatchString(*l.Response.EventList[0].StartTime) || !milli.MatchString(*l.Response.EventList[0].EndTime) ||
		*l.Response.EventList[0].Qualifier != latest {
		t.Errorf("ListAsyncEvents: %d, %+v", *l.Response.TotalCount, l.Response.EventList)
	}
	// A time window in the past matches nothing.
	la.InvokeRequestId = nil
	la.StartTimeInterval = &scf.TimeInterval{Start: ptr("2020-01-01 00:00:00"), End: ptr("2020-01-02 00:00:00")}
	if l, err := c.ListAsyncEvents(la); err != nil || *l.Response.TotalCount != 0 {
		t.Errorf("a window in 2020: %v", err)
	}

	term := rawSCF(t, url, "TerminateAsyncEvent", apiVersion, `{"FunctionName":"ev","InvokeRequestId":"`+id+`","GraceShutdown":true}`, nil)
	if code := errorCode(term); code != "FailedOperation.AsyncEventStatus" {
		t.Errorf("terminate a FINISHED event: %s", code)
	}
	gl := scf.NewGetFunctionLogsRequest()
	gl.FunctionName, gl.FunctionRequestId = ptr("ev"), ptr(id)
	logs, err := c.GetFunctionLogs(gl)
	if err != nil {
		t.Fatal(err)
	}
	if *logs.Response.TotalCount != 1 {
		t.Fatalf("GetFunctionLogs: %d entries", *logs.Response.TotalCount)
	}
	d := logs.Response.Data[0]
	if *d.RequestId != id || *d.InvokeFinished != 1 || *d.RetCode != 0 || *d.RetryNum != 0 || !strings.Contains(*d.Log, "START RequestId: "+id) ||
		!strings.Contains(*d.Log, "REPORT RequestId: "+id) {
		t.Errorf("FunctionLog: %+v, log %q", d, *d.Log)
	}
	gl.Filter = &scf.LogFilter{RetCode: ptr("not0")}
	if logs, err := c.GetFunctionLogs(gl); err != nil || *logs.Response.TotalCount != 0 {
		t.Errorf("RetCode not0 matched a success: %v", err)
	}
}

// FuzzSCFRequest feeds arbitrary actions and bodies to the SCF front: every
// answer must be API 3.0's envelope with a RequestId, and nothing may panic.
func FuzzSCFRequest(f *testing.F) {
	for _, seed := range []struct{ action, body string }{
		{"ListFunctions", `{"Offset":0,"Limit":10,"Order":"ASC","Orderby":"FunctionName"}`},
		{"CreateFunction", `{"FunctionName":"f1","Code":{"ZipFile":"UEsDBA=="},"Handler":"index.main","Runtime":"Nodejs16.13","AsyncRunEnable":"TRUE"}`},
		{"ListAsyncEvents", `{"FunctionName":"f1","Status":["RUNNING"],"StartTimeInterval":{"Start":"2024-01-01 00:00:00","End":"2024-13-01"},"Limit":100}`},
		{"GetFunctionLogs", `{"FunctionName":"f1","StartTime":"2024-01-01 00:00:00","Filter":{"RetCode":"not0"},"Offset":9999,"Limit":2}`},
		{"TerminateAsyncEvent", `{"FunctionName":"f1","InvokeRequestId":"x","GraceShutdown":"yes"}`},
		{"UpdateFunctionEventInvokeConfig", `{"FunctionName":"f1","AsyncTriggerConfig":{"RetryConfig":[{"RetryNum":-1}],"MsgTTL":1e9}}`},
		{"Invoke", `{"FunctionName":"f1","InvocationType":"Event","ClientContext":"{\"a\":"}`},
		{"GetAsyncEventStatus", `[]`},
		{"UpdateFunctionCode", `null`},
	} {
		f.Add(seed.action, []byte(seed.body))
	}
	e := emutest.NewEngine(f, localemu.Options{})
	srv := emutest.Handler(New(e, nil, e.Logger()))
	f.Fuzz(func(t *testing.T, action string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-TC-Action", action)
		req.Header.Set("X-TC-Version", apiVersion)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		var out struct {
			Response struct {
				RequestId string
				Error     *struct{ Code, Message string }
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body.Bytes())
		}
		if out.Response.RequestId == "" || out.Response.Error != nil && out.Response.Error.Code == "" {
			t.Fatalf("answer lacks RequestId or Error.Code: %s", rec.Body.Bytes())
		}
	})
}

// FuzzTC3Verify feeds arbitrary Authorization headers, timestamps and bodies
// to the verifier: it must never panic, and must accept only a signature it
// can recompute.
func FuzzTC3Verify(f *testing.F) {
	now := time.Unix(1717243200, 0)
	creds := &front.Credentials{ID: testID, Key: testKey}
	good := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9770/", nil)
	good.Header.Set("Content-Type", "application/json")
	signTC3(good, []byte(`{}`), testID, testKey, "scf", now)
	f.Add(good.Header.Get("Authorization"), good.Header.Get("X-TC-Timestamp"), []byte(`{}`))
	f.Add("TC3-HMAC-SHA256 Credential=AKIDtest/2024-06-01/127/tc3_request, SignedHeaders=content-type;host, Signature=00", "1717243200", []byte(`{}`))
	f.Add("TC3-HMAC-SHA256 Credential=/, SignedHeaders=;, Signature=", "-1", []byte(nil))
	f.Add("TC3-HMAC-SHA256 ,,,=", "99999999999999999999", []byte(`x`))
	f.Fuzz(func(t *testing.T, auth, ts string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9770/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-TC-Timestamp", ts)
		fail := verifyTC3(r, body, creds, now)
		if fail == nil {
			// Accepted: it must be a signature of exactly this request.
			a, err := parseTC3Authorization(auth)
			if err != nil || a.SecretID != testID {
				t.Fatalf("accepted an unparsable or foreign authorization %q", auth)
			}
			// The signature covers the timestamp and the body.
			if ts != good.Header.Get("X-TC-Timestamp") || string(body) != `{}` {
				t.Fatalf("accepted a signature of another request: ts %q body %q", ts, body)
			}
		} else if !strings.HasPrefix(fail.Code, "AuthFailure.") {
			t.Fatalf("code %q is not an AuthFailure", fail.Code)
		}
	})
}

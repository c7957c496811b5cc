// Package tencent implements adapters.Provider for Tencent Cloud SCF (API
// 3.0, version 2018-04-16) with the official Go SDK. With an endpoint
// override it talks to any SCF-compatible endpoint the same way, such as the
// local emulator (`asyncfn --endpoint http://127.0.0.1:9770`).
//
// What SCF's API can and cannot say shapes the adapter; see README.md:
//   - statuses: SCF reports RUNNING for both QUEUED and RUNNING events and
//     FAILED for both FAILED and TIMED_OUT ones, so the adapter reports
//     RUNNING and FAILED for them;
//   - terminate with grace sends GraceShutdown (SIGTERM first); the grace
//     length is SCF's, not the requested one;
//   - attempts, result and error of an event come from GetFunctionLogs,
//     which keeps one entry per execution.
package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// DefaultRegion is used when serverless.yml names none.
const DefaultRegion = "ap-guangzhou"

const (
	namespace = "default"
	// pageLimit is ListAsyncEvents' maximum page size.
	pageLimit = 100
	// deployTimeout bounds the wait for a function to become Active.
	deployTimeout = 10 * time.Minute
)

// Options configure the provider.
type Options struct {
	// Endpoint overrides scf.tencentcloudapi.com: a URL (http://127.0.0.1:9770)
	// or host:port. Plain HTTP is allowed only on loopback.
	Endpoint string
	// Progress receives deploy progress lines; nil discards them.
	Progress io.Writer
	// Getenv looks up credentials; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// PollInterval is the period of `logs --tail` polling and of status
	// polling while deploying; 0 means one second.
	PollInterval time.Duration
}

// Provider is SCF in one region.
type Provider struct {
	svc      *spec.Service
	region   string
	cred     *common.Credential
	profile  *profile.ClientProfile
	progress io.Writer
	poll     time.Duration

	mu      sync.Mutex          // guards appid
	appid   string              // the account's appid (GetUserAppId), once read
	layerMu sync.Mutex          // guards layers, held while a layer is published
	layers  map[string]layerUse // the version each of the service's layers deploys as, by key
}

var _ adapters.Provider = (*Provider)(nil)

// New returns the provider for svc.
func New(svc *spec.Service, opts Options) (*Provider, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	cpf := profile.NewClientProfile()
	// No overall request timeout: a synchronous invoke may last as long as
	// the function runs; the caller's context bounds every call instead.
	cpf.HttpProfile.ReqTimeout = 0
	loopback := false
	if opts.Endpoint != "" {
		host, scheme, err := parseEndpoint(opts.Endpoint)
		if err != nil {
			return nil, err
		}
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			h = host
		}
		loopback = isLoopback(h)
		if scheme == "HTTP" && !loopback {
			return nil, fmt.Errorf("tencent: endpoint %s: plain HTTP is allowed only for a loopback endpoint; use https://", opts.Endpoint)
		}
		cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = host, scheme
	}
	cred, err := loadCredential(svc, getenv, loopback)
	if err != nil {
		return nil, err
	}
	region := DefaultRegion
	if svc != nil && svc.Region != "" {
		region = svc.Region
	}
	p := &Provider{svc: svc, region: region, cred: cred, profile: cpf, progress: opts.Progress, poll: opts.PollInterval}
	if p.progress == nil {
		p.progress = io.Discard
	}
	if p.poll <= 0 {
		p.poll = time.Second
	}
	return p, nil
}

// parseEndpoint returns the SDK's Endpoint (host[:port]) and Scheme.
func parseEndpoint(ep string) (host, scheme string, err error) {
	if !strings.Contains(ep, "://") {
		h := strings.TrimRight(ep, "/")
		hn, _, serr := net.SplitHostPort(h)
		if serr != nil {
			hn = h
		}
		if isLoopback(hn) {
			return h, "HTTP", nil
		}
		return h, "HTTPS", nil
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("tencent: endpoint %q is not a URL such as https://scf.tencentcloudapi.com or http://127.0.0.1:9770", ep)
	}
	if u.Path != "" && u.Path != "/" {
		return "", "", fmt.Errorf("tencent: endpoint %q: API 3.0 endpoints have no path", ep)
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return u.Host, "HTTP", nil
	case "https":
		return u.Host, "HTTPS", nil
	}
	return "", "", fmt.Errorf("tencent: endpoint %q: scheme must be http or https", ep)
}

func ptr[T any](v T) *T { return &v }

func flag(b bool) *string {
	if b {
		return ptr("TRUE")
	}
	return ptr("FALSE")
}

func environment(env map[string]string) *scf.Environment {
	e := &scf.Environment{Variables: []*scf.Variable{}}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.Variables = append(e.Variables, &scf.Variable{Key: ptr(k), Value: ptr(env[k])})
	}
	return e
}

// function reads GetFunction; ErrNotFound when it does not exist.
func (p *Provider) function(ctx context.Context, name string) (*getFunctionResponse, error) {
	req := scf.NewGetFunctionRequest()
	req.FunctionName, req.Namespace = ptr(name), ptr(namespace)
	resp := &getFunctionResponse{}
	if err := p.send(ctx, req, resp); err != nil {
		return nil, err
	}
	if resp.Response == nil {
		return nil, fmt.Errorf("tencent: GetFunction %s: empty answer", name)
	}
	return resp, nil
}

// Deploy creates the function, or updates its code and then its
// configuration, waiting for Active after each step, then applies the async
// retry policy (retryNum, msgTTL).
func (p *Provider) Deploy(ctx context.Context, fn spec.Function, code adapters.Artifact) (adapters.Deployment, error) {
	name := fn.DeployedName
	layers, err := p.functionLayers(ctx, fn)
	if err != nil {
		return adapters.Deployment{}, err
	}
	src, err := p.code(ctx, name, code.Zip, code.SHA256)
	if err != nil {
		return adapters.Deployment{}, err
	}
	cur, err := p.function(ctx, name)
	created := false
	switch {
	case errors.Is(err, adapters.ErrNotFound):
		created = true
		fmt.Fprintf(p.progress, "tencent: %s: creating function (%s, %s, async %t)\n", name, fn.Runtime, p.region, fn.Async.Enabled)
		req := scf.NewCreateFunctionRequest()
		req.FunctionName, req.Namespace = ptr(name), ptr(namespace)
		req.Code = src
		if len(layers) > 0 {
			req.Layers = layers
		}
		req.Handler, req.Runtime = ptr(fn.Handler), ptr(fn.Runtime)
		req.MemorySize, req.Timeout = ptr(int64(fn.MemorySize)), ptr(int64(fn.Timeout))
		req.Environment = environment(fn.Environment)
		if fn.Description != "" {
			req.Description = ptr(fn.Description)
		}
		req.AsyncRunEnable, req.TraceEnable = flag(fn.Async.Enabled), flag(fn.Async.Tracking())
		if err := p.call(ctx, "CreateFunction", func(c *scf.Client) error { _, err := c.CreateFunction(req); return err }); err != nil {
			return adapters.Deployment{}, err
		}
	case err != nil:
		return adapters.Deployment{}, err
	default:
		// Async run mode is fixed when a function is created; SCF has no
		// way to change it, so a changed asyncRunEnable must not be ignored.
		if was := strings.EqualFold(s(cur.Response.AsyncRunEnable), "TRUE"); was != fn.Async.Enabled {
			return adapters.Deployment{}, fmt.Errorf("tencent: %s: asyncRunEnable is %t in serverless.yml but the deployed function was created with %t; "+
				"SCF fixes async run mode at creation, so remove the function (asyncfn remove -f %s) and deploy again", name, fn.Async.Enabled, was, fn.Name)
		}
		// Runtime and event tracking are chosen at creation as well
		// (UpdateFunctionConfiguration takes no TraceEnable and keeps the
		// Runtime): a change needs the function created again.
		if was := s(cur.Response.Runtime); was != "" && was != fn.Runtime {
			return adapters.Deployment{}, fmt.Errorf("tencent: %s: runtime is %s in serverless.yml but the deployed function runs %s; "+
				"SCF fixes the runtime at creation, so remove the function (asyncfn remove -f %s) and deploy again", name, fn.Runtime, was, fn.Name)
		}
		if was := strings.EqualFold(s(cur.Response.TraceEnable), "TRUE"); was != fn.Async.Tracking() {
			return adapters.Deployment{}, fmt.Errorf("tencent: %s: traceEnable is %t for serverless.yml (it defaults to asyncRunEnable) but the deployed function was created with %t; "+
				"SCF fixes event tracking at creation, so remove the function (asyncfn remove -f %s) and deploy again", name, fn.Async.Tracking(), was, fn.Name)
		}
		if err := p.waitActive(ctx, name); err != nil {
			return adapters.Deployment{}, err
		}
		fmt.Fprintf(p.progress, "tencent: %s: updating code\n", name)
		creq := scf.NewUpdateFunctionCodeRequest()
		creq.FunctionName, creq.Namespace, creq.Handler = ptr(name), ptr(namespace), ptr(fn.Handler)
		creq.ZipFile, creq.CosBucketName, creq.CosObjectName, creq.CosBucketRegion = src.ZipFile, src.CosBucketName, src.CosObjectName, src.CosBucketRegion
		if err := p.call(ctx, "UpdateFunctionCode", func(c *scf.Client) error { _, err := c.UpdateFunctionCode(creq); return err }); err != nil {
			return adapters.Deployment{}, err
		}
		if err := p.waitActive(ctx, name); err != nil {
			return adapters.Deployment{}, err
		}
		fmt.Fprintf(p.progress, "tencent: %s: updating configuration\n", name)
		ureq := scf.NewUpdateFunctionConfigurationRequest()
		ureq.FunctionName, ureq.Namespace = ptr(name), ptr(namespace)
		// No Runtime: "函数运行环境，创建时指定，目前不支持修改" (SCF API,
		// UpdateFunctionConfiguration); a changed runtime was refused above.
		ureq.Description = ptr(fn.Description)
		ureq.MemorySize, ureq.Timeout = ptr(int64(fn.MemorySize)), ptr(int64(fn.Timeout))
		ureq.Environment = environment(fn.Environment)
		if len(layers) > 0 {
			ureq.Layers = layers // (the SDK omits an empty list: removing every layer leaves them bound)
		}
		if err := p.call(ctx, "UpdateFunctionConfiguration", func(c *scf.Client) error { _, err := c.UpdateFunctionConfiguration(ureq); return err }); err != nil {
			return adapters.Deployment{}, err
		}
	}
	if err := p.waitActive(ctx, name); err != nil {
		return adapters.Deployment{}, err
	}
	if fn.Async.RetryAttempts != nil || fn.Async.MaxEventAge > 0 {
		if err := p.setRetryPolicy(ctx, name, fn.Async); err != nil {
			return adapters.Deployment{}, err
		}
		if err := p.waitActive(ctx, name); err != nil {
			return adapters.Deployment{}, err
		}
	}
	final, err := p.function(ctx, name)
	if err != nil {
		return adapters.Deployment{}, err
	}
	return adapters.Deployment{Function: name, Version: s(final.Response.FunctionVersion), State: s(final.Response.Status),
		CodeSHA256: code.SHA256, Created: created}, nil
}

// setRetryPolicy applies retryNum and msgTTL; the one not set keeps its
// current value (SCF's AsyncTriggerConfig carries both).
func (p *Provider) setRetryPolicy(ctx context.Context, name string, a spec.Async) error {
	greq := scf.NewGetFunctionEventInvokeConfigRequest()
	greq.FunctionName, greq.Namespace = ptr(name), ptr(namespace)
	var cur *scf.GetFunctionEventInvokeConfigResponse
	if err := p.call(ctx, "GetFunctionEventInvokeConfig", func(c *scf.Client) (err error) {
		cur, err = c.GetFunctionEventInvokeConfig(greq)
		return err
	}); err != nil {
		return err
	}
	cfg := &scf.AsyncTriggerConfig{}
	if cur.Response != nil && cur.Response.AsyncTriggerConfig != nil {
		cfg = cur.Response.AsyncTriggerConfig
	}
	if a.RetryAttempts != nil {
		cfg.RetryConfig = []*scf.RetryConfig{{RetryNum: ptr(int64(*a.RetryAttempts))}}
	}
	if a.MaxEventAge > 0 {
		cfg.MsgTTL = ptr(int64(a.MaxEventAge))
	}
	fmt.Fprintf(p.progress, "tencent: %s: setting async retry policy\n", name)
	ureq := scf.NewUpdateFunctionEventInvokeConfigRequest()
	ureq.FunctionName, ureq.Namespace, ureq.AsyncTriggerConfig = ptr(name), ptr(namespace), cfg
	return p.call(ctx, "UpdateFunctionEventInvokeConfig", func(c *scf.Client) error { _, err := c.UpdateFunctionEventInvokeConfig(ureq); return err })
}

// waitActive polls GetFunction until Status is Active, printing each status
// change; a *Failed status is an error with SCF's reasons.
func (p *Provider) waitActive(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	last := ""
	delay := 100 * time.Millisecond
	for {
		f, err := p.function(ctx, name)
		if err != nil {
			return err
		}
		st := s(f.Response.Status)
		if st != last {
			fmt.Fprintf(p.progress, "tencent: %s: %s\n", name, st)
			last = st
		}
		switch {
		case st == "Active":
			return nil
		case strings.HasSuffix(st, "Failed"):
			var reasons []string
			for _, r := range f.Response.StatusReasons {
				if r != nil {
					reasons = append(reasons, s(r.ErrorCode)+": "+s(r.ErrorMessage))
				}
			}
			return fmt.Errorf("tencent: %s is %s: %s %s", name, st, s(f.Response.StatusDesc), strings.Join(reasons, "; "))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tencent: %s stayed %s: %w", name, st, ctx.Err())
		case <-time.After(delay):
		}
		if delay < p.poll {
			delay *= 2
		}
	}
}

// Remove deletes the function.
func (p *Provider) Remove(ctx context.Context, fn string) error {
	req := scf.NewDeleteFunctionRequest()
	req.FunctionName, req.Namespace = ptr(fn), ptr(namespace)
	return p.call(ctx, "DeleteFunction", func(c *scf.Client) error { _, err := c.DeleteFunction(req); return err })
}

// Invoke calls Invoke: InvocationType Event returns the FunctionRequestId at
// once; RequestResponse waits for the result.
func (p *Provider) Invoke(ctx context.Context, fn string, payload []byte, opts adapters.InvokeOptions) (adapters.Invocation, error) {
	if opts.DurableName != "" {
		return adapters.Invocation{}, &adapters.UnsupportedError{Provider: "tencent", Op: "durable execution names",
			Reason: "SCF has no durable executions", Alternative: "invoke without a durable name"}
	}
	req := scf.NewInvokeRequest()
	req.FunctionName, req.Namespace = ptr(fn), ptr(namespace)
	req.InvocationType = ptr(event.InvokeRequestResponse)
	if opts.Async {
		req.InvocationType = ptr(event.InvokeEvent)
	}
	if opts.Qualifier != "" {
		req.Qualifier = ptr(opts.Qualifier)
	}
	if len(payload) > 0 {
		req.ClientContext = ptr(string(payload))
	}
	if opts.LogTail && !opts.Async {
		req.LogType = ptr("Tail")
	}
	var resp *scf.InvokeResponse
	if err := p.call(ctx, "Invoke", func(c *scf.Client) (err error) {
		resp, err = c.Invoke(req)
		return err
	}); err != nil {
		return adapters.Invocation{}, err
	}
	if resp.Response == nil || resp.Response.Result == nil {
		return adapters.Invocation{}, fmt.Errorf("tencent: Invoke %s: the answer has no Result", fn)
	}
	r := resp.Response.Result
	inv := adapters.Invocation{RequestID: s(r.FunctionRequestId)}
	if opts.Async {
		inv.Status = event.Queued
		return inv, nil
	}
	inv.Log = s(r.Log)
	if r.Duration != nil {
		inv.DurationMs = int64(*r.Duration)
	}
	if (r.InvokeResult != nil && *r.InvokeResult != 0) || s(r.ErrMsg) != "" {
		inv.Status = event.Failed
		inv.Error = functionError(s(r.ErrMsg))
		if inv.Error.Message == "" {
			inv.Error.Message = fmt.Sprintf("invoke result %d", *r.InvokeResult)
		}
		return inv, nil
	}
	inv.Status = event.Succeeded
	inv.Result, inv.ResultText = adapters.SplitResult([]byte(s(r.RetMsg)))
	return inv, nil
}

// functionError reads an error text: SCF reports JSON such as
// {"errorType":...,"errorMessage":...} (or errorCode/stackTrace), else plain text.
func functionError(text string) *adapters.FunctionError {
	var m struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
		ErrorCode    any    `json:"errorCode"`
	}
	fe := &adapters.FunctionError{Type: "FunctionError", Message: text}
	if json.Unmarshal([]byte(text), &m) == nil && m.ErrorMessage != "" {
		fe.Message = m.ErrorMessage
		if m.ErrorType != "" {
			fe.Type = m.ErrorType
		}
	}
	return fe
}

package tencent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/adapters"
)

// SDK v1.0.162 has no context support and no common client. Each call gets
// its own scf.Client whose transport carries the call's context, so that a
// cancelled command aborts its request; actions and fields the SDK version
// lacks (GetAsyncEventStatus, TerminateAsyncEvent.GraceShutdown,
// GetFunction.AsyncRunEnable) go through the client's Send with request and
// response types of our own, signed and parsed by the SDK like any other.

// ctxTransport binds the requests of one call to its context.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// client returns an SCF client for one call under ctx.
func (p *Provider) client(ctx context.Context) (*scf.Client, error) {
	c, err := scf.NewClient(p.cred, p.region, p.profile)
	if err != nil {
		return nil, fmt.Errorf("tencent: create the SCF client: %w", err)
	}
	c.WithHttpTransport(ctxTransport{ctx: ctx, base: http.DefaultTransport})
	return c, nil
}

// call runs one SDK call with ctx and maps its error.
func (p *Provider) call(ctx context.Context, action string, do func(c *scf.Client) error) error {
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	if err := do(c); err != nil {
		return p.apiError(ctx, action, err)
	}
	return nil
}

// send sends a request of our own types through the SDK's signer.
func (p *Provider) send(ctx context.Context, req tchttp.Request, resp tchttp.Response) error {
	return p.call(ctx, req.GetAction(), func(c *scf.Client) error { return c.Send(req, resp) })
}

// apiError turns an SDK error into *adapters.APIError (keeping Code and
// RequestId), with adapters.ErrNotFound for ResourceNotFound.*.
func (p *Provider) apiError(ctx context.Context, action string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("tencent: %s: %w", action, ctx.Err())
	}
	var se *tcerr.TencentCloudSDKError
	if !errors.As(err, &se) {
		return fmt.Errorf("tencent: %s: %w", action, err)
	}
	if strings.HasPrefix(se.Code, "ClientError.") {
		// Raised by the SDK itself (network, parsing): no API answer to keep.
		return fmt.Errorf("tencent: %s at %s: %s: %s", action, p.endpointName(), se.Code, se.Message)
	}
	ae := &adapters.APIError{Provider: "tencent", Code: se.Code, Message: action + ": " + se.Message, RequestID: se.RequestId, HTTPStatus: http.StatusOK}
	if strings.HasPrefix(se.Code, "ResourceNotFound.") {
		ae.Err = adapters.ErrNotFound
	}
	return ae
}

func (p *Provider) endpointName() string {
	if p.profile.HttpProfile.Endpoint != "" {
		return strings.ToLower(p.profile.HttpProfile.Scheme) + "://" + p.profile.HttpProfile.Endpoint
	}
	return "scf.tencentcloudapi.com"
}

// newRequest returns a base request for action of SCF 2018-04-16.
func newRequest(action string) *tchttp.BaseRequest {
	r := &tchttp.BaseRequest{}
	r.Init().WithApiInfo("scf", scf.APIVersion, action)
	return r
}

// getAsyncEventStatusRequest: GetAsyncEventStatus is not in SDK v1.0.162.
type getAsyncEventStatusRequest struct {
	*tchttp.BaseRequest
	InvokeRequestId *string `json:"InvokeRequestId,omitempty" name:"InvokeRequestId"`
}

type getAsyncEventStatusResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		Result *struct {
			Status          *string `json:"Status,omitempty"`
			StatusCode      *int64  `json:"StatusCode,omitempty"`
			InvokeRequestId *string `json:"InvokeRequestId,omitempty"`
		} `json:"Result,omitempty"`
		RequestId *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

// terminateAsyncEventRequest adds GraceShutdown, which SDK v1.0.162 lacks.
type terminateAsyncEventRequest struct {
	*tchttp.BaseRequest
	FunctionName    *string `json:"FunctionName,omitempty" name:"FunctionName"`
	InvokeRequestId *string `json:"InvokeRequestId,omitempty" name:"InvokeRequestId"`
	Namespace       *string `json:"Namespace,omitempty" name:"Namespace"`
	GraceShutdown   *bool   `json:"GraceShutdown,omitempty" name:"GraceShutdown"`
}

type emptyResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		RequestId *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

// getFunctionResponse reads the fields of GetFunction that decide a deploy,
// including AsyncRunEnable, which SDK v1.0.162's model lacks.
type getFunctionResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		FunctionName    *string `json:"FunctionName,omitempty"`
		FunctionVersion *string `json:"FunctionVersion,omitempty"`
		Status          *string `json:"Status,omitempty"`
		StatusDesc      *string `json:"StatusDesc,omitempty"`
		Runtime         *string `json:"Runtime,omitempty"`
		AsyncRunEnable  *string `json:"AsyncRunEnable,omitempty"`
		TraceEnable     *string `json:"TraceEnable,omitempty"`
		StatusReasons   []*struct {
			ErrorCode    *string `json:"ErrorCode,omitempty"`
			ErrorMessage *string `json:"ErrorMessage,omitempty"`
		} `json:"StatusReasons,omitempty"`
		RequestId *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

func s(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

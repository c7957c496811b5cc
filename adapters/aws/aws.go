// Package aws implements adapters.Provider for AWS Lambda with
// aws-sdk-go-v2: functions through the Lambda API, the async lifecycle
// (list, status, stop) through Lambda's durable-execution API, and logs
// through CloudWatch Logs. The same code reaches the local emulator, which
// serves those APIs, through an endpoint override.
//
// Plain Lambda gives an async invoke nothing but a request id. Where a
// function is durable (created with a DurableConfig, which it then reports)
// events are its durable executions; otherwise their status is derived from
// the function's CloudWatch log lines, which is eventually consistent (lines
// arrive seconds after they are written). The emulator models both kinds as
// Lambda does, so both paths run against it.
package aws

import (
	"context"
	"encoding/base64"
	"encoding/hex"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// Options configure the provider.
type Options struct {
	// Endpoint overrides the Lambda and CloudWatch Logs endpoints (the
	// emulator, e.g. http://127.0.0.1:9770). Empty means AWS itself.
	Endpoint string
	// Progress receives progress lines (deploy waits); nil discards them.
	Progress io.Writer
	// Getenv reads the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...);
	// nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// PollInterval is how often a log tail asks CloudWatch Logs for new
	// lines; 0 means one second.
	PollInterval time.Duration
}

// Provider is AWS Lambda (or an endpoint that speaks its API).
type Provider struct {
	svc      *spec.Service
	lambda   *lambda.Client
	logs     *cloudwatchlogs.Client
	s3       *s3.Client  // packages over the inline limit (heavy.go)
	sts      *sts.Client // the account, for the default deployment bucket
	endpoint string      // Options.Endpoint
	region   string
	progress io.Writer
	poll     time.Duration

	mu  sync.Mutex
	fns map[string]fnInfo // GetFunctionConfiguration answers, by function name
	// arns holds the durable execution ARNs this provider has seen
	// (from an invoke's answer or a list), by execution id, name and invoke
	// request id: Lambda finds an execution by its whole ARN only.
	arns map[string]string
	// deployBucket is the deployment bucket once known; layers the
	// version ARNs of the service's layers published in this run, by key.
	deployBucket string
	layers       map[string]string
}

var _ adapters.Provider = (*Provider)(nil)

// fnInfo is what the provider needs to know about a deployed function.
type fnInfo struct {
	arn     string // unqualified function ARN
	durable bool   // it has a DurableConfig: its async invokes are durable executions
	// For a plain function, its async retry policy: a failed attempt with
	// retries left is not the event's end (see tracker.awaitRetries).
	retries int
	maxAge  time.Duration
}

// placeholderKey is the access key used against a loopback endpoint when
// no credentials are configured: the emulator without --credentials accepts
// any signature, so no AWS account is needed.
const placeholderKey = "asyncfn-local"

// New loads the AWS configuration the way the AWS CLI does (environment,
// shared config and credentials files, SSO; provider.profile picks a
// profile) and returns the provider for svc's region.
func New(ctx context.Context, svc *spec.Service, opts Options) (*Provider, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	region := svc.Region
	if region == "" {
		if r, ok := getenv("AWS_REGION"); ok && r != "" {
			region = r
		} else {
			region = "us-east-1"
		}
	}
	loadOpts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	profile := svc.Provider.Profile
	if profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(profile))
	}
	id, _ := getenv("AWS_ACCESS_KEY_ID")
	secret, _ := getenv("AWS_SECRET_ACCESS_KEY")
	envProfile, _ := getenv("AWS_PROFILE")
	switch {
	case id != "" && secret != "":
		token, _ := getenv("AWS_SESSION_TOKEN")
		loadOpts = append(loadOpts, config.WithCredentialsProvider(staticCredentials(id, secret, token)))
	case opts.Endpoint != "" && isLoopback(opts.Endpoint) && profile == "" && envProfile == "":
		loadOpts = append(loadOpts, config.WithCredentialsProvider(staticCredentials(placeholderKey, placeholderKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("aws: load configuration: %w", err)
	}
	p := &Provider{svc: svc, progress: opts.Progress, poll: opts.PollInterval, fns: map[string]fnInfo{}, arns: map[string]string{},
		endpoint: opts.Endpoint, region: region, layers: map[string]string{}}
	if p.progress == nil {
		p.progress = io.Discard
	}
	if p.poll <= 0 {
		p.poll = time.Second
	}
	p.lambda = lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	p.logs = cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	p.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			// The emulator serves S3 path-style on the same port.
			o.BaseEndpoint = aws.String(opts.Endpoint)
			o.UsePathStyle = true
		}
	})
	p.sts = sts.NewFromConfig(cfg)
	return p, nil
}

func staticCredentials(id, secret, token string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Source: "asyncfn"}, nil
	})
}

func isLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiError turns an SDK error into an *adapters.APIError that keeps the
// service's code and request id; other errors are wrapped as they are.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var coded interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !errors.As(err, &coded) {
		return fmt.Errorf("aws: %s: %w", op, err)
	}
	e := &adapters.APIError{Provider: "aws", Code: coded.ErrorCode(), Message: coded.ErrorMessage()}
	var rid interface{ ServiceRequestID() string }
	if errors.As(err, &rid) {
		e.RequestID = rid.ServiceRequestID()
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		e.HTTPStatus = status.HTTPStatusCode()
	}
	if e.Code == "ResourceNotFoundException" {
		e.Err = adapters.ErrNotFound
	}
	if e.Message == "" {
		e.Message = op + " failed"
	}
	return e
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf) || errors.Is(err, adapters.ErrNotFound)
}

// function returns what the provider knows about fn, asking Lambda once.
func (p *Provider) function(ctx context.Context, fn string) (fnInfo, error) {
	p.mu.Lock()
	info, ok := p.fns[fn]
	p.mu.Unlock()
	if ok {
		return info, nil
	}
	out, err := p.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		return fnInfo{}, apiError("GetFunctionConfiguration "+fn, err)
	}
	info = fnInfo{arn: aws.ToString(out.FunctionArn), durable: out.DurableConfig != nil}
	if !info.durable {
		if info.retries, info.maxAge, err = p.retryPolicy(ctx, fn); err != nil {
			return fnInfo{}, err
		}
	}
	p.mu.Lock()
	p.fns[fn] = info
	p.mu.Unlock()
	return info, nil
}

// Lambda's defaults for an asynchronous invocation without an event invoke
// configuration (developer guide, Configuring error handling for
// asynchronous invocation: two retries, events kept up to six hours).
const (
	defaultRetryAttempts = 2
	defaultMaxEventAge   = 6 * time.Hour
)

// retryPolicy reads fn's MaximumRetryAttempts and MaximumEventAgeInSeconds.
func (p *Provider) retryPolicy(ctx context.Context, fn string) (int, time.Duration, error) {
	retries, age := defaultRetryAttempts, defaultMaxEventAge
	out, err := p.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(fn)})
	switch {
	case isNotFound(err):
		return retries, age, nil
	case err != nil:
		return 0, 0, apiError("GetFunctionEventInvokeConfig "+fn, err)
	}
	if out.MaximumRetryAttempts != nil {
		retries = int(*out.MaximumRetryAttempts)
	}
	if out.MaximumEventAgeInSeconds != nil {
		age = time.Duration(*out.MaximumEventAgeInSeconds) * time.Second
	}
	return retries, age, nil
}

func (p *Provider) forget(fn string) {
	p.mu.Lock()
	delete(p.fns, fn)
	p.mu.Unlock()
}

// roleARN is the execution role every function is created with.
func (p *Provider) roleARN() (string, error) {
	role := strings.TrimSpace(p.svc.Provider.Role)
	if role == "" {
		return "", fmt.Errorf("aws: %s: no execution role: set provider.iam.role (or provider.role) to the ARN of an IAM role Lambda can assume, e.g. arn:aws:iam::123456789012:role/lambda-exec", p.file())
	}
	if !strings.HasPrefix(role, "arn:") || !strings.Contains(role, ":role/") {
		return "", fmt.Errorf("aws: %s: provider.iam.role / provider.role %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>); asyncfn does not create roles", p.file(), role)
	}
	return role, nil
}

func (p *Provider) file() string {
	if p.svc.File != "" {
		return p.svc.File
	}
	return "serverless.yml"
}

func int32p(n int) *int32 {
	v := int32(n)
	return &v
}

// Deploy creates the function or updates its code and configuration, waits
// with Lambda's waiters until it is Active / Successful, then applies the
// async invoke configuration and reserved concurrency.
func (p *Provider) Deploy(ctx context.Context, fn spec.Function, code adapters.Artifact) (adapters.Deployment, error) {
	role, err := p.roleARN()
	if err != nil {
		return adapters.Deployment{}, err
	}
	name := fn.DeployedName
	p.forget(name)
	var env *types.Environment
	if len(fn.Environment) > 0 {
		env = &types.Environment{Variables: fn.Environment}
	}
	var durable *types.DurableConfig
	if d := fn.Async.Durable; d != nil {
		// ExecutionTimeout is required (spec refuses a durableConfig
		// without it); RetentionPeriodInDays defaults to 14 days.
		durable = &types.DurableConfig{ExecutionTimeout: int32p(d.ExecutionTimeout)}
		if d.RetentionPeriodInDays > 0 {
			durable.RetentionPeriodInDays = int32p(d.RetentionPeriodInDays)
		}
	}
	dep := adapters.Deployment{Function: name, Version: "$LATEST"}
	layers, err := p.layerARNs(ctx, fn)
	if err != nil {
		return dep, err
	}
	staged, err := p.stage(ctx, "function", name, code.Zip)
	if err != nil {
		return dep, err
	}
	dep.CodeObject = staged.objectLocation
	cur, err := p.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	switch {
	case isNotFound(err):
		fmt.Fprintf(p.progress, "aws: creating function %s\n", name)
		in := &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(role), Runtime: types.Runtime(fn.Runtime),
			Handler: aws.String(fn.Handler), Code: staged.functionCode(), Description: aws.String(fn.Description), Layers: layers,
			Timeout: int32p(fn.Timeout), MemorySize: int32p(fn.MemorySize), Environment: env, DurableConfig: durable, PackageType: types.PackageTypeZip}
		if err := p.retryRole(ctx, func() error { _, err := p.lambda.CreateFunction(ctx, in); return err }); err != nil {
			return dep, apiError("CreateFunction "+name, err)
		}
		dep.Created = true
		fmt.Fprintf(p.progress, "aws: waiting for %s to become Active\n", name)
		if err := lambda.NewFunctionActiveV2Waiter(p.lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Minute); err != nil {
			return dep, apiError("wait for "+name+" to become Active", err)
		}
	case err != nil:
		return dep, apiError("GetFunction "+name, err)
	default:
		// "You can only enable durable execution when creating a function.
		// You cannot enable it on existing functions." (Lambda developer
		// guide, Configure Lambda durable functions.) Like SCF's async run
		// mode, a change must not be ignored: stop before changing anything.
		if was := cur.Configuration != nil && cur.Configuration.DurableConfig != nil; was != (durable != nil) {
			return dep, fmt.Errorf("aws: %s: durableConfig is %s in %s but the deployed function was created %s; "+
				"Lambda sets durableConfig only when a function is created, so remove the function (asyncfn remove -f %s) and deploy again",
				name, declared(durable != nil), p.file(), withOrWithout(was), fn.Name)
		}
		fmt.Fprintf(p.progress, "aws: updating code of %s\n", name)
		if _, err := p.lambda.UpdateFunctionCode(ctx, staged.updateInput(name)); err != nil {
			return dep, apiError("UpdateFunctionCode "+name, err)
		}
		if err := p.waitUpdated(ctx, name); err != nil {
			return dep, err
		}
		fmt.Fprintf(p.progress, "aws: updating configuration of %s\n", name)
		in := &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Role: aws.String(role), Runtime: types.Runtime(fn.Runtime),
			Handler: aws.String(fn.Handler), Description: aws.String(fn.Description), Timeout: int32p(fn.Timeout), MemorySize: int32p(fn.MemorySize),
			Environment: env, DurableConfig: durable, Layers: layers}
		if layers == nil && cur.Configuration != nil && len(cur.Configuration.Layers) > 0 {
			in.Layers = []string{} // removes layers dropped from serverless.yml
		}
		if env == nil {
			in.Environment = &types.Environment{Variables: map[string]string{}} // removes variables dropped from serverless.yml
		}
		if err := p.retryRole(ctx, func() error { _, err := p.lambda.UpdateFunctionConfiguration(ctx, in); return err }); err != nil {
			return dep, apiError("UpdateFunctionConfiguration "+name, err)
		}
		if err := p.waitUpdated(ctx, name); err != nil {
			return dep, err
		}
	}
	got, err := p.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		return dep, apiError("GetFunction "+name, err)
	}
	if c := got.Configuration; c != nil {
		dep.State = string(c.State)
		dep.CodeSHA256 = aws.ToString(c.CodeSha256)
		if raw, err := base64.StdEncoding.DecodeString(dep.CodeSHA256); err == nil && len(raw) == 32 {
			dep.CodeSHA256 = hex.EncodeToString(raw) // the same form as the artifact's digest
		}
		if err := p.putEventInvokeConfig(ctx, fn, aws.ToString(c.FunctionArn)); err != nil {
			return dep, err
		}
	}
	if fn.ReservedConcurrency != nil {
		if _, err := p.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name),
			ReservedConcurrentExecutions: int32p(*fn.ReservedConcurrency)}); err != nil {
			return dep, apiError("PutFunctionConcurrency "+name, err)
		}
	}
	return dep, nil
}

func declared(yes bool) string {
	if yes {
		return "declared"
	}
	return "not declared"
}

func withOrWithout(durable bool) string {
	if durable {
		return "with one"
	}
	return "without one"
}

// retryRole retries f while Lambda says the role cannot be assumed yet: a
// freshly created IAM role takes some seconds to propagate.
func (p *Provider) retryRole(ctx context.Context, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		var inv *types.InvalidParameterValueException
		if err == nil || i == 9 || !errors.As(err, &inv) || !strings.Contains(aws.ToString(inv.Message), "cannot be assumed") {
			return err
		}
		fmt.Fprintf(p.progress, "aws: the role cannot be assumed yet (IAM propagation); retrying\n")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
}

func (p *Provider) waitUpdated(ctx context.Context, name string) error {
	fmt.Fprintf(p.progress, "aws: waiting for the update of %s to finish\n", name)
	if err := lambda.NewFunctionUpdatedV2Waiter(p.lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Minute); err != nil {
		return apiError("wait for the update of "+name, err)
	}
	return nil
}

// putEventInvokeConfig applies maximumRetryAttempts, maximumEventAge and
// destinations; with none of them declared, any old configuration is removed.
func (p *Provider) putEventInvokeConfig(ctx context.Context, fn spec.Function, fnARN string) error {
	a := fn.Async
	name := fn.DeployedName
	if a.RetryAttempts == nil && a.MaxEventAge == 0 && a.OnSuccess == "" && a.OnFailure == "" {
		_, err := p.lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
		if err != nil && !isNotFound(err) {
			return apiError("DeleteFunctionEventInvokeConfig "+name, err)
		}
		return nil
	}
	in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}
	if a.RetryAttempts != nil {
		in.MaximumRetryAttempts = int32p(*a.RetryAttempts)
	}
	if a.MaxEventAge > 0 {
		in.MaximumEventAgeInSeconds = int32p(a.MaxEventAge)
	}
	if a.OnSuccess != "" || a.OnFailure != "" {
		in.DestinationConfig = &types.DestinationConfig{}
		if a.OnSuccess != "" {
			in.DestinationConfig.OnSuccess = &types.OnSuccess{Destination: aws.String(p.destinationARN(a.OnSuccess, fnARN))}
		}
		if a.OnFailure != "" {
			in.DestinationConfig.OnFailure = &types.OnFailure{Destination: aws.String(p.destinationARN(a.OnFailure, fnARN))}
		}
	}
	fmt.Fprintf(p.progress, "aws: setting the async invoke configuration of %s\n", name)
	if _, err := p.lambda.PutFunctionEventInvokeConfig(ctx, in); err != nil {
		return apiError("PutFunctionEventInvokeConfig "+name, err)
	}
	return nil
}

// destinationARN turns a destination naming a function of this service into
// that function's ARN, in the region and account of fnARN (the function the
// destination belongs to). ARNs pass through.
func (p *Provider) destinationARN(target, fnARN string) string {
	f, ok := p.svc.Function(target)
	if !ok || strings.HasPrefix(target, "arn:") {
		return target
	}
	parts := strings.SplitN(fnARN, ":", 7) // arn:partition:lambda:region:account:function:name
	if len(parts) < 7 {
		return target
	}
	return strings.Join(parts[:6], ":") + ":" + f.DeployedName
}

// Remove deletes the function.
func (p *Provider) Remove(ctx context.Context, fn string) error {
	p.forget(fn)
	if _, err := p.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)}); err != nil {
		return apiError("DeleteFunction "+fn, err)
	}
	return nil
}

// durableQualifier is what a durable function is invoked as when no
// qualifier is given. Lambda refuses an unqualified invoke of a durable
// function ("You cannot invoke a durable function using an unqualified
// ARN"); its developer guide (Invoking durable Lambda functions) accepts a
// version, an alias or $LATEST, and recommends a published version or an
// alias for production. asyncfn deploys $LATEST, so it invokes $LATEST;
// invoke --qualifier names another.
const durableQualifier = "$LATEST"

// Invoke calls Lambda's Invoke: Event for async (202 and a request id),
// RequestResponse otherwise. A durable function is invoked qualified.
func (p *Provider) Invoke(ctx context.Context, fn string, payload []byte, opts adapters.InvokeOptions) (adapters.Invocation, error) {
	in := &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload, InvocationType: types.InvocationTypeRequestResponse}
	if opts.Qualifier != "" {
		in.Qualifier = aws.String(opts.Qualifier)
	} else if info, err := p.function(ctx, fn); err == nil && info.durable {
		in.Qualifier = aws.String(durableQualifier)
	} else if err != nil && !isNotFound(err) {
		return adapters.Invocation{}, err
	}
	if opts.Async {
		in.InvocationType = types.InvocationTypeEvent
		if opts.DurableName != "" {
			in.DurableExecutionName = aws.String(opts.DurableName)
		}
	} else if opts.LogTail {
		in.LogType = types.LogTypeTail
	}
	out, err := p.lambda.Invoke(ctx, in)
	if err != nil {
		return adapters.Invocation{}, apiError("Invoke "+fn, err)
	}
	inv := adapters.Invocation{ExecutionARN: aws.ToString(out.DurableExecutionArn)}
	inv.RequestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if inv.ExecutionARN != "" {
		p.remember(inv.ExecutionARN, inv.RequestID)
	}
	if opts.Async {
		inv.Status = event.Queued
		return inv, nil
	}
	if out.LogResult != nil {
		if raw, err := base64.StdEncoding.DecodeString(*out.LogResult); err == nil {
			inv.Log = string(raw)
		}
	}
	if out.FunctionError != nil {
		var body struct {
			ErrorType    string `json:"errorType"`
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.Unmarshal(out.Payload, &body)
		if body.ErrorType == "" {
			body.ErrorType = aws.ToString(out.FunctionError)
		}
		if body.ErrorMessage == "" {
			body.ErrorMessage = string(out.Payload)
		}
		inv.Status = event.Failed
		if strings.Contains(body.ErrorMessage, "Task timed out") {
			inv.Status = event.TimedOut
		}
		inv.Error = &adapters.FunctionError{Type: body.ErrorType, Message: body.ErrorMessage}
		return inv, nil
	}
	inv.Status = event.Succeeded
	inv.Result, inv.ResultText = adapters.SplitResult(out.Payload)
	return inv, nil
}

// remember keeps an execution's ARN under its id, its name and any other
// key given (the request id of the invoke that started it).
func (p *Provider) remember(arn string, keys ...string) {
	name, id, ok := executionNameAndID(arn)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range append(keys, name, id) {
		if k != "" {
			p.arns[k] = arn
		}
	}
}

// executionNameAndID returns the name and the id at the end of an execution
// ARN (Lambda API reference, Execution: DurableExecutionArn
// arn:...:function:<name>:<qualifier>/durable-execution/<name>/<id>).
func executionNameAndID(arn string) (name, id string, ok bool) {
	_, tail, found := strings.Cut(arn, "/durable-execution/")
	if !found {
		return "", "", false
	}
	name, id, found = strings.Cut(tail, "/")
	if !found || name == "" || id == "" {
		return "", "", false
	}
	return name, id, true
}

// executionARN finds the ARN of fn's durable execution that id names: an
// ARN itself, or an execution id, execution name or invoke request id this
// provider has seen, or failing that one Lambda lists — by name first (one
// call), then among all of fn's executions by id. Lambda matches the whole
// ARN (qualifier and name included), so it is never rebuilt from an id.
func (p *Provider) executionARN(ctx context.Context, fn, id string) (string, error) {
	if strings.HasPrefix(id, "arn:") {
		return id, nil
	}
	p.mu.Lock()
	arn, ok := p.arns[id]
	p.mu.Unlock()
	if ok {
		return arn, nil
	}
	byName, err := p.lambda.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String(fn), DurableExecutionName: aws.String(id)})
	if err != nil {
		return "", apiError("ListDurableExecutionsByFunction "+fn, err)
	}
	for _, x := range byName.DurableExecutions {
		p.remember(aws.ToString(x.DurableExecutionArn))
	}
	if len(byName.DurableExecutions) == 0 {
		// executions remembers every ARN it lists.
		if _, err := p.executions(ctx, fn, adapters.EventQuery{}); err != nil {
			return "", err
		}
	}
	p.mu.Lock()
	arn, ok = p.arns[id]
	p.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%w: no durable execution %s of %s", adapters.ErrNotFound, id, fn)
	}
	return arn, nil
}

// requestIDOf returns the execution id at the end of an execution ARN.
func requestIDOf(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func durableStatus(s types.ExecutionStatus) event.Status {
	switch s {
	case types.ExecutionStatusSucceeded:
		return event.Succeeded
	case types.ExecutionStatusFailed:
		return event.Failed
	case types.ExecutionStatusTimedOut:
		return event.TimedOut
	case types.ExecutionStatusStopped:
		return event.Terminated
	}
	return event.Running
}

func toDurableStatuses(sts []event.Status) []types.ExecutionStatus {
	seen := map[string]bool{}
	var out []types.ExecutionStatus
	for _, s := range sts {
		d := s.Durable()
		if !seen[d] {
			seen[d] = true
			out = append(out, types.ExecutionStatus(d))
		}
	}
	return out
}

// executions lists every durable execution of fn that matches q (all
// pages), oldest first or, with q.Desc, newest first. The order is made
// here: Lambda's ReverseOrder is documented both ways (API reference:
// "Set to true to return results in reverse chronological order"; elsewhere
// the default is given as newest first), and every page is read anyway.
func (p *Provider) executions(ctx context.Context, fn string, q adapters.EventQuery) ([]types.Execution, error) {
	in := &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String(fn), Statuses: toDurableStatuses(q.Statuses), MaxItems: 1000}
	if !q.Since.IsZero() {
		in.StartedAfter = aws.Time(q.Since)
	}
	if !q.Until.IsZero() {
		in.StartedBefore = aws.Time(q.Until)
	}
	var all []types.Execution
	pages := lambda.NewListDurableExecutionsByFunctionPaginator(p.lambda, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, apiError("ListDurableExecutionsByFunction "+fn, err)
		}
		all = append(all, page.DurableExecutions...)
	}
	for _, x := range all {
		p.remember(aws.ToString(x.DurableExecutionArn))
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := aws.ToTime(all[i].StartTimestamp), aws.ToTime(all[j].StartTimestamp)
		if q.Desc {
			return a.After(b)
		}
		return a.Before(b)
	})
	return all, nil
}

func executionEvent(fn string, x types.Execution) adapters.Event {
	ev := adapters.Event{RequestID: requestIDOf(aws.ToString(x.DurableExecutionArn)), Function: fn, InvokeType: event.InvokeEvent,
		Status: durableStatus(x.Status), CreatedAt: aws.ToTime(x.StartTimestamp)}
	if x.EndTimestamp != nil {
		t := *x.EndTimestamp
		ev.EndedAt = &t
	}
	return ev
}

// Events lists fn's async events: its durable executions, or what its
// CloudWatch log lines tell when it is not durable.
func (p *Provider) Events(ctx context.Context, fn string, q adapters.EventQuery) (adapters.EventPage, error) {
	info, err := p.function(ctx, fn)
	if err != nil {
		return adapters.EventPage{}, err
	}
	var evs []adapters.Event
	if info.durable {
		xs, err := p.executions(ctx, fn, q)
		if err != nil {
			return adapters.EventPage{}, err
		}
		for _, x := range xs {
			evs = append(evs, executionEvent(fn, x))
		}
	} else {
		if evs, err = p.logEvents(ctx, fn, info, q); err != nil {
			return adapters.EventPage{}, err
		}
	}
	page := adapters.EventPage{Total: len(evs), Events: []adapters.Event{}}
	if q.Offset < len(evs) {
		evs = evs[q.Offset:]
		if q.Limit > 0 && len(evs) > q.Limit {
			evs = evs[:q.Limit]
		}
		page.Events = evs
		if info.durable {
			if err := p.withReports(ctx, fn, page.Events); err != nil {
				return adapters.EventPage{}, err
			}
		}
	}
	return page, nil
}

// withReports completes durable executions with what their log lines tell,
// as Event does: the attempts and the first one's start (START lines), the
// duration and peak memory of the last attempt (REPORT) — the event's
// duration, as package event defines it. The lines are read once for all
// events, START and REPORT lines only, from the first event's creation on.
func (p *Provider) withReports(ctx context.Context, fn string, evs []adapters.Event) error {
	if len(evs) == 0 {
		return nil
	}
	since := evs[0].CreatedAt
	for _, ev := range evs {
		if ev.CreatedAt.Before(since) {
			since = ev.CreatedAt
		}
	}
	var lines []adapters.LogLine
	for _, pattern := range []string{`"START RequestId:"`, `"REPORT RequestId:"`} {
		ls, err := p.filterAll(ctx, fn, pattern, since.Add(-time.Second))
		if err != nil {
			return err
		}
		lines = append(lines, ls...)
	}
	// One time line; an attempt's START and REPORT in the same millisecond
	// stay in that order (stable, STARTs first).
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	t := newTracker(fn)
	for _, l := range lines {
		t.add(l)
	}
	for i := range evs {
		if e := t.events[evs[i].RequestID]; e != nil {
			fromLog(&evs[i], e)
		}
	}
	return nil
}

// fromLog copies what an event's log lines tell of its attempts onto a
// durable execution.
func fromLog(ev *adapters.Event, e *tracked) {
	ev.Attempts, ev.StartedAt, ev.DurationMs, ev.MaxMemoryMB = e.Attempts, e.StartedAt, e.DurationMs, e.MaxMemoryMB
}

// Event returns one event. For a durable function its execution is
// completed with what the log lines tell: attempts (START lines), the start
// of the first attempt, and the duration and memory of the last (REPORT).
func (p *Provider) Event(ctx context.Context, fn, requestID string) (adapters.Event, error) {
	info, err := p.function(ctx, fn)
	if err != nil {
		return adapters.Event{}, err
	}
	if !info.durable {
		return p.logEvent(ctx, fn, info, requestID)
	}
	arn, err := p.executionARN(ctx, fn, requestID)
	if err != nil {
		return adapters.Event{}, err
	}
	out, err := p.lambda.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn),
		IncludeExecutionData: aws.Bool(true)})
	if err != nil {
		return adapters.Event{}, apiError("GetDurableExecution "+requestID, err)
	}
	ev := executionEvent(fn, types.Execution{DurableExecutionArn: out.DurableExecutionArn, Status: out.Status,
		StartTimestamp: out.StartTimestamp, EndTimestamp: out.EndTimestamp})
	if out.Result != nil {
		ev.Result, ev.ResultText = adapters.SplitResult([]byte(*out.Result))
	}
	if e := out.Error; e != nil {
		ev.ErrorType, ev.ErrorMessage = aws.ToString(e.ErrorType), aws.ToString(e.ErrorMessage)
	}
	since := ev.CreatedAt.Add(-time.Second)
	lines, err := p.filterAll(ctx, fn, quote(ev.RequestID), since)
	if err != nil {
		return ev, err
	}
	t := newTracker(fn)
	for _, l := range lines {
		t.add(l)
	}
	if e := t.events[ev.RequestID]; e != nil {
		fromLog(&ev, e)
	}
	if ev.Status == event.Running && ev.Attempts == 0 {
		ev.Status = event.Queued // accepted, no attempt has started yet
	}
	return ev, nil
}

// Terminate stops a durable execution. Lambda has no API to stop a plain
// async invoke, so for a function without durableConfig it says so.
func (p *Provider) Terminate(ctx context.Context, fn, requestID string, grace time.Duration) error {
	info, err := p.function(ctx, fn)
	if err != nil {
		return err
	}
	if !info.durable {
		return &adapters.UnsupportedError{Provider: "aws", Op: "terminate",
			Reason:      "Lambda offers no API to stop an asynchronous invocation of a plain function; it runs until it returns or times out",
			Alternative: "declare durableConfig on the function: its async invocations become durable executions, which StopDurableExecution stops"}
	}
	stop := &types.ErrorObject{ErrorType: aws.String("Terminated"), ErrorMessage: aws.String("stopped by asyncfn events terminate")}
	if grace > 0 {
		// StopDurableExecution has no grace period. The emulator reads this
		// key (SIGTERM first, SIGKILL after grace); Lambda keeps it as data.
		stop.ErrorData = aws.String(fmt.Sprintf(`{"asyncfnGraceMs":%d}`, grace.Milliseconds()))
	}
	arn, err := p.executionARN(ctx, fn, requestID)
	if err != nil {
		return err
	}
	if _, err := p.lambda.StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn),
		Error: stop}); err != nil {
		return apiError("StopDurableExecution "+requestID, err)
	}
	return nil
}

// Stats counts fn's events per status and summarises their durations
// (adapters.StatsOf) from the same list as Events: the duration of an
// event's last attempt, from its REPORT line.
func (p *Provider) Stats(ctx context.Context, fn string, q adapters.EventQuery) (adapters.Stats, error) {
	q.Offset, q.Limit = 0, 0
	page, err := p.Events(ctx, fn, q)
	if err != nil {
		return adapters.Stats{}, err
	}
	return adapters.StatsOf(fn, page.Total, page.Events), nil
}

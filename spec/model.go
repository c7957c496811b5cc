package spec

// Service is a serverless.yml after loading, variable resolution and
// validation: the provider-neutral model every command works from.
type Service struct {
	Name     string // service: (framework form) or name: (component form)
	Stage    string // ${sls:stage}: --stage, provider.stage, or "dev"
	Region   string // --region, provider.region (inputs.region), or the provider default
	Provider Provider
	Dir      string // absolute directory that holds the file; relative paths resolve here
	File     string // absolute path of the file that was loaded
	Package  Package
	// Layers are the top-level layers: the service publishes, in file order.
	Layers []Layer
	// Functions in the order the file declares them.
	Functions []Function
}

// Provider is the provider: block (or what the component form implies).
type Provider struct {
	Name        string // "aws" or "tencent"
	Runtime     string // provider-level default runtime, as written
	Credentials string // provider.credentials (tencent): path of a credentials file
	Role        string // provider.iam.role when it is a string, else provider.role
	Profile     string // provider.profile (aws)
	// DeploymentBucket is where packages too big to send inline go:
	// provider.deploymentBucket (a name or {name: ...}, the Framework's
	// key), for tencent also provider.cosBucket. "" = the bucket asyncfn
	// creates per account and region.
	DeploymentBucket string
}

// Package says which files of the service directory make up a function's code.
type Package struct {
	// Patterns are gitignore-like globs applied in order; a leading "!" excludes.
	// include/exclude of older files are folded in (exclude as "!pattern").
	Patterns     []string
	Individually bool
	Artifact     string // a prebuilt zip, relative to Dir; empty when built from patterns
	// Src is the directory (relative to Dir) the code is taken from; "" means Dir.
	// Component form: inputs.src or inputs.src.src.
	Src string
}

// Function is one function with the provider-level settings already folded in.
type Function struct {
	Name         string // key under functions:
	DeployedName string // name: if given, else <service>-<stage>-<name> (component form: inputs.name)
	Handler      string // e.g. "index.main_handler", "src/handler.hello"
	Runtime      string // as written, e.g. "Nodejs16.13", "python3.11", "provided.al2"
	MemorySize   int    // MB
	Timeout      int    // seconds
	Environment  map[string]string
	Description  string
	Package      Package // the function's own patterns merged after the service's
	// ReservedConcurrency caps concurrent instances; nil means the default.
	ReservedConcurrency *int
	Async               Async
	// Layers the function runs with, in order (at most MaxLayers); for aws
	// provider.layers when the function gives none.
	Layers []LayerUse
}

// Async holds the asynchronous-execution settings of a function, in the
// clouds' own terms (see the field comments for the source keys).
type Async struct {
	Enabled bool // Tencent asyncRunEnable
	Trace   bool // Tencent traceEnable
	// TraceSet: traceEnable was given; without it, Tracking is Enabled.
	TraceSet bool
	// RetryAttempts: AWS maximumRetryAttempts (0-2), Tencent retryNum; nil = provider default.
	RetryAttempts *int
	// MaxEventAge in seconds: AWS maximumEventAge (60-21600), Tencent msgTTL; 0 = provider default.
	MaxEventAge int
	OnSuccess   string // destinations.onSuccess: a function name of this service or an ARN
	OnFailure   string // destinations.onFailure
	Durable     *Durable
}

// Durable is AWS durableConfig.
type Durable struct {
	ExecutionTimeout      int // seconds
	RetentionPeriodInDays int
}

// Function returns the function declared under name.
func (s *Service) Function(name string) (*Function, bool) {
	for i := range s.Functions {
		if s.Functions[i].Name == name {
			return &s.Functions[i], true
		}
	}
	return nil, false
}

// FunctionNames lists the declared function names in file order.
func (s *Service) FunctionNames() []string {
	names := make([]string, len(s.Functions))
	for i, f := range s.Functions {
		names[i] = f.Name
	}
	return names
}

// Tracking is whether an SCF function has event tracking (TraceEnable):
// traceEnable when given, else asyncRunEnable. SCF keeps async events (for
// ListAsyncEvents, GetAsyncEventStatus, TerminateAsyncEvent) only for
// functions with tracking on.
func (a Async) Tracking() bool {
	if a.TraceSet {
		return a.Trace
	}
	return a.Enabled
}

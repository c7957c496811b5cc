package localemu

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// FunctionConfig is a function's configuration as the emulator keeps it: the
// deploy request body of the native API and the opaque Config of the store.
type FunctionConfig struct {
	Name                string            `json:"name"`     // deployed name
	Provider            string            `json:"provider"` // "aws" or "tencent": picks limits and defaults
	Runtime             string            `json:"runtime"`
	Handler             string            `json:"handler"`
	MemorySize          int               `json:"memorySize"` // MB
	Timeout             int               `json:"timeout"`    // seconds
	Environment         map[string]string `json:"environment,omitempty"`
	Description         string            `json:"description,omitempty"`
	Region              string            `json:"region,omitempty"`
	ReservedConcurrency *int              `json:"reservedConcurrency,omitempty"`
	Async               AsyncConfig       `json:"async"`
}

// AsyncConfig is the asynchronous-invocation policy of a function.
type AsyncConfig struct {
	Enabled       bool   `json:"enabled,omitempty"` // Tencent asyncRunEnable
	Trace         bool   `json:"trace,omitempty"`
	RetryAttempts *int   `json:"retryAttempts,omitempty"` // nil = provider default
	MaxEventAge   int    `json:"maxEventAge,omitempty"`   // seconds; 0 = provider default
	OnSuccess     string `json:"onSuccess,omitempty"`
	OnFailure     string `json:"onFailure,omitempty"`
	Durable       *struct {
		ExecutionTimeout      int `json:"executionTimeout,omitempty"`
		RetentionPeriodInDays int `json:"retentionPeriodInDays,omitempty"`
	} `json:"durable,omitempty"`
}

// Limits of the clouds the emulator reproduces.
const (
	MaxSyncPayload        = 6 << 20   // Lambda and SCF synchronous invoke
	MaxLambdaAsyncPayload = 1 << 20   // Lambda asynchronous invoke (since 2025: 1 MB)
	MaxSCFAsyncPayload    = 128 << 10 // SCF asynchronous invoke
	defaultRetryAttempts  = 2         // Lambda MaximumRetryAttempts default; SCF default retry is 2 as well
	defaultMaxEventAge    = 6 * time.Hour
	MaxAsyncTimeout       = 86400 // seconds: SCF async mode
	MaxSyncTimeout        = 900   // seconds
	// MaxDeployBody bounds a deploy request (a base64 zip): 350 MB of body.
	MaxDeployBody = 350 << 20
)

// Validate checks a configuration the way the clouds would before accepting it.
func (c *FunctionConfig) Validate() error {
	var problems []string
	if c.Name == "" {
		problems = append(problems, "name is required")
	}
	switch c.Provider {
	case "aws", "tencent":
	case "":
		c.Provider = "aws"
	default:
		problems = append(problems, fmt.Sprintf("provider %q is not aws or tencent", c.Provider))
	}
	if c.Runtime == "" {
		problems = append(problems, "runtime is required")
	}
	if c.Handler == "" {
		problems = append(problems, "handler is required")
	}
	if c.MemorySize == 0 {
		c.MemorySize = 128
	}
	if c.Timeout == 0 {
		c.Timeout = 3
	}
	limit := MaxSyncTimeout
	if c.Provider == "tencent" && c.Async.Enabled {
		limit = MaxAsyncTimeout
	}
	if c.Timeout < 1 || c.Timeout > limit {
		problems = append(problems, fmt.Sprintf("timeout %d is outside 1-%d", c.Timeout, limit))
	}
	if c.MemorySize < 64 || c.MemorySize > 10240 {
		problems = append(problems, fmt.Sprintf("memorySize %d is outside 64-10240", c.MemorySize))
	}
	if c.ReservedConcurrency != nil && *c.ReservedConcurrency < 0 {
		problems = append(problems, "reservedConcurrency must not be negative")
	}
	if len(problems) > 0 {
		return &InvalidParameterError{Msg: strings.Join(problems, "; ")}
	}
	return nil
}

func (c *FunctionConfig) RetryAttempts() int {
	if c.Async.RetryAttempts != nil {
		return *c.Async.RetryAttempts
	}
	return defaultRetryAttempts
}

func (c *FunctionConfig) MaxEventAge() time.Duration {
	if c.Async.MaxEventAge > 0 {
		return time.Duration(c.Async.MaxEventAge) * time.Second
	}
	return defaultMaxEventAge
}

func (c *FunctionConfig) AsyncPayloadLimit() int {
	if c.Provider == "tencent" {
		return MaxSCFAsyncPayload
	}
	return MaxLambdaAsyncPayload
}

func DecodeConfig(raw json.RawMessage) (*FunctionConfig, error) {
	var c FunctionConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode function configuration: %w", err)
	}
	return &c, nil
}

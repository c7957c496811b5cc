package localemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// FunctionConfig is a function's configuration as the emulator keeps it: the
// deploy request body of the native API and the opaque Config of the store.
type FunctionConfig = nativeapi.FunctionConfig

// AsyncConfig is the asynchronous-invocation policy of a function.
type AsyncConfig = nativeapi.AsyncConfig

// MaxDeployBody bounds a deploy request (a base64 zip): 350 MB of body.
const MaxDeployBody = 350 << 20

// Function names as the clouds accept them. Lambda: 1-64 letters, digits,
// hyphens and underscores (Lambda API reference, CreateFunction:
// FunctionName). SCF: 2-60 of the same, starting with a letter and ending
// with a letter or digit (SCF API, CreateFunction: FunctionName). Names never
// reach a path in the emulator, but they must not be accepted locally where
// the cloud refuses them.
var (
	lambdaFunctionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	scfFunctionName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
)

// CheckFunctionName says why a name is not one the provider accepts, or "".
func CheckFunctionName(p cloud.Provider, name string) string {
	if p == cloud.Tencent {
		if !scfFunctionName.MatchString(name) {
			return fmt.Sprintf("name %.80q is not a valid SCF function name (2-60 letters, digits, - and _, starting with a letter, ending with a letter or digit)", name)
		}
		return ""
	}
	if !lambdaFunctionName.MatchString(name) {
		return fmt.Sprintf("name %.80q is not a valid Lambda function name (1-64 letters, digits, - and _)", name)
	}
	return ""
}

// validateConfig checks a configuration the way the clouds would before accepting it.
func validateConfig(c *FunctionConfig) error {
	var problems []string
	switch {
	case c.Provider.Known():
	case c.Provider == "":
		c.Provider = cloud.AWS
	default:
		problems = append(problems, fmt.Sprintf("provider %q is not aws or tencent", c.Provider))
	}
	if c.Name == "" {
		problems = append(problems, "name is required")
	} else if msg := CheckFunctionName(c.Provider, c.Name); msg != "" {
		problems = append(problems, msg)
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
	limit := nativeapi.MaxSyncTimeout
	if c.Provider == cloud.Tencent && c.Async.Enabled {
		limit = nativeapi.MaxAsyncTimeout
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

// DecodeConfig reads a configuration as the store keeps it.
func DecodeConfig(raw json.RawMessage) (*FunctionConfig, error) {
	var c FunctionConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode function configuration: %w", err)
	}
	return &c, nil
}

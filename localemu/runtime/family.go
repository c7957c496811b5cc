package runtime

import (
	"fmt"
	"strings"
)

// Runtime families: how an instance's process is started.
const (
	FamilyNode     = "node"     // embedded Node.js bootstrap, handler "path/file.func"
	FamilyPython   = "python"   // embedded Python bootstrap, handler "path/file.func" or "pkg.mod.func"
	FamilyProvided = "provided" // executable "bootstrap" in the code directory (Lambda Runtime API)
	FamilyGo       = "go"       // executable named by the handler (Lambda Runtime API, aws-lambda-go)
	FamilyCustom   = "custom"   // "scf_bootstrap" in the code directory (SCF Custom Runtime API)
)

// supportedRuntimes is quoted in the error for an unknown runtime.
const supportedRuntimes = "nodejs* (nodejs18.x, Nodejs16.13, ...), python3* (python3.11, Python3.9, ...), " +
	"provided, provided.al2, provided.al2023, Go1 (go1.x), CustomRuntime"

// Family maps a runtime name as written in serverless.yml, case-insensitively,
// to the family that runs it: "node", "python", "provided", "go" or "custom".
//
//   - nodejs*, Nodejs* → node: the embedded Node.js bootstrap on the host's node;
//   - python3*, Python3* → python: the embedded Python bootstrap on the host's python3
//     (Python 2 runtimes are refused: the bootstrap needs Python 3);
//   - provided, provided.al2, provided.al2023 → provided: CodeDir/bootstrap;
//   - Go1, go1.x → go: the executable CodeDir/<Handler>, which must speak the Lambda
//     Runtime API — a program built with github.com/aws/aws-lambda-go/lambda.Start
//     does (SCF's own Go1 runtime uses a different protocol, scf-go-lib, which is
//     not emulated);
//   - CustomRuntime → custom: CodeDir/scf_bootstrap speaking the SCF Custom Runtime API.
func Family(runtime string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(runtime))
	switch {
	case strings.HasPrefix(r, "nodejs"):
		return FamilyNode, nil
	case strings.HasPrefix(r, "python2"):
		return "", fmt.Errorf("runtime %q is not supported: the emulator runs Python handlers on Python 3 (supported: %s)", runtime, supportedRuntimes)
	case strings.HasPrefix(r, "python"):
		return FamilyPython, nil
	case r == "provided" || r == "provided.al2" || r == "provided.al2023":
		return FamilyProvided, nil
	case r == "go1" || r == "go1.x":
		return FamilyGo, nil
	case r == "customruntime":
		return FamilyCustom, nil
	}
	return "", fmt.Errorf("runtime %q is not supported by the local emulator (supported: %s)", runtime, supportedRuntimes)
}

package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Provider limits and defaults. Sources: the Framework's AWS schema and
// defaults (lib/plugins/aws/provider.js), the Lambda API, and the SCF API 3.0
// (CreateFunction: memory 64 or 128-3072 MB in steps of 128, timeout 1-900 s
// or up to 86400 s in async run mode; the SCF component defaults).
const (
	awsDefaultRegion     = "us-east-1"
	awsDefaultMemory     = 1024
	awsDefaultTimeout    = 6
	awsDefaultRuntime    = "nodejs16.x" // the Framework v3 default
	awsMaxTimeout        = 900
	awsMinMemory         = 128
	awsMaxMemory         = 10240
	awsMaxRetries        = 2
	awsMinEventAge       = 60
	awsMaxEventAge       = 21600
	awsMaxNameLen        = 64
	awsMaxDurableTimeout = 31622400 // one year, the durable execution limit
	awsMaxRetentionDays  = 90

	scfDefaultRegion   = "ap-guangzhou"
	scfDefaultMemory   = 128
	scfDefaultTimeout  = 3
	scfDefaultRuntime  = "Nodejs10.15" // the SCF component default
	scfMaxTimeout      = 900
	scfMaxAsyncTimeout = 86400
	scfMaxMemory       = 3072
	scfMaxRetries      = 2
	scfMinMsgTTL       = 60
	scfMaxMsgTTL       = 21600
)

var (
	// The Framework's schema patterns.
	serviceNameRE  = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z-]+$`)
	functionKeyRE  = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	envNameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	lambdaNameRE   = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	scfNameRE      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	awsRuntimeRE   = regexp.MustCompile(`(?i)^(nodejs\d+\.x|python\d\.\d+|java\d+(\.al2)?|go1\.x|provided(\.al2|\.al2023)?|dotnet(core)?\d+(\.\d+)?|ruby\d\.\d+)$`)
	scfRuntimeRE   = regexp.MustCompile(`(?i)^(nodejs\d+\.\d+|python\d\.\d+|go1|java\d+|php\d(\.\d+)?|customruntime)$`)
	componentTypes = regexp.MustCompile(`^(scf|@serverless/tencent-scf)(@.*)?$`)
)

// keyRule says what asyncfn does with a key: acts on it, keeps it silently
// (custom data, Framework settings), or warns that it is not acted on.
type keyRule int

const (
	keyActed keyRule = iota + 1
	keySilent
	keyIgnored
)

func rules(acted, silent, ignored string) map[string]keyRule {
	m := map[string]keyRule{}
	for _, k := range strings.Fields(acted) {
		m[k] = keyActed
	}
	for _, k := range strings.Fields(silent) {
		m[k] = keySilent
	}
	for _, k := range strings.Fields(ignored) {
		m[k] = keyIgnored
	}
	return m
}

var (
	frameworkTopKeys = rules("service provider functions package layers",
		"custom params frameworkVersion configValidationMode useDotenv variablesResolutionMode disabledDeprecations deprecationNotificationMode app org console dashboard unresolvedVariablesNotificationMode",
		"plugins resources outputs")
	awsProviderKeys = rules("name runtime stage region memorySize timeout environment iam role profile deploymentBucket layers",
		"versionFunctions",
		"lambdaHashingVersion apiGateway httpApi websocketApiName deploymentPrefix deploymentMethod tags stackTags stackName logRetentionInDays logs tracing vpc architecture kmsKeyArn iamRoleStatements iamManagedPolicies cfnRole rolePermissionsBoundary alb cloudFront ecr eventBridge s3 stackPolicy notificationArns disableRollback endpointType")
	tencentProviderKeys = rules("name runtime stage region memorySize timeout environment credentials role deploymentBucket cosBucket", "",
		"namespace vpcConfig")
	awsFunctionKeys = rules("handler name runtime memorySize timeout environment description package reservedConcurrency maximumRetryAttempts maximumEventAge destinations durableConfig events layers", "",
		"role vpc tags tracing architecture provisionedConcurrency onError url image ephemeralStorageSize fileSystemConfig kmsKeyArn snapStart logRetentionInDays disableLogs condition dependsOn")
	tencentFunctionKeys = rules("handler name runtime memorySize timeout environment description package reservedConcurrency asyncRunEnable traceEnable retryNum msgTTL events layers", "",
		"role vpcConfig namespace")
	packageKeys        = rules("patterns include exclude individually artifact", "artifactsS3KeyDirname", "")
	componentTopKeys   = rules("component name inputs", "app org stage", "")
	componentInputKeys = rules("src handler runtime region memorySize timeout asyncRunEnable traceEnable msgTTL retryNum environment name description events", "",
		"type namespace role layers vpcConfig cls eip publicAccess tags installDependency initTimeout cfs deadLetter image")
)

// checkKeys warns about keys of m that asyncfn does not act on.
func (b *builder) checkKeys(m *value, path string, known map[string]keyRule) {
	for i, k := range m.keys {
		switch known[k] {
		case keyActed, keySilent:
		case keyIgnored:
			b.warnf(m.items[i], joinPath(path, k), "not acted on by asyncfn (kept as written)")
		default:
			b.unknownf(m.items[i], joinPath(path, k), "unknown key, not acted on by asyncfn")
		}
	}
}

// severity says how far a problem found by the builder reaches. The
// Framework's `serverless print` prints a file whose settings break its
// schema (configValidationMode defaults to warn), so only what it refuses
// too stops print; what asyncfn cannot deploy through the API stops
// validate and deploy.
type severity int

const (
	// sevFatal: the Framework refuses the file too (serverless print fails):
	// an error for every command.
	sevFatal severity = iota + 1
	// sevDeploy: the Framework prints the file, under any
	// configValidationMode, but asyncfn cannot deploy it: an error for Load
	// (validate, deploy), a warning for LoadForPrint.
	sevDeploy
	// sevSchema: as sevDeploy, and the Framework's AWS schema objects too,
	// so that under configValidationMode: error print refuses it as well
	// (for an aws service: other providers have no schema).
	sevSchema
	// sevNote: something asyncfn does not act on (a key kept as written):
	// a warning, or an error, as configValidationMode says.
	sevNote
	// sevNoteSchema: as sevNote, for something the Framework's AWS schema
	// does not know either (an unknown key, runtime).
	sevNoteSchema
)

// finding is one problem the builder found.
type finding struct {
	err *Error
	sev severity
}

func (b *builder) add(sev severity, v *value, path, format string, args ...any) {
	line, col := 0, 0
	if v != nil {
		line, col = v.line, v.col
	}
	b.found = append(b.found, finding{&Error{File: b.file, Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, args...)}, sev})
}

// fatalf reports a problem the Framework refuses too.
func (b *builder) fatalf(v *value, path, format string, args ...any) {
	b.add(sevFatal, v, path, format, args...)
}

// deployf reports what asyncfn cannot deploy though the Framework prints it.
func (b *builder) deployf(v *value, path, format string, args ...any) {
	b.add(sevDeploy, v, path, format, args...)
}

// schemaf is deployf for what the Framework's AWS schema also objects to.
func (b *builder) schemaf(v *value, path, format string, args ...any) {
	b.add(sevSchema, v, path, format, args...)
}

// warnf reports a problem asyncfn does not act on, as configValidationMode says.
func (b *builder) warnf(v *value, path, format string, args ...any) {
	b.add(sevNote, v, path, format, args...)
}

// unknownf is warnf for what the Framework's AWS schema does not know either.
func (b *builder) unknownf(v *value, path, format string, args ...any) {
	b.add(sevNoteSchema, v, path, format, args...)
}

// outcome sorts the findings into errors and warnings: for Load (every
// problem asyncfn cannot deploy is an error), or for LoadForPrint (only
// what the Framework's print refuses too is an error; the rest of what Load
// refuses comes back as deploy, for print to show as warnings).
func (b *builder) outcome(forPrint bool) (errs, warns, deploy []*Error) {
	schema := b.provider == "aws" // the Framework validates aws services only
	for _, f := range b.found {
		switch f.sev {
		case sevFatal:
			errs = append(errs, f.err)
		case sevDeploy, sevSchema:
			switch {
			case !forPrint, f.sev == sevSchema && schema && b.mode == "error":
				errs = append(errs, f.err)
			default:
				deploy = append(deploy, f.err)
			}
		case sevNote, sevNoteSchema:
			switch {
			case b.mode == "off":
			case b.mode == "error" && (!forPrint || f.sev == sevNoteSchema && schema):
				errs = append(errs, f.err)
			default:
				warns = append(warns, f.err)
			}
		}
	}
	return sortErrors(errs), sortErrors(warns), sortErrors(deploy)
}

// str reads an optional string; numbers and booleans are refused, since a
// handler or name that YAML typed otherwise is a mistake worth showing.
func (b *builder) str(v *value, path string) (string, bool) {
	if v.isNull() {
		return "", false
	}
	switch v.kind {
	case kindString:
		return v.str, true
	case kindNumber, kindBool: // the Framework's schema coerces these to strings
		b.deployf(v, path, "must be a string, not %s", describe(v))
	default:
		b.schemaf(v, path, "must be a string, not %s", describe(v))
	}
	return "", false
}

// integer reads an optional whole number. Like the Framework (whose schema
// validator coerces types), a string of digits such as "256" is accepted.
func (b *builder) integer(v *value, path string) (int, bool) {
	if v.isNull() {
		return 0, false
	}
	f, ok := 0.0, false
	switch v.kind {
	case kindNumber:
		f, ok = v.num, true
	case kindString:
		f, ok = jsToNumber(v.str)
		ok = ok && strings.TrimSpace(v.str) != ""
	}
	if !ok || f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<31 {
		b.schemaf(v, path, "must be a whole number, not %s", quoteValue(v))
		return 0, false
	}
	return int(f), true
}

// boolean reads an optional flag; SCF's own "TRUE"/"FALSE" strings (any case) are accepted.
func (b *builder) boolean(v *value, path string) (bool, bool) {
	if v.isNull() {
		return false, false
	}
	switch v.kind {
	case kindBool:
		return v.b, true
	case kindString:
		switch strings.ToLower(strings.TrimSpace(v.str)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	b.schemaf(v, path, "must be true or false, not %s", quoteValue(v))
	return false, false
}

func quoteValue(v *value) string {
	switch v.kind {
	case kindString:
		return strconv.Quote(v.str)
	case kindNumber:
		return jsNumber(v.num)
	case kindBool:
		return strconv.FormatBool(v.b)
	}
	return describe(v)
}

// inRange reports n outside lo..hi; why names the limit.
func (b *builder) inRange(v *value, path string, n, lo, hi int, why string) bool {
	switch {
	case n > hi:
		b.schemaf(v, path, "%d exceeds %d (the maximum %s)", n, hi, why)
	case n < lo:
		b.schemaf(v, path, "%d is below %d (the minimum %s)", n, lo, why)
	default:
		return true
	}
	return false
}

// setting is a value together with where it was written.
type setting struct {
	v    *value
	path string
}

// pick returns the function's own setting, else the provider's.
func pick(fn, provider *value, fnPath, providerPath, key string) setting {
	if v := fn.get(key); !v.isNull() {
		return setting{v, joinPath(fnPath, key)}
	}
	if v := provider.get(key); !v.isNull() {
		return setting{v, joinPath(providerPath, key)}
	}
	return setting{}
}

func (b *builder) checkMemory(provider string, s setting, n int) {
	if provider == "aws" {
		b.inRange(s.v, s.path, n, awsMinMemory, awsMaxMemory, "for AWS Lambda memorySize, in MB")
		return
	}
	if n != 64 && (n < 128 || n > scfMaxMemory || n%128 != 0) {
		b.deployf(s.v, s.path, "%d is not an SCF memory size: 64, or 128 to 3072 in steps of 128 (MB)", n)
	}
}

func (b *builder) checkTimeout(provider string, s setting, n int, async bool) {
	switch {
	case provider == "aws":
		b.inRange(s.v, s.path, n, 1, awsMaxTimeout, "for AWS Lambda, in seconds")
	case async:
		b.inRange(s.v, s.path, n, 1, scfMaxAsyncTimeout, "with asyncRunEnable")
	case n > scfMaxTimeout && n <= scfMaxAsyncTimeout:
		b.deployf(s.v, s.path, "%d exceeds %d (the maximum without asyncRunEnable; set asyncRunEnable: true to run up to %d)", n, scfMaxTimeout, scfMaxAsyncTimeout)
	default:
		b.inRange(s.v, s.path, n, 1, scfMaxTimeout, "without asyncRunEnable")
	}
}

func (b *builder) checkRuntime(provider string, s setting, runtime string) {
	re := awsRuntimeRE
	if provider == "tencent" {
		re = scfRuntimeRE
	}
	if !re.MatchString(runtime) {
		b.unknownf(s.v, s.path, "runtime %q is not one asyncfn knows for %s", runtime, provider)
	}
}

// checkDeployedName validates the cloud's function name rules.
func (b *builder) checkDeployedName(provider string, v *value, path, name string, generated bool) {
	how := ""
	if generated {
		how = " (<service>-<stage>-<function>; set name: to choose another)"
	}
	if provider == "aws" {
		switch {
		case len(name) > awsMaxNameLen:
			b.deployf(v, path, "function name %q%s is %d characters; AWS Lambda allows %d", name, how, len(name), awsMaxNameLen)
		case !lambdaNameRE.MatchString(name):
			b.deployf(v, path, "function name %q%s may only hold letters, digits, - and _", name, how)
		}
		return
	}
	if !scfNameRE.MatchString(name) {
		b.deployf(v, path, "function name %q%s is not an SCF name: 2-60 letters, digits, - and _, starting with a letter and ending with a letter or digit", name, how)
	}
}

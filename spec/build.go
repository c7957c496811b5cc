package spec

import (
	"strconv"
	"strings"
)

// builder turns the resolved document into the Service model, collecting
// errors and warnings as it goes.
type builder struct {
	file     string
	opts     map[string]string
	mode     string // configValidationMode: warn, error or off
	provider string // provider.name as written (aws, tencent, or another)
	found    []finding
}

func (b *builder) build(root *value) *Service {
	b.mode = "warn"
	if v := root.get("configValidationMode"); !v.isNull() {
		switch m, _ := b.str(v, "configValidationMode"); m {
		case "warn", "error", "off":
			b.mode = m
		default:
			b.schemaf(v, "configValidationMode", "%s is not a validation mode (warn, error, off)", quoteValue(v))
		}
	}
	if root.get("component") != nil {
		return b.component(root)
	}
	return b.framework(root)
}

// stageString is the text of a stage or region value.
func stageString(v *value) string {
	if v.isNull() {
		return ""
	}
	s, _ := coerceString(v)
	return s
}

func (b *builder) framework(root *value) *Service {
	svc := &Service{}
	b.checkKeys(root, "", frameworkTopKeys)

	switch sv := root.get("service"); {
	case sv.isNull():
		b.fatalf(root, "service", "service is required (the service name)")
	case sv.kind == kindMap: // older files; Framework v3 wants a string
		svc.Name, _ = b.str(sv.get("name"), "service.name")
		if svc.Name == "" {
			b.fatalf(sv, "service.name", "service.name is required")
		}
		b.checkServiceName(sv.get("name"), "service.name", svc.Name)
	default:
		svc.Name, _ = b.str(sv, "service")
		b.checkServiceName(sv, "service", svc.Name)
	}
	// The name in generated function names: the Framework writes a service
	// name YAML typed as a number or boolean as JavaScript prints it.
	docName := svc.Name
	if sv := root.get("service"); sv.is(kindNumber) || sv.is(kindBool) {
		docName = stageString(sv)
	}

	pv := root.get("provider")
	if pv.isNull() {
		b.fatalf(root, "provider", "provider is required (provider.name: aws or tencent)")
		return svc
	}
	if pv.kind == kindString { // `provider: aws`, as the Framework accepts
		m := newMap(pv.line, pv.col)
		m.set("name", pv)
		root.set("provider", m)
		pv = m
	}
	if pv.kind != kindMap {
		b.fatalf(pv, "provider", "must be a mapping, not %s", describe(pv))
		return svc
	}
	name, _ := b.str(pv.get("name"), "provider.name")
	b.provider = name
	switch name {
	case "aws", "tencent":
	case "":
		b.fatalf(pv, "provider.name", "provider.name is required: aws or tencent")
		return svc
	default:
		// The Framework prints a service of any provider (it only warns
		// that no plugin gives that provider a schema).
		b.deployf(pv.get("name"), "provider.name", "unknown provider %q: asyncfn deploys to aws or tencent", name)
		b.normalize(root, pv, docName, name)
		moveNullsLast(root)
		return svc
	}
	svc.Provider.Name = name
	if name == "aws" {
		b.checkKeys(pv, "provider", awsProviderKeys)
	} else {
		b.checkKeys(pv, "provider", tencentProviderKeys)
	}

	b.normalize(root, pv, docName, name)

	svc.Stage = b.opts["stage"]
	if svc.Stage == "" {
		svc.Stage = stageString(pv.get("stage"))
	}
	svc.Region = b.opts["region"]
	if svc.Region == "" {
		svc.Region = stageString(pv.get("region"))
	}
	if svc.Region == "" {
		svc.Region = map[string]string{"aws": awsDefaultRegion, "tencent": scfDefaultRegion}[name]
	}
	svc.Provider.Runtime, _ = b.str(pv.get("runtime"), "provider.runtime")
	if svc.Provider.Runtime != "" {
		b.checkRuntime(name, setting{pv.get("runtime"), "provider.runtime"}, svc.Provider.Runtime)
	}
	if name == "tencent" {
		svc.Provider.Credentials, _ = b.str(pv.get("credentials"), "provider.credentials")
	} else {
		svc.Provider.Profile, _ = b.str(pv.get("profile"), "provider.profile")
	}
	svc.Provider.Role = b.role(pv)
	svc.Provider.DeploymentBucket = b.deploymentBucket(pv, name)
	svc.Layers = b.layers(root.get("layers"), name)
	for _, k := range []string{"memorySize", "timeout"} {
		b.integer(pv.get(k), "provider."+k) // reported once here, used per function
	}
	providerEnv := b.environment(name, pv.get("environment"), "provider.environment")

	if pk := root.get("package"); !pk.isNull() {
		svc.Package = b.pkg(pk, "package")
	}

	fns := root.get("functions")
	each := func(key string, fv *value, path string) {
		if fv.isNull() {
			return // the Framework drops functions without a body
		}
		svc.Functions = append(svc.Functions, b.function(svc, pv, providerEnv, key, fv, path))
	}
	switch {
	case fns.isNull():
	case fns.kind == kindMap:
		for i, k := range fns.keys {
			each(k, fns.items[i], joinPath("functions", k))
		}
	case fns.kind == kindList: // an item normalize could not merge, reported there
	default:
		b.fatalf(fns, "functions", "must be a mapping of function names to functions, not %s", describe(fns))
	}
	if name == "aws" {
		// After the model is built, so that validate still shows a
		// handler YAML typed as a number as the mistake it likely is.
		coerceAWSStrings(root)
	}
	moveNullsLast(root)
	return svc
}

// moveNullsLast moves every null-valued key to the end of its mapping, as
// the Framework's schema validation leaves them (for any provider): it
// deletes them before validating (an AJV workaround) and sets them again
// after.
func moveNullsLast(v *value) {
	switch v.kind {
	case kindMap:
		var keys, nullKeys []string
		var items, nulls []*value
		for i, it := range v.items {
			if it.isNull() {
				nullKeys, nulls = append(nullKeys, v.keys[i]), append(nulls, it)
				continue
			}
			keys, items = append(keys, v.keys[i]), append(items, it)
			moveNullsLast(it)
		}
		v.keys, v.items = append(keys, nullKeys...), append(items, nulls...)
	case kindList:
		for _, it := range v.items {
			moveNullsLast(it)
		}
	}
}

// coerceAWSStrings gives the string settings asyncfn reads the form the
// Framework's AWS schema validator (AJV, coerceTypes: array) gives them
// before print shows them: a number or boolean becomes its string, and a
// scalar where a list of strings belongs becomes a one-item list.
func coerceAWSStrings(root *value) {
	coerce(root, "service", kindString)
	pv := root.get("provider")
	for _, k := range []string{"role", "profile", "deploymentPrefix"} {
		coerce(pv, k, kindString)
	}
	if iam := pv.get("iam"); iam.is(kindMap) {
		coerce(iam, "role", kindString)
	}
	coercePackage(root.get("package"))
	fns := root.get("functions")
	if !fns.is(kindMap) {
		return
	}
	for i, fv := range fns.items {
		if !fv.is(kindMap) || !functionKeyRE.MatchString(fns.keys[i]) {
			continue // the schema applies to functions under valid names only
		}
		for _, k := range []string{"handler", "name", "description"} {
			coerce(fv, k, kindString)
		}
		if d := fv.get("destinations"); d.is(kindMap) {
			coerce(d, "onSuccess", kindString)
			coerce(d, "onFailure", kindString)
		}
		coercePackage(fv.get("package"))
	}
}

func coercePackage(pk *value) {
	if !pk.is(kindMap) {
		return
	}
	coerce(pk, "artifact", kindString)
	for _, k := range []string{"patterns", "include", "exclude"} {
		i := pk.index(k)
		if i < 0 {
			continue
		}
		v := pk.items[i]
		switch v.kind {
		case kindString, kindNumber, kindBool:
			s, _ := coerceString(v)
			pk.items[i] = &value{kind: kindList, items: []*value{newString(s, v.line, v.col)}, line: v.line, col: v.col}
		case kindList:
			for j, it := range v.items {
				if it.kind == kindNumber || it.kind == kindBool {
					s, _ := coerceString(it)
					v.items[j] = newString(s, it.line, it.col)
				}
			}
		}
	}
}

func (b *builder) checkServiceName(v *value, path, name string) {
	if name != "" && !serviceNameRE.MatchString(name) {
		b.schemaf(v, path, "service name %q must start with a letter and hold only letters, digits and - (at least 2 characters)", name)
	}
}

// role is provider.iam.role when it is a string, else provider.role.
func (b *builder) role(pv *value) string {
	if iam := pv.get("iam"); iam.is(kindMap) {
		if r := iam.get("role"); r.is(kindString) {
			return r.str
		} else if !r.isNull() {
			b.warnf(r, "provider.iam.role", "only a role name or ARN (a string) is acted on by asyncfn")
		}
		for i, k := range iam.keys {
			if k != "role" {
				b.warnf(iam.items[i], "provider.iam."+k, "not acted on by asyncfn (kept as written)")
			}
		}
	}
	r, _ := b.str(pv.get("role"), "provider.role")
	return r
}

// normalize adds what the Framework adds before `serverless print` shows
// the configuration (Service.loadServiceFileParam, setFunctionNames, the
// AWS provider and package plugins, and its schema validator's type
// coercion), so that Loaded.JSON matches print.
func (b *builder) normalize(root, pv *value, service, provider string) {
	for _, key := range []string{"resources", "functions"} {
		b.mergeList(root, key)
	}
	if pv.get("stage").isNull() {
		pv.set("stage", newString("dev", 0, 0))
	}
	stage := b.opts["stage"]
	if stage == "" {
		stage = stageString(pv.get("stage"))
	}
	if provider == "aws" {
		// AwsProvider sets provider.region to --region, else the region as
		// written, else the default.
		if region := b.opts["region"]; region != "" {
			pv.set("region", newString(region, 0, 0))
		} else if jsFalsyOrNull(pv.get("region")) {
			pv.set("region", newString(awsDefaultRegion, 0, 0))
		}
		if pv.get("versionFunctions").isNull() {
			pv.set("versionFunctions", &value{kind: kindBool, b: true})
		}
		if pk := root.get("package"); pk != nil && pk.kind == kindMap {
			prefix := "serverless"
			if d := pv.get("deploymentPrefix"); !d.isNull() {
				prefix = stageString(d)
			}
			pk.set("artifactsS3KeyDirname", newString(prefix+"/"+service+"/"+stage+"/code-artifacts", 0, 0))
		}
		coerce(pv, "stage", kindString)
		coerce(pv, "lambdaHashingVersion", kindString)
		coerce(pv, "memorySize", kindNumber)
		coerce(pv, "timeout", kindNumber)
		coerceEnv(pv.get("environment"))
	}
	fns := root.get("functions")
	if fns == nil || fns.kind != kindMap {
		return
	}
	for i := 0; i < len(fns.items); i++ {
		k, fv := fns.keys[i], fns.items[i]
		if fv.isNull() {
			fns.del(k)
			i--
			continue
		}
		if fv.kind != kindMap {
			continue
		}
		if jsFalsyOrNull(fv.get("events")) {
			fv.set("events", &value{kind: kindList, items: []*value{}})
		}
		if jsFalsyOrNull(fv.get("name")) {
			// Placed at the function, so that a problem with the generated
			// name is reported where the function is declared.
			fv.set("name", newString(service+"-"+stage+"-"+k, fv.line, fv.col))
		}
		if provider == "aws" {
			for _, key := range []string{"memorySize", "timeout", "reservedConcurrency", "maximumRetryAttempts", "maximumEventAge"} {
				coerce(fv, key, kindNumber)
			}
			coerceEnv(fv.get("environment"))
		}
	}
}

func jsFalsyOrNull(v *value) bool { return v.isNull() || jsFalsy(v) }

// mergeList folds root[key], when it is a list, into one mapping, as the
// Framework's Service.mergeArrays does for functions and resources: falsy
// items are skipped, mappings are merged (lodash _.merge), anything else
// is refused. A function declared by two items is merged too, which
// asyncfn cannot deploy as the author meant it.
func (b *builder) mergeList(root *value, key string) {
	list := root.get(key)
	if !list.is(kindList) {
		return
	}
	out, ok := newMap(list.line, list.col), true
	for i, item := range list.items {
		p := joinPath(key, strconv.Itoa(i))
		switch {
		case jsFalsyOrNull(item):
		case item.kind != kindMap:
			what := "function names to functions"
			if key == "resources" {
				what = "resources"
			}
			b.fatalf(item, p, "must be a mapping of %s, not %s", what, describe(item))
			ok = false
		default:
			for j, k := range item.keys {
				if key == "functions" && out.index(k) >= 0 {
					b.deployf(item.items[j], joinPath(p, k), "function %q is declared twice (the Framework merges the two declarations)", k)
				}
				out.set(k, mergeValue(out.get(k), item.items[j]))
			}
		}
	}
	if ok {
		root.set(key, out)
	}
}

// mergeValue is lodash's _.merge of src into dst: mappings merge key by
// key, lists index by index, anything else is replaced by src.
func mergeValue(dst, src *value) *value {
	switch {
	case dst.is(kindMap) && src.is(kindMap):
		out := dst.clone()
		for i, k := range src.keys {
			out.set(k, mergeValue(out.get(k), src.items[i]))
		}
		return out
	case dst.is(kindList) && src.is(kindList):
		out := dst.clone()
		for i, it := range src.items {
			if i < len(out.items) {
				out.items[i] = mergeValue(out.items[i], it)
			} else {
				out.items = append(out.items, it)
			}
		}
		return out
	}
	return src
}

// coerce converts m[key] as the Framework's schema validator (AJV with
// coerceTypes) does for the few AWS properties asyncfn acts on: a numeric
// string to a number, a number to a string.
func coerce(m *value, key string, to kind) {
	i := m.index(key)
	if i < 0 {
		return
	}
	v := m.items[i]
	switch {
	case to == kindNumber && v.kind == kindString && strings.TrimSpace(v.str) != "":
		if f, ok := jsToNumber(v.str); ok {
			m.items[i] = newNumber(f, v.line, v.col)
		}
	case to == kindString && (v.kind == kindNumber || v.kind == kindBool):
		str, _ := coerceString(v)
		m.items[i] = newString(str, v.line, v.col)
	}
}

// coerceEnv turns number and boolean environment values into strings, as
// the schema (string values) and its coercion make them.
func coerceEnv(env *value) {
	if !env.is(kindMap) {
		return
	}
	for _, k := range env.keys {
		coerce(env, k, kindString)
	}
}

func (b *builder) function(svc *Service, pv, providerEnv *value, key string, fv *value, path string) Function {
	fn := Function{Name: key}
	if fv.kind != kindMap {
		b.fatalf(fv, path, "must be a mapping (handler, runtime, ...), not %s", describe(fv))
		return fn
	}
	provider := svc.Provider.Name
	if provider == "aws" {
		b.checkKeys(fv, path, awsFunctionKeys)
	} else {
		b.checkKeys(fv, path, tencentFunctionKeys)
	}
	if !functionKeyRE.MatchString(key) {
		b.schemaf(fv, path, "function name %q may only hold letters, digits, - and _", key)
	}
	fn.Handler, _ = b.str(fv.get("handler"), joinPath(path, "handler"))
	if fn.Handler == "" {
		b.deployf(fv, joinPath(path, "handler"), "handler is required (e.g. index.main_handler)")
	}
	fn.Description, _ = b.str(fv.get("description"), joinPath(path, "description"))
	name, given := b.str(fv.get("name"), joinPath(path, "name"))
	generated := !given || name == ""
	if generated {
		name = svc.Name + "-" + svc.Stage + "-" + key
	}
	fn.DeployedName = name
	nameAt := fv.get("name")
	if nameAt == nil {
		nameAt = fv
	}
	b.checkDeployedName(provider, nameAt, joinPath(path, "name"), name, generated)

	providerPath := "provider"
	rt := pick(fv, pv, path, providerPath, "runtime")
	if rt.v != nil {
		fn.Runtime, _ = b.str(rt.v, rt.path)
		if rt.path != "provider.runtime" && fn.Runtime != "" {
			b.checkRuntime(provider, rt, fn.Runtime)
		}
	}
	if fn.Runtime == "" {
		fn.Runtime = map[string]string{"aws": awsDefaultRuntime, "tencent": scfDefaultRuntime}[provider]
	}

	if provider == "tencent" {
		fn.Async = b.tencentAsync(fv, path)
	} else {
		fn.Async = b.awsAsync(fv, path)
	}
	fn.MemorySize, fn.Timeout = b.sizes(provider, fv, pv, path, providerPath, fn.Async.Enabled)

	env := b.environment(provider, fv.get("environment"), joinPath(path, "environment"))
	fn.Environment = mergeEnv(providerEnv, env)

	fn.Package = svc.Package
	fn.Package.Patterns = append([]string(nil), svc.Package.Patterns...)
	if pk := fv.get("package"); !pk.isNull() {
		own := b.pkg(pk, joinPath(path, "package"))
		fn.Package.Patterns = mergePatterns(svc.Package.Patterns, own.Patterns)
		if own.Artifact != "" {
			fn.Package.Artifact = own.Artifact
		}
	}
	if n, ok := b.integer(fv.get("reservedConcurrency"), joinPath(path, "reservedConcurrency")); ok {
		if n < 0 {
			b.schemaf(fv.get("reservedConcurrency"), joinPath(path, "reservedConcurrency"), "%d is below 0", n)
		}
		fn.ReservedConcurrency = &n
	}
	if lv := fv.get("layers"); !lv.isNull() {
		fn.Layers = b.functionLayers(svc, lv, joinPath(path, "layers"))
	} else if provider == "aws" && !pv.get("layers").isNull() {
		fn.Layers = b.quietLayers(svc, pv.get("layers"))
	}
	if ev := fv.get("events"); ev != nil && ev.kind == kindList && len(ev.items) > 0 {
		b.warnf(ev, joinPath(path, "events"), "events (triggers) are not acted on by asyncfn; functions are invoked with asyncfn invoke")
	}
	return fn
}

// sizes resolves memorySize and timeout (function, provider, default) and
// checks them against the provider's limits where they are written.
func (b *builder) sizes(provider string, fv, pv *value, path, providerPath string, async bool) (memory, timeout int) {
	memory, timeout = awsDefaultMemory, awsDefaultTimeout
	if provider == "tencent" {
		memory, timeout = scfDefaultMemory, scfDefaultTimeout
	}
	if s := pick(fv, pv, path, providerPath, "memorySize"); s.v != nil {
		if n, ok := b.quietInt(s); ok {
			memory = n
			b.checkMemory(provider, s, n)
		}
	}
	if s := pick(fv, pv, path, providerPath, "timeout"); s.v != nil {
		if n, ok := b.quietInt(s); ok {
			timeout = n
			b.checkTimeout(provider, s, n, async)
		}
	}
	return memory, timeout
}

// quietInt reads a setting; provider-level type errors are reported once,
// by framework(), not once per function.
func (b *builder) quietInt(s setting) (int, bool) {
	if strings.HasPrefix(s.path, "provider.") {
		saved := len(b.found)
		n, ok := b.integer(s.v, s.path)
		b.found = b.found[:saved]
		return n, ok
	}
	return b.integer(s.v, s.path)
}

func (b *builder) awsAsync(fv *value, path string) Async {
	var a Async
	if v := fv.get("maximumRetryAttempts"); !v.isNull() {
		p := joinPath(path, "maximumRetryAttempts")
		if n, ok := b.integer(v, p); ok && b.inRange(v, p, n, 0, awsMaxRetries, "for maximumRetryAttempts") {
			a.RetryAttempts = &n
		}
	}
	if v := fv.get("maximumEventAge"); !v.isNull() {
		p := joinPath(path, "maximumEventAge")
		if n, ok := b.integer(v, p); ok && b.inRange(v, p, n, awsMinEventAge, awsMaxEventAge, "for maximumEventAge, in seconds") {
			a.MaxEventAge = n
		}
	}
	if d := fv.get("destinations"); !d.isNull() {
		p := joinPath(path, "destinations")
		if d.kind != kindMap {
			b.schemaf(d, p, "must be a mapping (onSuccess, onFailure), not %s", describe(d))
		} else {
			for i, k := range d.keys {
				switch k {
				case "onSuccess":
					a.OnSuccess = b.destination(d.items[i], joinPath(p, k))
				case "onFailure":
					a.OnFailure = b.destination(d.items[i], joinPath(p, k))
				default:
					b.unknownf(d.items[i], joinPath(p, k), "unknown key, not acted on by asyncfn")
				}
			}
		}
	}
	if dc := fv.get("durableConfig"); !dc.isNull() {
		p := joinPath(path, "durableConfig")
		if dc.kind != kindMap {
			b.schemaf(dc, p, "must be a mapping (executionTimeout, retentionPeriodInDays), not %s", describe(dc))
		} else {
			d := &Durable{}
			if v := dc.get("executionTimeout"); !v.isNull() {
				q := joinPath(p, "executionTimeout")
				if n, ok := b.integer(v, q); ok && b.inRange(v, q, n, 1, awsMaxDurableTimeout, "for a durable execution, in seconds") {
					d.ExecutionTimeout = n
				}
			} else {
				// Lambda refuses a DurableConfig without it (developer guide,
				// Configure Lambda durable functions: "ExecutionTimeout –
				// Required"; AWS::Lambda::Function DurableConfig).
				b.deployf(dc, joinPath(p, "executionTimeout"), "executionTimeout is required: how long a durable execution may run, in seconds (1-%d)", awsMaxDurableTimeout)
			}
			if v := dc.get("retentionPeriodInDays"); !v.isNull() {
				q := joinPath(p, "retentionPeriodInDays")
				if n, ok := b.integer(v, q); ok && b.inRange(v, q, n, 1, awsMaxRetentionDays, "for retentionPeriodInDays") {
					d.RetentionPeriodInDays = n
				}
			}
			for i, k := range dc.keys {
				if k != "executionTimeout" && k != "retentionPeriodInDays" {
					b.warnf(dc.items[i], joinPath(p, k), "unknown key, not acted on by asyncfn")
				}
			}
			a.Durable = d
		}
	}
	return a
}

// destination is a function name or ARN, or {arn, type}: the ARN is taken.
// The Framework prints a CloudFormation function in either place (its
// deploy resolves it in the stack); asyncfn, which deploys through the API,
// cannot.
func (b *builder) destination(v *value, path string) string {
	if fn := cfnFunction(v); fn != "" {
		b.schemaf(v, path, "a CloudFormation function cannot be resolved by asyncfn, which deploys through the API: give the ARN or a function name of this service (found %s)", fn)
		return ""
	}
	if v.kind == kindMap {
		arn := v.get("arn")
		if fn := cfnFunction(arn); fn != "" || arn.is(kindMap) {
			if fn == "" {
				fn = describe(arn)
			}
			b.deployf(arn, path+".arn", "a CloudFormation function cannot be resolved by asyncfn, which deploys through the API: give the ARN (found %s)", fn)
			return ""
		}
		s, _ := b.str(arn, path+".arn")
		if s == "" {
			b.schemaf(v, path+".arn", "arn is required")
		}
		return s
	}
	s, _ := b.str(v, path)
	return s
}

// cfnFunction names the CloudFormation intrinsic function v is ({Ref: x},
// {Fn::GetAtt: [...]}, or their !Ref / !GetAtt tags), or "".
func cfnFunction(v *value) string {
	if !v.is(kindMap) || len(v.keys) != 1 {
		return ""
	}
	if k := v.keys[0]; k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
		return k
	}
	return ""
}

// tencentAsync reads SCF's async settings from a function or component inputs.
func (b *builder) tencentAsync(fv *value, path string) Async {
	var a Async
	a.Enabled, _ = b.boolean(fv.get("asyncRunEnable"), joinPath(path, "asyncRunEnable"))
	// traceEnable defaults to asyncRunEnable (Async.Tracking): SCF keeps async
	// events only for functions with event tracking on.
	if a.Trace, a.TraceSet = b.boolean(fv.get("traceEnable"), joinPath(path, "traceEnable")); !a.TraceSet {
		a.Trace = a.Enabled
	}
	if v := fv.get("retryNum"); !v.isNull() {
		p := joinPath(path, "retryNum")
		if n, ok := b.integer(v, p); ok && b.inRange(v, p, n, 0, scfMaxRetries, "for retryNum") {
			a.RetryAttempts = &n
		}
	}
	if v := fv.get("msgTTL"); !v.isNull() {
		p := joinPath(path, "msgTTL")
		if n, ok := b.integer(v, p); ok && b.inRange(v, p, n, scfMinMsgTTL, scfMaxMsgTTL, "for msgTTL, in seconds") {
			a.MaxEventAge = n
		}
	}
	return a
}

// environment returns the variables map: flat for AWS, under
// environment.variables for Tencent.
func (b *builder) environment(provider string, v *value, path string) *value {
	if v.isNull() {
		return nil
	}
	if v.kind != kindMap {
		b.schemaf(v, path, "must be a mapping, not %s", describe(v))
		return nil
	}
	if provider == "tencent" {
		for i, k := range v.keys {
			if k != "variables" {
				b.deployf(v.items[i], joinPath(path, k), "Tencent's environment is nested: put variables under %s.variables", path)
			}
		}
		vars := v.get("variables")
		if vars.isNull() {
			return nil
		}
		path = joinPath(path, "variables")
		if vars.kind != kindMap {
			b.deployf(vars, path, "must be a mapping of names to values, not %s", describe(vars))
			return nil
		}
		v = vars
	}
	out := newMap(v.line, v.col)
	for i, k := range v.keys {
		p, val := joinPath(path, k), v.items[i]
		if !envNameRE.MatchString(k) {
			b.schemaf(val, p, "environment variable name %q must be letters, digits and _, not starting with a digit", k)
			continue
		}
		switch val.kind {
		case kindString:
			out.set(k, val)
		case kindNumber, kindBool:
			s, _ := coerceString(val)
			out.set(k, newString(s, val.line, val.col))
		case kindNull:
			b.warnf(val, p, "has no value and is left out")
		default:
			// The Framework's schema takes CloudFormation functions here
			// (its deploy resolves them in the stack).
			b.deployf(val, p, "must be a string, not %s (CloudFormation functions cannot be resolved by asyncfn, which deploys through the API)", describe(val))
		}
	}
	return out
}

// mergeEnv merges provider and function variables; the function wins.
func mergeEnv(provider, fn *value) map[string]string {
	if provider == nil && fn == nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range []*value{provider, fn} {
		if m == nil {
			continue
		}
		for i, k := range m.keys {
			out[k] = m.items[i].str
		}
	}
	return out
}

// pkg reads package: exclude first (as "!pattern"), then include, then
// patterns, the order the Framework applies them in.
func (b *builder) pkg(v *value, path string) Package {
	var p Package
	if v.kind != kindMap {
		if path == "package" && b.provider == "aws" && v.kind != kindList {
			// The Framework's AWS packager sets package.artifactsS3KeyDirname
			// on it and fails.
			b.fatalf(v, path, "must be a mapping (patterns, individually, artifact), not %s", describe(v))
		} else {
			b.schemaf(v, path, "must be a mapping (patterns, individually, artifact), not %s", describe(v))
		}
		return p
	}
	b.checkKeys(v, path, packageKeys)
	for _, e := range b.strList(v.get("exclude"), joinPath(path, "exclude")) {
		if rest, ok := strings.CutPrefix(e, "!"); ok {
			p.Patterns = append(p.Patterns, rest)
		} else {
			p.Patterns = append(p.Patterns, "!"+e)
		}
	}
	p.Patterns = append(p.Patterns, b.strList(v.get("include"), joinPath(path, "include"))...)
	p.Patterns = append(p.Patterns, b.strList(v.get("patterns"), joinPath(path, "patterns"))...)
	p.Individually, _ = b.boolean(v.get("individually"), joinPath(path, "individually"))
	p.Artifact, _ = b.str(v.get("artifact"), joinPath(path, "artifact"))
	return p
}

// mergePatterns puts the function's exclusions after the service's
// exclusions and its inclusions last, as the Framework's packager does.
func mergePatterns(service, fn []string) []string {
	var out []string
	for _, list := range [][]string{service, fn} {
		for _, p := range list {
			if strings.HasPrefix(p, "!") {
				out = append(out, p)
			}
		}
	}
	for _, list := range [][]string{service, fn} {
		for _, p := range list {
			if !strings.HasPrefix(p, "!") {
				out = append(out, p)
			}
		}
	}
	return out
}

func (b *builder) strList(v *value, path string) []string {
	if v.isNull() {
		return nil
	}
	if v.kind == kindString { // the Framework's validator coerces a scalar to a list
		return []string{v.str}
	}
	if v.kind != kindList {
		b.schemaf(v, path, "must be a list of strings, not %s", describe(v))
		return nil
	}
	var out []string
	for i, it := range v.items {
		if s, ok := b.str(it, joinPath(path, strconv.Itoa(i))); ok {
			out = append(out, s)
		}
	}
	return out
}

// component reads Tencent's component form (component: scf, name, inputs)
// into a one-function tencent service.
func (b *builder) component(root *value) *Service {
	svc := &Service{Provider: Provider{Name: "tencent"}}
	b.provider = "tencent"
	b.checkKeys(root, "", componentTopKeys)
	cv := root.get("component")
	if c, _ := b.str(cv, "component"); !componentTypes.MatchString(c) {
		b.fatalf(cv, "component", "component %s is not supported: asyncfn reads component: scf", quoteValue(cv))
		return svc
	}
	// The instance name is not a service name (it may hold "_"); it only
	// names the function when inputs.name is absent.
	svc.Name, _ = b.str(root.get("name"), "name")
	if svc.Name == "" {
		b.deployf(root, "name", "name is required (the component instance name)")
	}
	in := root.get("inputs")
	if in.isNull() || in.kind != kindMap {
		b.fatalf(root, "inputs", "inputs is required: a mapping (src, handler, runtime, ...)")
		return svc
	}
	b.checkKeys(in, "inputs", componentInputKeys)

	svc.Stage = b.opts["stage"]
	if svc.Stage == "" {
		svc.Stage = stageString(root.get("stage"))
	}
	if svc.Stage == "" {
		svc.Stage = "dev"
	}
	svc.Region = b.opts["region"]
	if svc.Region == "" {
		svc.Region, _ = b.str(in.get("region"), "inputs.region")
	}
	if svc.Region == "" {
		svc.Region = scfDefaultRegion
	}
	svc.Package = b.componentSrc(in.get("src"))

	fn := Function{Package: svc.Package}
	fn.Package.Patterns = append([]string(nil), svc.Package.Patterns...)
	name, _ := b.str(in.get("name"), "inputs.name")
	nameAt, namePath := in.get("name"), "inputs.name"
	if name == "" {
		name, nameAt, namePath = svc.Name, root.get("name"), "name"
	}
	fn.Name, fn.DeployedName = name, name
	if name != "" {
		b.checkDeployedName("tencent", nameAt, namePath, name, false)
	}
	fn.Handler, _ = b.str(in.get("handler"), "inputs.handler")
	if fn.Handler == "" {
		b.deployf(in, "inputs.handler", "handler is required (e.g. index.main_handler)")
	}
	fn.Description, _ = b.str(in.get("description"), "inputs.description")
	fn.Runtime, _ = b.str(in.get("runtime"), "inputs.runtime")
	if fn.Runtime != "" {
		b.checkRuntime("tencent", setting{in.get("runtime"), "inputs.runtime"}, fn.Runtime)
	} else {
		fn.Runtime = scfDefaultRuntime
	}
	svc.Provider.Runtime = fn.Runtime
	fn.Async = b.tencentAsync(in, "inputs")
	fn.MemorySize, fn.Timeout = b.sizes("tencent", in, nil, "inputs", "", fn.Async.Enabled)
	fn.Environment = mergeEnv(nil, b.environment("tencent", in.get("environment"), "inputs.environment"))
	if ev := in.get("events"); ev != nil && ev.kind == kindList && len(ev.items) > 0 {
		b.warnf(ev, "inputs.events", "events (triggers) are not acted on by asyncfn; functions are invoked with asyncfn invoke")
	}
	svc.Functions = []Function{fn}
	return svc
}

// componentSrc reads inputs.src: a directory, or {src, exclude, include}.
func (b *builder) componentSrc(v *value) Package {
	var p Package
	switch {
	case v.isNull():
	case v.kind == kindString:
		p.Src = v.str
	case v.kind == kindMap:
		for i, k := range v.keys {
			switch k {
			case "src", "exclude", "include":
			default:
				b.warnf(v.items[i], "inputs.src."+k, "not acted on by asyncfn (kept as written)")
			}
		}
		p.Src, _ = b.str(v.get("src"), "inputs.src.src")
		for _, e := range b.strList(v.get("exclude"), "inputs.src.exclude") {
			p.Patterns = append(p.Patterns, "!"+e)
		}
		p.Patterns = append(p.Patterns, b.strList(v.get("include"), "inputs.src.include")...)
	default:
		b.deployf(v, "inputs.src", "must be a directory or a mapping (src, exclude, include), not %s", describe(v))
	}
	return p
}

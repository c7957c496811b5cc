package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// maxNestDepth is the Framework's limit on values whose resolution yields
// more variables (a file that includes itself, an env var holding ${...}).
const maxNestDepth = 10

// resolver resolves every variable of one document with the Framework's
// rules (lib/configuration/variables/resolve.js). Properties are resolved
// on demand: a ${self:} reference first resolves what it points at, and a
// property met again while it is being resolved is a cycle.
type resolver struct {
	file       string // as given to Load, for errors
	dir        string // service directory, for file()
	root       *value
	opts       map[string]string
	params     map[string]string
	env        func(string) (string, bool)
	instanceID string

	state map[*value]*propState // per original string node
	done  map[*value]bool       // tree nodes whose value is final (not parsed again)
	depth map[*value]int        // nest depth of values that came out of a variable
	stack []inProgress          // properties being resolved, for cycle messages
	errs  []*Error
	seen  map[*Error]bool
}

type propState struct {
	inProgress bool
	err        *Error
}

type inProgress struct {
	path string
	node *value
}

func newResolver(file, dir string, root *value, opts Options, instanceID string) *resolver {
	env := opts.Env
	if env == nil {
		env = os.LookupEnv
	}
	o := map[string]string{}
	for k, v := range opts.Opts {
		o[k] = v
	}
	if _, ok := o["stage"]; !ok && opts.Stage != "" {
		o["stage"] = opts.Stage
	}
	if _, ok := o["region"]; !ok && opts.Region != "" {
		o["region"] = opts.Region
	}
	return &resolver{
		file: file, dir: dir, root: root, opts: o, params: opts.Params, env: env,
		instanceID: instanceID,
		state:      map[*value]*propState{}, done: map[*value]bool{}, depth: map[*value]int{},
		seen: map[*Error]bool{},
	}
}

func (r *resolver) record(e *Error) {
	if e != nil && !r.seen[e] {
		r.seen[e] = true
		r.errs = append(r.errs, e)
	}
}

// resolveTree resolves every string with variables under v (a map or list),
// recording each failure; it returns the first failure met, if any.
func (r *resolver) resolveTree(v *value, path string) *Error {
	var first *Error
	for i := range v.items {
		key := ""
		if v.kind == kindMap {
			key = v.keys[i]
		} else {
			key = fmt.Sprint(i)
		}
		p := joinPath(path, key)
		var err *Error
		switch it := v.items[i]; it.kind {
		case kindString:
			err = r.resolveProp(v, i, p)
		case kindMap, kindList:
			err = r.resolveTree(it, p)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// resolveProp resolves the string at container.items[i] in place.
func (r *resolver) resolveProp(container *value, i int, path string) *Error {
	node := container.items[i]
	if node.kind != kindString || r.done[node] {
		return nil
	}
	if st := r.state[node]; st != nil {
		if st.inProgress {
			return r.cycle(path)
		}
		return st.err
	}
	refs, perr := parseVariables(node.str)
	if perr != nil {
		e := r.errAt(node, path, fmt.Sprintf("variable syntax error: %v", perr), perr)
		r.state[node] = &propState{err: e}
		r.record(e)
		return e
	}
	if refs == nil {
		r.done[node] = true
		return nil
	}
	st := &propState{inProgress: true}
	r.state[node] = st
	r.stack = append(r.stack, inProgress{path, node})
	result, err := r.resolveString(node.str, refs, nil, node, path, r.depth[node])
	r.stack = r.stack[:len(r.stack)-1]
	st.inProgress = false
	if err != nil {
		st.err = err
		r.record(err)
		return err
	}
	result.line, result.col = node.line, node.col
	container.items[i] = result
	if result.kind == kindString {
		r.done[result] = true
		return nil
	}
	if result.kind == kindMap || result.kind == kindList {
		// Variables inside a resolved object are properties of their own
		// (the Framework registers them under their sub-paths).
		d := r.depth[node] + 1
		markDepth(result, d, r.depth)
		if d > maxNestDepth && hasVariables(result) {
			e := r.errAt(node, path, "excessive variable nesting: resolved values keep yielding more variables", nil)
			st.err = e
			r.record(e)
			return e
		}
		return r.resolveTree(result, path)
	}
	return nil
}

func markDepth(v *value, d int, depth map[*value]int) {
	depth[v] = d
	for _, it := range v.items {
		markDepth(it, d, depth)
	}
}

func hasVariables(v *value) bool {
	if v.kind == kindString {
		refs, _ := parseVariables(v.str)
		return refs != nil
	}
	for _, it := range v.items {
		if hasVariables(it) {
			return true
		}
	}
	return false
}

func (r *resolver) cycle(path string) *Error {
	start := 0
	for i, p := range r.stack {
		if p.path == path {
			start = i
			break
		}
	}
	chain := make([]string, 0, len(r.stack)-start+1)
	for _, p := range r.stack[start:] {
		chain = append(chain, p.path)
	}
	chain = append(chain, path)
	top := r.stack[len(r.stack)-1]
	msg := "circular reference: " + strings.Join(chain, " → ")
	if len(chain) == 2 {
		msg = "circular reference: " + path + " refers to itself"
	}
	return r.errAt(top.node, top.path, msg, nil)
}

func (r *resolver) errAt(node *value, path, msg string, cause error) *Error {
	return &Error{File: r.file, Line: node.line, Col: node.col, Path: path, Msg: msg, Err: cause}
}

// resolveString resolves the variables refs of s. pieces, when not nil, are
// the parts s was joined from (see below). node locates errors.
func (r *resolver) resolveString(s string, refs []*varRef, pieces []string, node *value, path string, depth int) (*value, *Error) {
	for {
		vals := make([]*value, len(refs))
		for k, ref := range refs {
			if ref.escape {
				vals[k] = newString(ref.text, 0, 0)
				continue
			}
			v, err := r.resolveRef(ref, s, node, path, depth)
			if err != nil {
				return nil, err
			}
			vals[k] = v
		}
		var result *value
		pieces = nil
		if len(refs) == 1 && refs[0].whole {
			result = vals[0]
		} else {
			last := 0
			for k, ref := range refs {
				str, ok := coerceString(vals[k])
				if !ok {
					return nil, r.errAt(node, path, fmt.Sprintf("%s resolves to %s, which cannot be part of a string (only a string, number or boolean can)", s[ref.start:ref.end], describe(vals[k])), nil)
				}
				pieces = append(pieces, s[last:ref.start], str)
				last = ref.end
			}
			pieces = append(pieces, s[last:])
			result = newString(strings.Join(pieces, ""), 0, 0)
		}
		if result.kind != kindString {
			return result, nil
		}
		// A resolved string may hold variables of its own (an env value,
		// a file's text). The Framework parses the joined parts one by
		// one, so that an escaped \${ or two halves never form a variable.
		next, perr := parsePieces(result.str, pieces)
		if perr != nil {
			return nil, r.errAt(node, path, fmt.Sprintf("variable syntax error in resolved value %q: %v", result.str, perr), perr)
		}
		if next == nil {
			return result, nil
		}
		depth++
		if depth > maxNestDepth {
			return nil, r.errAt(node, path, "excessive variable nesting: resolved values keep yielding more variables", nil)
		}
		s, refs = result.str, next
	}
}

func parsePieces(s string, pieces []string) ([]*varRef, error) {
	if pieces == nil {
		return parseVariables(s)
	}
	var all []*varRef
	base := 0
	for _, p := range pieces {
		refs, err := parseVariables(p)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if ref.whole {
				ref.start, ref.end, ref.whole = 0, len(p), false
			}
			ref.start += base
			ref.end += base
			all = append(all, ref)
		}
		base += len(p)
	}
	return all, nil
}

func describe(v *value) string {
	switch v.kind {
	case kindMap:
		return "an object"
	case kindList:
		return "an array"
	case kindNull:
		return "null"
	}
	return "a " + v.kind.String()
}

// refText is the variable as written, for messages.
func refText(ref *varRef, s string) string {
	if ref.whole {
		return s
	}
	return s[ref.start:ref.end]
}

// resolveRef resolves one variable through its fallback chain: the first
// source with a non-null value wins; a literal ends the chain.
func (r *resolver) resolveRef(ref *varRef, s string, node *value, path string, depth int) (*value, *Error) {
	text := refText(ref, s)
	wrap := func(err error) *Error {
		var e *Error
		if errors.As(err, &e) && e.File != "" {
			return e // a failure of a property this one depends on: reported there
		}
		return r.errAt(node, path, fmt.Sprintf("cannot resolve %s: %v", text, err), err)
	}
	for i, src := range ref.sources {
		if src.typ == "" {
			if i == 0 {
				return nil, wrap(errors.New("a variable must start with a source (such as env: or self:), not a literal"))
			}
			return src.literal.clone(), nil
		}
		v, notFound, err := r.resolveSource(src, node, path, depth)
		if err != nil {
			return nil, wrap(err)
		}
		if !v.isNull() {
			return v, nil
		}
		if i == len(ref.sources)-1 {
			if notFound == "" {
				notFound = fmt.Sprintf("value not found at %q source", src.typ)
			}
			if len(ref.sources) > 1 {
				notFound += ", nor in any fallback"
			} else {
				notFound += ", and there is no fallback"
			}
			return nil, wrap(errors.New(notFound))
		}
	}
	return &value{kind: kindNull}, nil
}

// meta resolves the variables in a source's address or param.
func (r *resolver) meta(m *strMeta, node *value, path string, depth int) (*value, error) {
	if m == nil {
		return nil, nil
	}
	if m.vars == nil {
		return m.val, nil
	}
	v, err := r.resolveString(m.val.str, m.vars, nil, node, path, depth)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// resolveSource asks one source for its value. A nil or null value means
// "not found" (notFound says why), so that the next fallback is tried.
func (r *resolver) resolveSource(src *varSource, node *value, path string, depth int) (v *value, notFound string, err error) {
	var params []*value
	for _, p := range src.params {
		pv, err := r.meta(p, node, path, depth)
		if err != nil {
			return nil, "", err
		}
		params = append(params, pv)
	}
	addrVal, err := r.meta(src.address, node, path, depth)
	if err != nil {
		return nil, "", err
	}
	address, hasAddress := "", false
	if !addrVal.isNull() {
		if addrVal.kind != kindString {
			return nil, "", fmt.Errorf("non-string address argument in variable %q source: %s", src.typ, describe(addrVal))
		}
		address, hasAddress = addrVal.str, addrVal.str != ""
	}
	switch src.typ {
	case "opt":
		if !hasAddress {
			m := newMap(0, 0)
			keys := make([]string, 0, len(r.opts))
			for k := range r.opts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				m.set(k, newString(r.opts[k], 0, 0))
			}
			return m, "", nil
		}
		if o, ok := r.opts[address]; ok {
			return newString(o, 0, 0), "", nil
		}
		return nil, fmt.Sprintf("option --%s was not given", address), nil
	case "env":
		if !hasAddress {
			return nil, "", errors.New(`missing address argument in variable "env" source`)
		}
		if e, ok := r.env(address); ok {
			return newString(e, 0, 0), "", nil
		}
		return nil, fmt.Sprintf("environment variable %s is not set", address), nil
	case "self":
		var keys []string
		if hasAddress {
			keys = strings.Split(address, ".")
		}
		v, err := r.lookup(keys)
		if err != nil {
			return nil, "", err
		}
		if v.isNull() {
			return nil, fmt.Sprintf("nothing at %q in this file", address), nil
		}
		return v.clone(), "", nil
	case "sls":
		return r.sls(address, hasAddress)
	case "param":
		return r.param(address, hasAddress)
	case "file":
		return r.fileSource(params, address, hasAddress, node, path, depth)
	case "strToBool":
		if len(params) == 0 || params[0].isNull() {
			return nil, "", errors.New(`missing "strToBool" input`)
		}
		if params[0].kind != kindString {
			return nil, "", fmt.Errorf(`non-string "strToBool" input: %s`, describe(params[0]))
		}
		switch strings.ToLower(strings.TrimSpace(params[0].str)) {
		case "true", "1":
			return &value{kind: kindBool, b: true}, "", nil
		case "false", "0":
			return &value{kind: kindBool}, "", nil
		}
		return nil, "", fmt.Errorf(`invalid "strToBool" input: expected "true", "false", "0" or "1", got %q`, params[0].str)
	case "aws":
		if address == "region" {
			aws, err := r.providerIsAWS()
			if err != nil {
				return nil, "", err
			}
			if aws { // the Framework registers the aws source for aws services only
				v, err := r.awsRegion()
				return v, "", err
			}
		}
		return nil, "", fmt.Errorf("the %q variable source reads from the cloud when the Framework deploys; asyncfn does not resolve it (pass the value with --param or an environment variable)", src.typ)
	case "cf", "s3", "ssm", "output":
		return nil, "", fmt.Errorf("the %q variable source reads from the cloud when the Framework deploys; asyncfn does not resolve it (pass the value with --param or an environment variable)", src.typ)
	}
	return nil, "", fmt.Errorf("unknown variable source %q (asyncfn resolves env, file, opt, param, self, sls and strToBool)", src.typ)
}

// lookup returns the value at keys (a ${self:} address), resolving what it
// passes through and, for an object, everything inside it first.
func (r *resolver) lookup(keys []string) (*value, error) {
	cur, path := r.root, ""
	for _, k := range keys {
		if cur.kind != kindMap && cur.kind != kindList {
			return nil, nil
		}
		i := -1
		if cur.kind == kindMap {
			i = cur.index(k)
		} else if cur.child(k) != nil {
			i, _ = strconv.Atoi(k)
		}
		if i < 0 {
			return nil, nil
		}
		path = joinPath(path, k)
		if err := r.resolveProp(cur, i, path); err != nil {
			return nil, err
		}
		cur = cur.items[i]
	}
	if cur.kind == kindMap || cur.kind == kindList {
		if err := r.resolveTree(cur, path); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// stage is the Framework's provider.getStage(): --stage, provider.stage, "dev".
func (r *resolver) stage() (*value, error) {
	if s := r.opts["stage"]; s != "" {
		return newString(s, 0, 0), nil
	}
	v, err := r.lookup([]string{"provider", "stage"})
	if err != nil {
		return nil, err
	}
	if v.isNull() || jsFalsy(v) {
		return newString("dev", 0, 0), nil
	}
	return v.clone(), nil
}

// providerIsAWS reports whether provider (or provider.name) is "aws".
func (r *resolver) providerIsAWS() (bool, error) {
	keys := []string{"provider", "name"}
	if r.root.get("provider").is(kindString) { // provider: aws
		keys = keys[:1]
	}
	v, err := r.lookup(keys)
	if err != nil {
		return false, err
	}
	return v.is(kindString) && v.str == "aws", nil
}

// awsRegion is ${aws:region}: --region, else provider.region, else the
// default, as the Framework's aws source answers it (without the cloud).
func (r *resolver) awsRegion() (*value, error) {
	if s := r.opts["region"]; s != "" {
		return newString(s, 0, 0), nil
	}
	v, err := r.lookup([]string{"provider", "region"})
	if err != nil {
		return nil, err
	}
	if v.isNull() || jsFalsy(v) {
		return newString(awsDefaultRegion, 0, 0), nil
	}
	return v.clone(), nil
}

func (r *resolver) sls(address string, hasAddress bool) (*value, string, error) {
	switch {
	case !hasAddress:
		return nil, "", errors.New(`missing address argument in variable "sls" source`)
	case address == "stage":
		v, err := r.stage()
		return v, "", err
	case address == "instanceId":
		return newString(r.instanceID, 0, 0), "", nil
	}
	return nil, "", fmt.Errorf(`unsupported %q address argument in variable "sls" source (stage, instanceId)`, address)
}

// param looks in --param, then params.<stage>, then params.default, as the
// Framework's dashboard plugin does (without the Dashboard).
func (r *resolver) param(name string, hasAddress bool) (*value, string, error) {
	if !hasAddress {
		return nil, "", errors.New(`missing address argument in variable "param" source`)
	}
	if p, ok := r.params[name]; ok {
		return newString(p, 0, 0), "", nil
	}
	stage, err := r.stage()
	if err != nil {
		return nil, "", err
	}
	st, _ := coerceString(stage)
	for _, group := range []string{st, "default"} {
		v, err := r.lookup([]string{"params", group, name})
		if err != nil {
			return nil, "", err
		}
		if !v.isNull() {
			return v.clone(), "", nil
		}
	}
	return nil, fmt.Sprintf("param %q is not set (--param %s=..., params.%s.%s or params.default.%s)", name, name, st, name, name), nil
}

func (r *resolver) fileSource(params []*value, address string, hasAddress bool, node *value, path string, depth int) (*value, string, error) {
	if len(params) == 0 || params[0].isNull() {
		return nil, "", errors.New(`missing path argument in variable "file" source`)
	}
	if params[0].kind != kindString {
		return nil, "", fmt.Errorf(`non-string path argument in variable "file" source: %s`, describe(params[0]))
	}
	rel := params[0].str
	full := rel
	if !filepath.IsAbs(full) {
		full = filepath.Join(r.dir, rel)
	}
	data, err := os.ReadFile(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("file %s does not exist", rel), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s: %w", rel, err)
	}
	var content *value
	switch strings.ToLower(filepath.Ext(full)) {
	case ".yml", ".yaml":
		v, errs := parseYAML(rel, data)
		if len(errs) > 0 {
			return nil, "", fmt.Errorf("cannot parse %s: %w", rel, Errors(errs))
		}
		content = v
	case ".json", ".tfstate":
		v, err := parseJSON(data)
		if err != nil {
			return nil, "", fmt.Errorf("cannot parse %s: JSON parse error: %w", rel, err)
		}
		content = v
	case ".js", ".cjs", ".mjs", ".ts":
		return nil, "", fmt.Errorf("%s is JavaScript: asyncfn reads YAML, JSON and text files only", rel)
	default:
		content = newString(string(data), 0, 0)
	}
	relocate(content, node.line, node.col)
	if !hasAddress {
		return content, "", nil
	}
	cur := content
	for _, k := range strings.Split(address, ".") {
		if cur.kind == kindString {
			// The Framework resolves variables in a string before
			// indexing into it.
			refs, perr := parseVariables(cur.str)
			if perr != nil {
				return nil, "", perr
			}
			if refs != nil {
				v, e := r.resolveString(cur.str, refs, nil, node, path, depth+1)
				if e != nil {
					return nil, "", e
				}
				cur = v
			}
		}
		cur = cur.child(k)
		if cur.isNull() {
			return nil, fmt.Sprintf("nothing at %q in %s", address, rel), nil
		}
	}
	return cur, "", nil
}

// relocate places a value read from another file at the position of the
// variable that brought it in, since errors name the loaded file.
func relocate(v *value, line, col int) {
	v.line, v.col = line, col
	for _, it := range v.items {
		relocate(it, line, col)
	}
}

// parseJSON decodes JSON keeping key order; a repeated key keeps its first
// position and its last value, as JSON.parse does.
func parseJSON(data []byte) (*value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func jsonValue(dec *json.Decoder) (*value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			m := newMap(0, 0)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				m.set(kt.(string), v)
			}
			_, err := dec.Token()
			return m, err
		}
		l := &value{kind: kindList, items: []*value{}}
		for dec.More() {
			v, err := jsonValue(dec)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		}
		_, err := dec.Token()
		return l, err
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, err
		}
		return newNumber(f, 0, 0), nil
	case string:
		return newString(t, 0, 0), nil
	case bool:
		return &value{kind: kindBool, b: t}, nil
	}
	return &value{kind: kindNull}, nil
}

package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxYAMLDepth bounds alias expansion and nesting, so that a hostile file
// (a "billion laughs" of aliases) cannot exhaust memory.
const maxYAMLDepth = 200

// yamlReader converts yaml.v3 nodes into values the way js-yaml (with the
// Framework's CloudFormation schema) would load them.
type yamlReader struct {
	file  string
	errs  []*Error
	nodes int // values built, to bound alias expansion
}

// parseYAML parses one YAML document. Syntax errors come back as Errors.
func parseYAML(file string, data []byte) (*value, []*Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []*Error{{File: file, Line: 1, Col: 1, Msg: "the file is empty: a mapping (service, provider, functions, ...) is expected"}}
		}
		return nil, []*Error{yamlError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, []*Error{{File: file, Line: extra.Line, Col: extra.Column, Msg: "expected a single YAML document, found another one here"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, []*Error{yamlError(file, err)}
	}
	r := &yamlReader{file: file}
	v := r.node(&doc, "", 0)
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	return v, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserErrors are the messages of yaml.v3's parser (as opposed to its
// scanner). For these yaml.v3 prints the 0-based line of the construct being
// parsed (its parser.fail does not add one, unlike for scanner errors), so
// one is added here.
var yamlParserErrors = []string{
	"did not find expected <document start>", "did not find expected node content",
	"did not find expected key", "did not find expected '-' indicator",
	"did not find expected ',' or", "found duplicate %", "found incompatible YAML document",
}

// yamlError turns a yaml.v3 error into an Error. yaml.v3 reports the line
// of a syntax error but not its column, so the column is 1.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		for _, p := range yamlParserErrors {
			if strings.HasPrefix(msg, p) {
				line++
				break
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: file, Line: line, Col: 1, Msg: "YAML syntax error: " + msg, Err: err}
}

func (r *yamlReader) errorf(n *yaml.Node, path, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (r *yamlReader) node(n *yaml.Node, path string, depth int) *value {
	r.nodes++
	if depth > maxYAMLDepth || r.nodes > 1_000_000 {
		r.errorf(n, path, "the document nests or expands aliases too deeply")
		return &value{kind: kindNull}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &value{kind: kindNull, line: n.Line, col: n.Column}
		}
		return r.node(n.Content[0], path, depth+1)
	case yaml.AliasNode:
		return r.node(n.Alias, path, depth+1).at(n.Line, n.Column)
	case yaml.ScalarNode:
		return r.scalar(n, path)
	case yaml.SequenceNode:
		v := &value{kind: kindList, line: n.Line, col: n.Column, items: []*value{}}
		for i, c := range n.Content {
			v.items = append(v.items, r.node(c, joinPath(path, strconv.Itoa(i)), depth+1))
		}
		return r.tagged(n, v, path)
	case yaml.MappingNode:
		return r.tagged(n, r.mapping(n, path, depth), path)
	}
	r.errorf(n, path, "unexpected YAML node")
	return &value{kind: kindNull}
}

// tagged applies a CloudFormation tag written on a sequence or mapping.
func (r *yamlReader) tagged(n *yaml.Node, v *value, path string) *value {
	if n.Style&yaml.TaggedStyle == 0 || n.Tag == "!!seq" || n.Tag == "!!map" {
		return v
	}
	if key, ok := cfnTag(n.Tag); ok {
		return wrapCfn(key, v, n)
	}
	r.errorf(n, path, "unknown tag %s", n.Tag)
	return v
}

func (r *yamlReader) mapping(n *yaml.Node, path string, depth int) *value {
	m := newMap(n.Line, n.Column)
	m.keys, m.items = []string{}, []*value{}
	merged := map[string]bool{} // keys that came from a merge and may be overridden
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
			r.merge(m, merged, vn, path, depth)
			continue
		}
		key, ok := r.key(kn, path)
		if !ok {
			continue
		}
		kpath := joinPath(path, key)
		v := r.node(vn, kpath, depth+1)
		if m.index(key) >= 0 {
			if !merged[key] {
				r.errorf(kn, kpath, "duplicated mapping key %q", key)
				continue
			}
			delete(merged, key)
		}
		m.set(key, v)
	}
	return m
}

// merge applies a YAML merge key (<<): keys not yet present are added.
func (r *yamlReader) merge(m *value, merged map[string]bool, vn *yaml.Node, path string, depth int) {
	src := r.node(vn, path, depth+1)
	var sources []*value
	switch src.kind {
	case kindMap:
		sources = []*value{src}
	case kindList:
		sources = src.items
	}
	for _, s := range sources {
		if s.kind != kindMap {
			r.errorf(vn, path, "cannot merge a %s: a merge (<<) takes a mapping or a list of mappings", s.kind)
			return
		}
		for i, k := range s.keys {
			if m.index(k) < 0 {
				m.set(k, s.items[i])
				merged[k] = true
			}
		}
	}
	if len(sources) == 0 {
		r.errorf(vn, path, "cannot merge a %s: a merge (<<) takes a mapping or a list of mappings", src.kind)
	}
}

// key returns a mapping key as the string JavaScript makes of it.
func (r *yamlReader) key(kn *yaml.Node, path string) (string, bool) {
	if kn.Kind == yaml.AliasNode {
		kn = kn.Alias
	}
	if kn.Kind != yaml.ScalarNode {
		r.errorf(kn, path, "mapping keys must be scalars")
		return "", false
	}
	k := r.scalar(kn, path)
	switch k.kind {
	case kindString:
		return k.str, true
	case kindNull:
		return "null", true
	case kindBool:
		return strconv.FormatBool(k.b), true
	case kindNumber:
		return jsNumber(k.num), true
	}
	r.errorf(kn, path, "mapping keys must be scalars")
	return "", false
}

func (r *yamlReader) scalar(n *yaml.Node, path string) *value {
	line, col := n.Line, n.Column
	if n.Style&yaml.TaggedStyle != 0 && !strings.HasPrefix(n.Tag, "!!") {
		if key, ok := cfnTag(n.Tag); ok {
			return cfnScalar(key, n)
		}
		r.errorf(n, path, "unknown tag %s", n.Tag)
		return newString(n.Value, line, col)
	}
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if n.Style&yaml.TaggedStyle == 0 {
		if quoted {
			return newString(n.Value, line, col)
		}
		return resolvePlain(n.Value, line, col)
	}
	// An explicit standard tag: !!str, !!int, ...
	switch n.Tag {
	case "!!null":
		return &value{kind: kindNull, line: line, col: col}
	case "!!bool":
		if b, ok := yamlBool(n.Value); ok {
			return &value{kind: kindBool, b: b, line: line, col: col}
		}
	case "!!int":
		if f, ok := yamlInt(n.Value); ok {
			return newNumber(f, line, col)
		}
	case "!!float":
		if f, ok := yamlFloat(n.Value); ok {
			return newNumber(f, line, col)
		}
		if f, ok := yamlInt(n.Value); ok {
			return newNumber(f, line, col)
		}
	case "!!timestamp":
		if s, ok := yamlTimestamp(n.Value); ok {
			return newString(s, line, col)
		}
	case "!!str", "!!binary":
		return newString(n.Value, line, col)
	default:
		r.errorf(n, path, "unknown tag %s", n.Tag)
		return newString(n.Value, line, col)
	}
	r.errorf(n, path, "cannot read %q as %s", n.Value, n.Tag)
	return newString(n.Value, line, col)
}

// resolvePlain types an unquoted scalar with js-yaml's default schema
// (YAML 1.2 core plus timestamps): yes/no/on/off stay strings, TRUE is a
// boolean, 017 is decimal 17, 1_000 is a string, dates become ISO strings.
func resolvePlain(s string, line, col int) *value {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return &value{kind: kindNull, line: line, col: col}
	}
	if b, ok := yamlBool(s); ok {
		return &value{kind: kindBool, b: b, line: line, col: col}
	}
	if f, ok := yamlInt(s); ok {
		return newNumber(f, line, col)
	}
	if f, ok := yamlFloat(s); ok {
		return newNumber(f, line, col)
	}
	if t, ok := yamlTimestamp(s); ok {
		return newString(t, line, col)
	}
	return newString(s, line, col)
}

func yamlBool(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// yamlInt follows js-yaml's int type: optional sign, then 0b/0x/0o digits or
// decimal digits (leading zeros allowed, no underscores).
func yamlInt(s string) (float64, bool) {
	sign, body := 1.0, s
	if body != "" && (body[0] == '-' || body[0] == '+') {
		if body[0] == '-' {
			sign = -1
		}
		body = body[1:]
	}
	if body == "" {
		return 0, false
	}
	base, digits := 10, body
	if len(body) > 1 && body[0] == '0' {
		switch body[1] {
		case 'b':
			base, digits = 2, body[2:]
		case 'x':
			base, digits = 16, body[2:]
		case 'o':
			base, digits = 8, body[2:]
		}
	}
	if digits == "" {
		return 0, false
	}
	f := 0.0
	for _, c := range digits {
		d := digitValue(c)
		if d < 0 || d >= base {
			return 0, false
		}
		f = f*float64(base) + float64(d)
	}
	if math.IsInf(f, 0) {
		return 0, false
	}
	if base == 10 {
		// Parse again for correct rounding of long decimals.
		if g, err := strconv.ParseFloat(digits, 64); err == nil {
			f = g
		}
	}
	return sign * f, true
}

func digitValue(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

var yamlFloatRE = regexp.MustCompile(`^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)

func yamlFloat(s string) (float64, bool) {
	if !yamlFloatRE.MatchString(s) {
		return 0, false
	}
	l := strings.ToLower(s)
	switch strings.TrimLeft(l, "+-") {
	case ".inf":
		if l[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case ".nan":
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var (
	yamlDateRE      = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})$`)
	yamlTimestampRE = regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?$`)
)

// yamlTimestamp converts a YAML timestamp to the string JSON.stringify makes
// of the Date js-yaml builds (Date.prototype.toISOString).
func yamlTimestamp(s string) (string, bool) {
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	var t time.Time
	if m := yamlDateRE.FindStringSubmatch(s); m != nil {
		t = time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), 0, 0, 0, 0, time.UTC)
	} else if m := yamlTimestampRE.FindStringSubmatch(s); m != nil {
		ms := 0
		if m[7] != "" {
			frac := (m[7] + "00")[:3]
			ms = atoi(frac)
		}
		t = time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), ms*int(time.Millisecond), time.UTC)
		if m[9] != "" {
			delta := time.Duration(atoi(m[10])*60+atoi(m[11])) * time.Minute
			if m[9] == "-" {
				delta = -delta
			}
			t = t.Add(-delta)
		}
	} else {
		return "", false
	}
	return t.Format("2006-01-02T15:04:05.000Z"), true
}

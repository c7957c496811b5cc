package spec

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// kind is the JSON type of a configuration value. The Framework works on the
// JSON form of the YAML document (read.js round-trips it through JSON), so
// the resolver and the printers do too.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindMap
	kindList
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "object", "array"}[k]
}

// value is one node of the configuration document. Maps keep their keys in
// file order (JavaScript objects keep insertion order, and print shows it).
type value struct {
	kind kind
	b    bool
	num  float64
	str  string
	keys []string // kindMap: keys, parallel to items
	// items holds map values (parallel to keys) or list elements.
	items []*value
	// line and col locate the value in the file it came from (0 when made up).
	line, col int
}

func newString(s string, line, col int) *value {
	return &value{kind: kindString, str: s, line: line, col: col}
}

func newNumber(f float64, line, col int) *value {
	return &value{kind: kindNumber, num: f, line: line, col: col}
}

func newMap(line, col int) *value { return &value{kind: kindMap, line: line, col: col} }

// get returns the map entry under key, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindMap {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.items[i]
		}
	}
	return nil
}

// index finds key in a map, -1 when absent.
func (v *value) index(key string) int {
	for i, k := range v.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// set replaces the entry under key, or appends it (as assigning a new
// property to a JavaScript object does).
func (v *value) set(key string, x *value) {
	if i := v.index(key); i >= 0 {
		v.items[i] = x
		return
	}
	v.keys = append(v.keys, key)
	v.items = append(v.items, x)
}

func (v *value) del(key string) {
	if i := v.index(key); i >= 0 {
		v.keys = append(v.keys[:i:i], v.keys[i+1:]...)
		v.items = append(v.items[:i:i], v.items[i+1:]...)
	}
}

// child follows one property-path key: a map key, or a list index.
func (v *value) child(key string) *value {
	switch v.kind {
	case kindMap:
		return v.get(key)
	case kindList:
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= len(v.items) || strconv.Itoa(i) != key {
			return nil
		}
		return v.items[i]
	}
	return nil
}

// isNull reports whether v is absent or null (JavaScript `== null`).
func (v *value) isNull() bool { return v == nil || v.kind == kindNull }

// clone copies v deeply, so that a value referenced from two places (a
// ${self:} result, a YAML alias) can be changed in one without the other.
func (v *value) clone() *value {
	if v == nil {
		return nil
	}
	c := *v
	if v.keys != nil {
		c.keys = append([]string(nil), v.keys...)
	}
	if v.items != nil {
		c.items = make([]*value, len(v.items))
		for i, it := range v.items {
			c.items[i] = it.clone()
		}
	}
	return &c
}

// at gives v the position p when it has none, so that a resolved value is
// reported where the variable was written.
func (v *value) at(line, col int) *value {
	v.line, v.col = line, col
	return v
}

// jsNumber formats a number as JavaScript's String(n) and JSON.stringify do.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// coerceString turns a value into the string it contributes to a larger
// string, as the Framework's coerceString does; ok is false for null,
// objects and arrays (see resolve.go for why arrays are refused too).
func coerceString(v *value) (string, bool) {
	switch v.kind {
	case kindString:
		return v.str, true
	case kindNumber:
		return jsNumber(v.num), true
	case kindBool:
		return strconv.FormatBool(v.b), true
	}
	return "", false
}

// JSON writes v as JSON.stringify(v, null, 2) would.
func (v *value) appendJSON(buf *bytes.Buffer, indent string) {
	switch v.kind {
	case kindNull:
		buf.WriteString("null")
	case kindBool:
		buf.WriteString(strconv.FormatBool(v.b))
	case kindNumber:
		if math.IsNaN(v.num) || math.IsInf(v.num, 0) {
			buf.WriteString("null") // as JSON.stringify does
		} else {
			buf.WriteString(jsNumber(v.num))
		}
	case kindString:
		appendJSONString(buf, v.str)
	case kindMap, kindList:
		open, close := byte('{'), byte('}')
		if v.kind == kindList {
			open, close = '[', ']'
		}
		buf.WriteByte(open)
		if len(v.items) == 0 {
			buf.WriteByte(close)
			return
		}
		inner := indent + "  "
		for i, it := range v.items {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
			buf.WriteString(inner)
			if v.kind == kindMap {
				appendJSONString(buf, v.keys[i])
				buf.WriteString(": ")
			}
			it.appendJSON(buf, inner)
		}
		buf.WriteByte('\n')
		buf.WriteString(indent)
		buf.WriteByte(close)
	}
}

func appendJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode adds a newline
}

var yaml11Bools = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true}

// yamlNode converts v to a yaml.v3 node for printing. Strings that would read
// back as another type are quoted by the encoder.
func (v *value) yamlNode() *yaml.Node {
	switch v.kind {
	case kindNull:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case kindBool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v.b)}
	case kindNumber:
		switch {
		case math.IsNaN(v.num):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".nan"}
		case math.IsInf(v.num, 1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".inf"}
		case math.IsInf(v.num, -1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "-.inf"}
		}
		tag := "!!float"
		if v.num == math.Trunc(v.num) && math.Abs(v.num) < 1e21 {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: jsNumber(v.num)}
	case kindString:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.str}
		switch {
		case strings.Contains(v.str, "\n"):
			n.Style = yaml.LiteralStyle
		case yaml11Bools[strings.ToLower(v.str)]:
			// Strings to YAML 1.2, booleans to YAML 1.1 readers: quote them.
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	case kindMap:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i, k := range v.keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v.items[i].yamlNode())
		}
		return n
	default:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, it := range v.items {
			n.Content = append(n.Content, it.yamlNode())
		}
		return n
	}
}

// is reports whether v is present and of kind k.
func (v *value) is(k kind) bool { return v != nil && v.kind == k }

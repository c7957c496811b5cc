package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// This file is a port of the Framework's variable syntax parser
// (lib/configuration/variables/parse.js, v3). It is a state machine rather
// than a regular expression because that is what decides, character by
// character, what counts as a variable: ${AWS::Region} and ${stage} are not
// variables (no lower-case "source:" prefix), \${ escapes, and variables
// nest in addresses and parameters. Keeping the same states keeps the same
// corner cases.

// varRef is one ${...} occurrence in a string (or an escape).
type varRef struct {
	start, end int  // byte offsets in the string (relative to the parsed meta)
	whole      bool // the variable is the entire string
	escape     bool // a \${ escape: text holds what it stands for
	text       string
	sources    []*varSource
}

// varSource is one entry of a variable's fallback chain: a typed source
// (type with optional params and address) or a literal.
type varSource struct {
	typ       string // "" for a literal
	hasParams bool
	params    []*strMeta
	address   *strMeta
	literal   *value // for literals
}

// strMeta is a string that may contain variables (an address or a param).
type strMeta struct {
	val  *value // null, or a literal (string, number, bool)
	vars []*varRef
}

// VariableSyntaxError is a malformed ${...} expression.
type VariableSyntaxError struct {
	Input string
	Msg   string
}

func (e *VariableSyntaxError) Error() string { return e.Msg }

type parseState int

const (
	stOut parseState = iota
	stEscapeVar
	stEscapeVarDollar
	stMaybeVariableOpen
	stMaybeTypeStart
	stMaybeNextSourceStart
	stMaybeType
	stTypeOrSourceLiteral
	stParamStart
	stParam
	stAfterParamString
	stMaybeAddressOpen
	stMaybeAddressStart
	stAddress
	stAfterAddressString
	stAfterSourceLiteralString
	stForeign
	stEscapeString
	stDoubleQuotedString
	stSingleQuotedString
)

// refList and srcList are shared by reference, as the JavaScript arrays they
// replace are: a nested context's list is the same list as the meta's.
type refList struct{ items []*varRef }
type srcList struct{ items []*varSource }

type parseContext struct {
	state            parseState
	variableStart    int
	contextStart     int
	variables        *refList
	contextVariables *refList
	currentSource    *varSource
	sources          *srcList
}

type varParser struct {
	value            string
	index            int
	state            parseState
	stringContext    parseState
	variables        *refList
	sources          *srcList
	contexts         []parseContext
	hasContexts      bool
	currentSource    *varSource
	contextStart     int
	contextVariables *refList
	escapeVarStart   int // -1 for none
	variableStart    int
	sourceStart      int
	paramStart       int
	addressStart     int
}

func isLowerAlpha(c byte) bool { return c >= 'a' && c <= 'z' }

func isAlphaNumeric(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

var sourceTypeRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// parseVariables returns the variables in s, nil when there are none.
func parseVariables(s string) ([]*varRef, error) {
	p := &varParser{value: s, escapeVarStart: -1}
	return p.parse()
}

func (p *varParser) fail(format string, args ...any) error {
	return &VariableSyntaxError{Input: p.value, Msg: fmt.Sprintf(format, args...)}
}

func (p *varParser) finalizeSource() {
	if p.sources == nil {
		p.sources = &srcList{}
	}
	p.sources.items = append(p.sources.items, p.currentSource)
	p.currentSource = nil
	p.state = stMaybeNextSourceStart
}

func (p *varParser) finalizeVariable() {
	p.finalizeSource()
	if p.variables == nil {
		p.variables = &refList{}
	}
	p.variables.items = append(p.variables.items, &varRef{
		start:   p.variableStart - p.contextStart,
		end:     p.index + 1 - p.contextStart,
		sources: p.sources.items,
	})
	p.sources = nil
	p.releaseContext()
}

func (p *varParser) registerVarEscape() {
	if p.variables == nil {
		p.variables = &refList{}
	}
	n := int(math.Ceil(float64(p.index-1-p.escapeVarStart-1) / 2))
	p.variables.items = append(p.variables.items, &varRef{
		start: p.escapeVarStart - p.contextStart, end: p.index - p.contextStart,
		escape: true, text: strings.Repeat(`\`, n) + p.value[p.index-1:p.index],
	})
	p.escapeVarStart = -1
}

func (p *varParser) registerSlashEscape() {
	if p.variables == nil {
		p.variables = &refList{}
	}
	n := int(math.Ceil(float64(p.index-1-p.escapeVarStart-1) / 2))
	p.variables.items = append(p.variables.items, &varRef{
		start: p.escapeVarStart - p.contextStart, end: p.index - 1 - p.contextStart,
		escape: true, text: strings.Repeat(`\`, n),
	})
	p.escapeVarStart = -1
}

// registerContext enters a nested variable. newContextStart != 0 starts a
// new meta (an address or param) whose offsets count from it.
func (p *varParser) registerContext(newContextStart int) {
	if p.variables == nil {
		p.variables = &refList{}
	}
	if newContextStart != 0 && p.contextVariables == nil {
		p.contextVariables = &refList{}
	}
	p.contexts = append(p.contexts, parseContext{
		state: p.state, variableStart: p.variableStart, contextStart: p.contextStart,
		variables: p.variables, contextVariables: p.contextVariables,
		currentSource: p.currentSource, sources: p.sources,
	})
	p.hasContexts = true
	p.state = stMaybeVariableOpen
	p.variableStart = p.index
	p.sources = nil
	if newContextStart != 0 {
		p.contextStart = newContextStart
		p.variables = p.contextVariables
	}
}

func (p *varParser) releaseContext() {
	if !p.hasContexts || len(p.contexts) == 0 {
		p.state = stOut
		return
	}
	c := p.contexts[len(p.contexts)-1]
	p.contexts = p.contexts[:len(p.contexts)-1]
	if len(p.contexts) == 0 {
		p.contexts, p.hasContexts = nil, false
	}
	p.state, p.variableStart, p.variables = c.state, c.variableStart, c.variables
	p.contextVariables, p.currentSource, p.sources = c.contextVariables, c.currentSource, c.sources
	if p.state == stParam {
		p.paramStart = p.contextStart
	}
	if p.state == stAddress {
		p.addressStart = p.contextStart
	}
	p.contextStart = c.contextStart
}

// inNonForeignContext is `contexts && contexts.some(c => c.state !== 'foreign')`.
func (p *varParser) inNonForeignContext() bool {
	for _, c := range p.contexts {
		if c.state != stForeign {
			return true
		}
	}
	return false
}

func normalizeRefs(s string, refs []*varRef) []*varRef {
	if len(refs) == 0 {
		return nil
	}
	if len(refs) == 1 && refs[0].start == 0 && refs[0].end == len(s) {
		refs[0].whole = true
	}
	return refs
}

// generateMeta mirrors `{ value: metaValue || null, variables }`.
func generateMeta(v *value, refs *refList) *strMeta {
	m := &strMeta{val: v}
	if v == nil || jsFalsy(v) {
		m.val = &value{kind: kindNull}
	}
	if refs != nil && len(refs.items) > 0 {
		s := ""
		if m.val.kind == kindString {
			s = m.val.str
		}
		m.vars = normalizeRefs(s, refs.items)
	}
	return m
}

func jsFalsy(v *value) bool {
	switch v.kind {
	case kindNull:
		return true
	case kindBool:
		return !v.b
	case kindNumber:
		return v.num == 0 || math.IsNaN(v.num)
	case kindString:
		return v.str == ""
	}
	return false
}

func (p *varParser) parseString(start int) (*value, error) {
	raw := p.value[start:p.index]
	if p.value[start] == '\'' {
		t := strings.TrimSpace(raw)
		if len(t) < 2 {
			return newString("", 0, 0), nil
		}
		return newString(t[1:len(t)-1], 0, 0), nil
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, p.fail("Invalid string literal at index %d in %q: %v", start, p.value, err)
	}
	return newString(s, 0, 0), nil
}

func (p *varParser) parseLiteralSource(literal string, fallbackToInput bool) (*value, error) {
	switch literal {
	case "true":
		return &value{kind: kindBool, b: true}, nil
	case "false":
		return &value{kind: kindBool}, nil
	case "null":
		return &value{kind: kindNull}, nil
	}
	if f, ok := jsToNumber(literal); ok {
		return newNumber(f, 0, 0), nil
	}
	if fallbackToInput {
		return newString(literal, 0, 0), nil
	}
	return nil, p.fail("Invalid literal source %q at index %d in %q", literal, p.sourceStart, p.value)
}

var jsDecimalRE = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// jsToNumber is JavaScript's Number(string), ok=false where it gives NaN.
func jsToNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return 0, true
	case "Infinity", "+Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			f := 0.0
			for _, c := range s[2:] {
				d := digitValue(c)
				if d < 0 || d >= base {
					return 0, false
				}
				f = f*float64(base) + float64(d)
			}
			return f, true
		}
	}
	if !jsDecimalRE.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func (p *varParser) parse() ([]*varRef, error) {
	v := p.value
	p.state = stOut
	for p.index = 0; p.index < len(v); p.index++ {
		c := v[p.index]
		switch p.state {
		case stOut:
			switch c {
			case '\\':
				if p.escapeVarStart < 0 {
					p.escapeVarStart = p.index
				}
				p.state = stEscapeVar
			case '$':
				p.variableStart = p.index
				p.state = stMaybeVariableOpen
			default:
				p.escapeVarStart = -1
			}
		case stEscapeVar:
			if c == '$' {
				p.state = stEscapeVarDollar
			} else {
				if c != '\\' {
					p.escapeVarStart = -1
				}
				p.state = stOut
			}
		case stEscapeVarDollar:
			if c == '{' {
				p.registerVarEscape()
				p.state = stOut
			} else {
				p.escapeVarStart = -1
				switch c {
				case '\\':
					p.escapeVarStart = p.index
					p.state = stEscapeVar
				case '$':
					p.variableStart = p.index
					p.state = stMaybeVariableOpen
				default:
					p.state = stOut
				}
			}
		case stMaybeVariableOpen:
			if c == '{' {
				if p.escapeVarStart >= 0 {
					p.registerSlashEscape()
				}
				p.state = stMaybeTypeStart
			} else {
				p.escapeVarStart = -1
				if c != '$' {
					p.releaseContext()
				}
			}
		case stMaybeTypeStart:
			switch {
			case isLowerAlpha(c):
				p.sourceStart = p.index
				p.state = stMaybeType
			case p.inNonForeignContext():
				return nil, p.fail("Invalid variable type at index %d in %q", p.index, v)
			case c == '}':
				p.releaseContext()
			default:
				p.state = stForeign
				if c == '$' {
					p.registerContext(p.contextStart)
				}
			}
		case stMaybeNextSourceStart:
			if c == ' ' {
				continue
			}
			p.sourceStart = p.index
			switch {
			case isAlphaNumeric(c):
				p.state = stTypeOrSourceLiteral
			case c == '"':
				p.stringContext = stAfterSourceLiteralString
				p.state = stDoubleQuotedString
			case c == '\'':
				p.stringContext = stAfterSourceLiteralString
				p.state = stSingleQuotedString
			default:
				return nil, p.fail("Invalid variable source at index %d in %q", p.index, v)
			}
		case stMaybeType:
			switch {
			case c == ':':
				p.currentSource = &varSource{typ: v[p.sourceStart:p.index]}
				p.state = stMaybeAddressStart
			case c == '(':
				p.currentSource = &varSource{typ: v[p.sourceStart:p.index], hasParams: true}
				p.state = stParamStart
			case !isAlphaNumeric(c):
				if p.inNonForeignContext() {
					return nil, p.fail("Invalid variable type at index %d in %q", p.sourceStart, v)
				}
				if c == '}' {
					p.releaseContext()
				} else {
					p.state = stForeign
					if c == '$' {
						p.registerContext(p.contextStart)
					}
				}
			}
		case stTypeOrSourceLiteral:
			switch {
			case c == ' ':
				continue
			case c == ':' || c == '(':
				typ := v[p.sourceStart:p.index]
				if !sourceTypeRE.MatchString(typ) {
					return nil, p.fail("Invalid variable source at index %d in %q", p.sourceStart, v)
				}
				p.currentSource = &varSource{typ: typ, hasParams: c == '('}
				if c == ':' {
					p.state = stMaybeAddressStart
				} else {
					p.state = stParamStart
				}
			case c == '}':
				lit, err := p.parseLiteralSource(strings.TrimSpace(v[p.sourceStart:p.index]), false)
				if err != nil {
					return nil, err
				}
				p.currentSource = &varSource{literal: lit}
				p.finalizeVariable()
			case !isAlphaNumeric(c):
				return nil, p.fail("Invalid variable source at index %d in %q", p.sourceStart, v)
			}
		case stParamStart:
			switch c {
			case ' ':
				continue
			case ')':
				p.state = stMaybeAddressOpen
			case ',':
				p.currentSource.params = append(p.currentSource.params, &strMeta{val: &value{kind: kindNull}})
			case '}':
				return nil, p.fail("Invalid variable param at index %d in %q", p.index, v)
			default:
				p.paramStart = p.index
				switch c {
				case '"':
					p.stringContext = stAfterParamString
					p.state = stDoubleQuotedString
				case '\'':
					p.stringContext = stAfterParamString
					p.state = stSingleQuotedString
				default:
					p.state = stParam
					p.contextVariables = nil
					if c == '$' {
						p.registerContext(p.paramStart)
					}
				}
			}
		case stParam:
			switch c {
			case ')', ',':
				raw := strings.TrimSpace(v[p.paramStart:p.index])
				if c == ',' || raw != "" {
					pv := newString(raw, 0, 0)
					if p.contextVariables == nil {
						pv, _ = p.parseLiteralSource(raw, true)
					}
					p.currentSource.params = append(p.currentSource.params, generateMeta(pv, p.contextVariables))
				}
				if c == ')' {
					p.state = stMaybeAddressOpen
				} else {
					p.state = stParamStart
				}
			case '}':
				return nil, p.fail("Invalid variable param at index %d in %q", p.paramStart, v)
			case '$':
				p.registerContext(p.paramStart)
			}
		case stAfterParamString:
			switch c {
			case ' ':
				continue
			case ')', ',':
				s, err := p.parseString(p.paramStart)
				if err != nil {
					return nil, err
				}
				p.currentSource.params = append(p.currentSource.params, &strMeta{val: s})
				if c == ')' {
					p.state = stMaybeAddressOpen
				} else {
					p.state = stParamStart
				}
			default:
				return nil, p.fail("Invalid variable param at index %d in %q", p.paramStart, v)
			}
		case stMaybeAddressOpen:
			switch c {
			case ' ':
				continue
			case ':':
				p.state = stMaybeAddressStart
			case '}':
				p.finalizeVariable()
			case ',':
				p.finalizeSource()
			default:
				return nil, p.fail("Invalid variable address at index %d in %q", p.index, v)
			}
		case stMaybeAddressStart:
			switch c {
			case ' ':
				continue
			case '}':
				p.finalizeVariable()
			case ',':
				p.finalizeSource()
			default:
				p.addressStart = p.index
				switch c {
				case ':':
					allForeign := true
					for _, ctx := range p.contexts {
						if ctx.state != stForeign {
							allForeign = false
						}
					}
					if !p.currentSource.hasParams && allForeign {
						// "${AWS::Region}"-like: not a variable.
						p.currentSource = nil
						p.state = stForeign
					} else {
						return nil, p.fail("Invalid variable address at index %d in %q", p.addressStart, v)
					}
				case '"':
					p.stringContext = stAfterAddressString
					p.state = stDoubleQuotedString
				case '\'':
					p.stringContext = stAfterAddressString
					p.state = stSingleQuotedString
				default:
					p.state = stAddress
					p.contextVariables = nil
					if c == '$' {
						p.registerContext(p.addressStart)
					}
				}
			}
		case stAddress:
			switch c {
			case '}', ',':
				p.currentSource.address = generateMeta(newString(strings.TrimSpace(v[p.addressStart:p.index]), 0, 0), p.contextVariables)
				if c == '}' {
					p.finalizeVariable()
				} else {
					p.finalizeSource()
				}
			case '$':
				p.registerContext(p.addressStart)
			}
		case stAfterAddressString:
			switch c {
			case ' ':
				continue
			case '}', ',':
				s, err := p.parseString(p.addressStart)
				if err != nil {
					return nil, err
				}
				p.currentSource.address = &strMeta{val: s}
				if c == '}' {
					p.finalizeVariable()
				} else {
					p.finalizeSource()
				}
			default:
				return nil, p.fail("Invalid variable address at index %d in %q", p.addressStart, v)
			}
		case stAfterSourceLiteralString:
			switch c {
			case ' ':
				continue
			case '}':
				s, err := p.parseString(p.sourceStart)
				if err != nil {
					return nil, err
				}
				p.currentSource = &varSource{literal: s}
				p.finalizeVariable()
			default:
				return nil, p.fail("Invalid variable source at index %d in %q", p.sourceStart, v)
			}
		case stForeign:
			switch c {
			case '}':
				p.releaseContext()
			case '$':
				p.registerContext(p.contextStart)
			}
		case stEscapeString:
			p.state = stDoubleQuotedString
		case stDoubleQuotedString:
			switch c {
			case '"':
				p.state = p.stringContext
			case '\\':
				p.state = stEscapeString
			}
		case stSingleQuotedString:
			if c == '\'' {
				p.state = p.stringContext
			}
		}
	}
	if p.currentSource != nil || p.sources != nil {
		return nil, p.fail("Missing variable closing bracket in %s", v)
	}
	if p.variables == nil {
		return nil, nil
	}
	return normalizeRefs(v, p.variables.items), nil
}

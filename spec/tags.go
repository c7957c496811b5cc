package spec

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// cfnFunctions are the CloudFormation short-form tags the Framework's YAML
// schema knows (@serverless/utils/cloudformation-schema.js). Each accepts a
// scalar, a sequence or a mapping. !Transform is not among them: the
// Framework rejects it as an unknown tag, and so do we.
var cfnFunctions = map[string]bool{
	"And": true, "Base64": true, "Cidr": true, "Condition": true, "Equals": true,
	"FindInMap": true, "GetAtt": true, "GetAZs": true, "If": true, "ImportValue": true,
	"Join": true, "Not": true, "Or": true, "Ref": true, "Select": true, "Split": true,
	"Sub": true,
}

// cfnTag returns the long-form key for a short-form tag such as "!GetAtt",
// or ok=false if tag is not one of the Framework's.
func cfnTag(tag string) (key string, ok bool) {
	name, found := strings.CutPrefix(tag, "!")
	if !found || strings.HasPrefix(name, "!") || !cfnFunctions[name] {
		return "", false
	}
	if name == "Ref" || name == "Condition" {
		return name, true
	}
	return "Fn::" + name, true
}

// cfnScalar builds the long form of a tagged scalar exactly as the
// Framework's schema does: the scalar is taken as written (`!Ref 5` is
// {"Ref": "5"}), an empty plain scalar is null, and !GetAtt's dot syntax
// splits at the first dot (`!GetAtt a.b.c` is ["a", "b.c"]).
func cfnScalar(key string, n *yaml.Node) *value {
	var arg *value
	switch {
	case n.Value == "" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0:
		arg = &value{kind: kindNull, line: n.Line, col: n.Column}
	case key == "Fn::GetAtt":
		first, rest, _ := strings.Cut(n.Value, ".")
		arg = &value{kind: kindList, line: n.Line, col: n.Column, items: []*value{
			newString(first, n.Line, n.Column), newString(rest, n.Line, n.Column),
		}}
	default:
		arg = newString(n.Value, n.Line, n.Column)
	}
	return wrapCfn(key, arg, n)
}

func wrapCfn(key string, arg *value, n *yaml.Node) *value {
	m := newMap(n.Line, n.Column)
	m.set(key, arg)
	return m
}

package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file, located by position and by
// the dotted property path (list indexes as numbers: functions.hello.events.0).
type Error struct {
	File string
	Line int // 1-based; 0 when the problem has no position (e.g. a missing key at top level)
	Col  int
	Path string
	Msg  string
	Err  error // underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every configuration problem found in one Load, so that they can
// all be reported at once. Load returns it (as error) for configuration
// problems only; I/O problems are returned as plain wrapped errors, so
// errors.As(err, &spec.Errors{}) tells the two apart.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors orders problems as they appear in the file and drops repeats
// (a provider-level limit is checked once per function that inherits it).
func sortErrors(es []*Error) []*Error {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 {
			p := es[i-1]
			if p.File == e.File && p.Line == e.Line && p.Col == e.Col && p.Path == e.Path && p.Msg == e.Msg {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

// joinPath appends a key to a dotted property path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

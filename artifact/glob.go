package artifact

import (
	"strings"
	"unicode/utf8"
)

// This file is a small glob matcher with the semantics micromatch gives the
// Serverless Framework's package.patterns (with the Framework's options:
// dot: true, paths relative to the service directory, "/" separators):
//
//   - "*" matches any run of characters inside one path segment, dot files included;
//   - "?" matches exactly one character (not "/");
//   - "[abc]", "[a-z]", "[!x]" and "[^x]" match one character of (not of) a class;
//     an unclosed "[" is a literal;
//   - "**" as a whole segment matches zero or more segments; elsewhere it is "*";
//   - "{a,b}" expands into alternatives (nested braces work; ranges like {1..3} do not);
//   - "\x" matches x literally;
//   - a leading "./" is ignored, as picomatch does.
//
// One deliberate extension: micromatch only ever matches files, so a pattern
// that names a directory ("node_modules", "**/__pycache__", "docs/") matches
// nothing in the Framework. Here such a pattern — one whose last segment has no
// wildcard, or that ends in "/" — also matches every file below a directory it
// matches. That only adds matches where the Framework's pattern was a no-op,
// and it is what people writing "!node_modules" mean.

// maxBraceExpansions bounds "{a,b}{c,d}..." so that a hostile or careless
// pattern cannot make compilation explode.
const maxBraceExpansions = 1024

// glob is one compiled alternative of a pattern.
type glob struct {
	segs []segment
	// dirOnly: the pattern ended in "/", so it only names directories.
	dirOnly bool
	// names a directory: a literal last segment or a trailing "/" also
	// matches the contents of a directory it matches.
	dirContents bool
}

// segment is one "/"-separated piece of a pattern.
type segment struct {
	globstar bool // the whole segment is "**"
	toks     []token
}

type tokenKind uint8

const (
	tokLiteral tokenKind = iota
	tokAny               // ?
	tokStar              // *
	tokClass             // [...]
)

type token struct {
	kind   tokenKind
	r      rune        // tokLiteral
	negate bool        // tokClass
	ranges []runeRange // tokClass
}

type runeRange struct{ lo, hi rune }

// compileGlob compiles a pattern without its leading "!" into its brace
// alternatives. It never fails: malformed constructs are literals, as in
// micromatch.
func compileGlob(pattern string) []glob {
	alts := expandBraces(pattern, maxBraceExpansions)
	out := make([]glob, 0, len(alts))
	for _, a := range alts {
		out = append(out, compileOne(a))
	}
	return out
}

func compileOne(p string) glob {
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	var g glob
	if strings.HasSuffix(p, "/") {
		g.dirOnly = true
		g.dirContents = true
		p = strings.TrimRight(p, "/")
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			// "a//b" is "a/b"; a leading "/" (an absolute pattern) leaves a
			// first segment of "" that can never match a relative path.
			if len(g.segs) == 0 && strings.HasPrefix(p, "/") {
				g.segs = append(g.segs, segment{toks: []token{{kind: tokLiteral, r: '/'}}})
			}
			continue
		}
		if s == "**" {
			g.segs = append(g.segs, segment{globstar: true})
			continue
		}
		g.segs = append(g.segs, segment{toks: compileSegment(s)})
	}
	if n := len(g.segs); n > 0 && !g.segs[n-1].globstar && isLiteral(g.segs[n-1].toks) {
		g.dirContents = true
	}
	return g
}

func isLiteral(toks []token) bool {
	for _, t := range toks {
		if t.kind != tokLiteral {
			return false
		}
	}
	return true
}

func compileSegment(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\\':
			if i+1 < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[i+1:])
				toks = append(toks, token{kind: tokLiteral, r: r2})
				i += 1 + w2
				continue
			}
			toks = append(toks, token{kind: tokLiteral, r: '\\'})
		case '*':
			// "**" inside a segment is just "*"; collapse runs so matching
			// stays linear.
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '?':
			toks = append(toks, token{kind: tokAny})
		case '[':
			if t, n, ok := parseClass(s[i:]); ok {
				toks = append(toks, t)
				i += n
				continue
			}
			toks = append(toks, token{kind: tokLiteral, r: '['})
		default:
			toks = append(toks, token{kind: tokLiteral, r: r})
		}
		i += w
	}
	return toks
}

// parseClass parses "[...]" at the start of s and reports how many bytes it
// used; ok is false when the class is not closed.
func parseClass(s string) (token, int, bool) {
	t := token{kind: tokClass}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		t.negate = true
		i++
	}
	first := true
	for i < len(s) {
		if s[i] == ']' && !first {
			return t, i + 1, true
		}
		first = false
		lo, w := classRune(s[i:])
		i += w
		hi := lo
		// "a-z" is a range unless the "-" is last ("[a-]" matches "a" and "-").
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, w = classRune(s[i+1:])
			i += 1 + w
		}
		if hi < lo {
			lo, hi = hi, lo
		}
		t.ranges = append(t.ranges, runeRange{lo, hi})
	}
	return token{}, 0, false
}

func classRune(s string) (rune, int) {
	if s[0] == '\\' && len(s) > 1 {
		r, w := utf8.DecodeRuneInString(s[1:])
		return r, 1 + w
	}
	return utf8.DecodeRuneInString(s)
}

// expandBraces turns "a{b,c}d" into ["abd", "acd"]. A "{" without a matching
// "}" or without a top-level "," is a literal. At most limit results.
func expandBraces(p string, limit int) []string {
	open, close, commas := findBraces(p)
	if open < 0 {
		return []string{p}
	}
	prefix, suffix := p[:open], p[close+1:]
	var out []string
	start := open + 1
	for _, c := range append(commas, close) {
		for _, e := range expandBraces(prefix+p[start:c]+suffix, limit) {
			if len(out) >= limit {
				return out
			}
			out = append(out, e)
		}
		start = c + 1
	}
	return out
}

// findBraces finds the first brace group with a top-level comma.
func findBraces(p string) (open, close int, commas []int) {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			depth, cs := 0, []int(nil)
			for j := i; j < len(p); j++ {
				switch p[j] {
				case '\\':
					j++
				case '{':
					depth++
				case '}':
					depth--
					if depth == 0 {
						if len(cs) > 0 {
							return i, j, cs
						}
						j = len(p) // "{a}": literal; look for a later group
					}
				case ',':
					if depth == 1 {
						cs = append(cs, j)
					}
				}
			}
		}
	}
	return -1, -1, nil
}

// matchFile reports whether the glob matches the file at rel ("a/b/c.js").
func (g glob) matchFile(parts []string) bool {
	if !g.dirOnly && matchSegments(g.segs, parts) {
		return true
	}
	if g.dirContents {
		for k := len(parts) - 1; k >= 1; k-- {
			if matchSegments(g.segs, parts[:k]) {
				return true
			}
		}
	}
	return false
}

// matchSegments matches pattern segments against path segments, "**"
// standing for any number of segments. It is the classic wildcard algorithm
// lifted to segments: on a mismatch, resume after the last "**" with one more
// segment consumed by it. That is linear enough and cannot blow up.
func matchSegments(segs []segment, parts []string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for pi < len(parts) {
		if si < len(segs) && segs[si].globstar {
			star, mark = si, pi
			si++
			continue
		}
		if si < len(segs) && matchSegment(segs[si].toks, parts[pi]) {
			si++
			pi++
			continue
		}
		if star >= 0 {
			mark++
			si, pi = star+1, mark
			continue
		}
		return false
	}
	for si < len(segs) && segs[si].globstar {
		si++
	}
	return si == len(segs)
}

// matchSegment matches one segment's tokens against one path segment, with
// the same backtracking scheme for "*".
func matchSegment(toks []token, name string) bool {
	rs := []rune(name)
	ti, ni := 0, 0
	star, mark := -1, 0
	for ni < len(rs) {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case tokStar:
				star, mark = ti, ni
				ti++
				continue
			case tokAny:
				ti++
				ni++
				continue
			case tokLiteral:
				if t.r == rs[ni] {
					ti++
					ni++
					continue
				}
			case tokClass:
				if t.matchClass(rs[ni]) {
					ti++
					ni++
					continue
				}
			}
		}
		if star >= 0 {
			mark++
			ti, ni = star+1, mark
			continue
		}
		return false
	}
	for ti < len(toks) && toks[ti].kind == tokStar {
		ti++
	}
	return ti == len(toks)
}

func (t token) matchClass(r rune) bool {
	in := false
	for _, rr := range t.ranges {
		if r >= rr.lo && r <= rr.hi {
			in = true
			break
		}
	}
	return in != t.negate
}

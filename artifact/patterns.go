package artifact

import (
	"os"
	"path/filepath"
	"strings"
)

// StateDir is asyncfn's own state directory beside serverless.yml (the
// emulator's database and extracted code). It is never packaged, whatever the
// patterns say: it is large, private and would nest every old version of the
// code inside the new one.
const StateDir = ".asyncfn"

// stateMarkers are the files every emulator state directory holds, whatever
// its name (asyncfn local start / dev --state-dir): the database
// (localemu/store.DBFile) and the lock file the running emulator holds
// (localemu's lockStateDir), which stays behind when it stops. A user's own
// state.db alone does not make a directory one.
var stateMarkers = []string{"state.db", "lock"}

// IsStateDir reports whether dir is an asyncfn emulator's state directory:
// it holds every one of the marker files. Build never packages such a
// directory, named .asyncfn or not, whatever the patterns say.
func IsStateDir(dir string) bool {
	for _, name := range stateMarkers {
		st, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// DefaultExcludes returns the patterns excluded before the user's patterns
// are applied, as the Serverless Framework v3 does
// (lib/plugins/package/lib/packageService.js: defaultExcludes plus the
// configuration file in use). The Framework excludes only the one
// configuration file it loaded; Build does not know which one that is, so it
// excludes every name the Framework can load (serverless.{yml,yaml,json,js,ts},
// at the top of root). Like in the Framework, a later user pattern may
// re-include any of these.
//
// A fresh slice is returned on every call so callers cannot change the
// defaults for anyone else.
func DefaultExcludes() []string {
	return []string{
		".git/**",
		".gitignore",
		".DS_Store",
		"npm-debug.log",
		"yarn-*.log",
		".serverless/**",
		".serverless_plugins/**",
		"serverless.yml",
		"serverless.yaml",
		"serverless.json",
		"serverless.js",
		"serverless.ts",
	}
}

// rule is one compiled pattern.
type rule struct {
	exclude bool
	alts    []glob
}

// selector decides which files of a tree go into the artifact.
type selector struct {
	rules []rule
}

// newSelector builds the Framework's pattern list: everything is included to
// start with; then the default excludes; then the user's patterns, in order,
// each one setting the state of the files it matches (a leading "!" to
// excluded, otherwise to included), so later patterns override earlier ones;
// then our hard excludes.
//
// User patterns are de-duplicated keeping the first occurrence, because the
// Framework merges the service's and the function's lists with lodash's
// _.union: ["!a/**", "a/**", "!a/**"] therefore ends with a/ included there,
// and must here too.
func newSelector(patterns []string) selector {
	var s selector
	add := func(p string) {
		ex := strings.HasPrefix(p, "!")
		if ex {
			p = p[1:]
		}
		if p == "" {
			return
		}
		s.rules = append(s.rules, rule{exclude: ex, alts: compileGlob(p)})
	}
	for _, p := range DefaultExcludes() {
		add("!" + p)
	}
	seen := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		if seen[p] {
			continue
		}
		seen[p] = true
		add(p)
	}
	add("!" + StateDir + "/**")
	return s
}

// selected reports whether the file at rel (slash-separated, relative to the
// root) belongs in the artifact.
func (s selector) selected(rel string) bool {
	parts := strings.Split(rel, "/")
	in := true
	for _, r := range s.rules {
		if in == !r.exclude {
			continue // this rule could not change the state
		}
		for _, g := range r.alts {
			if g.matchFile(parts) {
				in = !r.exclude
				break
			}
		}
	}
	return in
}

// Match reports whether Build would package the file at rel (a
// slash-separated path relative to the root) given patterns. It lets other
// commands explain a packaging decision without building a zip.
func Match(patterns []string, rel string) bool {
	return newSelector(patterns).selected(rel)
}

// excludesAllUnder reports whether no file below the directory dir (slash
// path relative to the root) can be selected, so Build need not walk it:
// with patterns like "!**", "src/**", node_modules/ and .git/ are never read.
// It is conservative: false when in doubt.
func (s selector) excludesAllUnder(dir string) bool {
	parts := strings.Split(dir, "/")
	const (
		allIn = iota
		allOut
		mixed
	)
	st := allIn
	for _, r := range s.rules {
		target := allIn
		if r.exclude {
			target = allOut
		}
		all, may := false, false
		for _, g := range r.alts {
			if g.matchesAllUnder(parts) {
				all = true
				break
			}
			if g.mayMatchUnder(parts) {
				may = true
			}
		}
		switch {
		case all:
			st = target
		case may && st != target:
			st = mixed
		}
	}
	return st == allOut
}

// matchesAllUnder: every file below dir matches g.
func (g glob) matchesAllUnder(dir []string) bool {
	if g.dirContents {
		for k := len(dir); k >= 1; k-- {
			if matchSegments(g.segs, dir[:k]) {
				return true
			}
		}
	}
	// "prefix/**": every file below a directory the prefix matches.
	n := len(g.segs)
	for n > 0 && g.segs[n-1].globstar {
		n--
	}
	if n == len(g.segs) || g.dirOnly {
		return false
	}
	for k := len(dir); k >= 0; k-- {
		if matchSegments(g.segs[:n], dir[:k]) {
			return true
		}
	}
	return false
}

// mayMatchUnder: some file below dir might match g (false only when the
// pattern's leading literal-ish segments rule dir out).
func (g glob) mayMatchUnder(dir []string) bool {
	segs := g.segs
	for _, p := range dir {
		if len(segs) == 0 {
			return false
		}
		if segs[0].globstar {
			return true
		}
		if !matchSegment(segs[0].toks, p) {
			return false
		}
		segs = segs[1:]
	}
	return len(segs) > 0 || g.dirContents
}

package artifact

import (
	"strings"
	"testing"
)

func globMatches(pattern, rel string) bool {
	parts := strings.Split(rel, "/")
	for _, g := range compileGlob(pattern) {
		if g.matchFile(parts) {
			return true
		}
	}
	return false
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		// literals
		{"handler.js", "handler.js", true},
		{"handler.js", "src/handler.js", false}, // no matchBase, as micromatch
		{"src/handler.js", "src/handler.js", true},
		{"./src/handler.js", "src/handler.js", true},
		{"src//handler.js", "src/handler.js", true},
		{"/handler.js", "handler.js", false}, // absolute patterns match nothing
		{"", "handler.js", false},
		// *
		{"*", "a.js", true},
		{"*", "src/a.js", false},
		{"*", ".env", true}, // dot: true
		{"*.js", "index.js", true},
		{"*.js", "index.ts", false},
		{"*.js", "lib/index.js", false},
		{"src/*.js", "src/a.js", true},
		{"src/*.js", "src/x/a.js", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a", "banana", true},
		{"yarn-*.log", "yarn-error.log", true},
		{"a**b", "aXb", true}, // ** inside a segment is *
		{"a**b", "aX/b", false},
		// ?
		{"?.js", "a.js", true},
		{"?.js", "ab.js", false},
		{"?.js", "é.js", true}, // one character, not one byte
		{"a?c", "a/c", false},
		// classes
		{"[abc].js", "b.js", true},
		{"[abc].js", "d.js", false},
		{"[a-c].js", "b.js", true},
		{"[!a-c].js", "b.js", false},
		{"[!a-c].js", "d.js", true},
		{"[^a-c].js", "d.js", true},
		{"[]].js", "].js", true},
		{"[a-].js", "-.js", true},
		{"[\\]].js", "].js", true},
		{"[abc.js", "[abc.js", true}, // unclosed: literal
		{"v[0-9].[0-9]", "v1.2", true},
		// escapes
		{"\\*.js", "*.js", true},
		{"\\*.js", "a.js", false},
		{"a\\?", "a?", true},
		// **
		{"**", "a.js", true},
		{"**", "a/b/c.js", true},
		{"**", ".git/config", true},
		{"src/**", "src/a.js", true},
		{"src/**", "src/a/b/c.js", true},
		{"src/**", "srcx/a.js", false},
		{"src/**", "lib/src/a.js", false},
		{"**/*.js", "a.js", true},
		{"**/*.js", "a/b/c.js", true},
		{"**/*.js", "a/b/c.ts", false},
		{"**/test/**", "test/a.js", true},
		{"**/test/**", "a/test/b/c.js", true},
		{"**/test/**", "a/tests/b.js", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/**/b/**/c", "a/1/b/2/3/c", true},
		{"a/**/b/**/c", "a/1/c/2/b", false},
		{"**/**/x", "x", true},
		{".git/**", ".git/objects/ab/cd", true},
		{".serverless/**", ".serverless/a.zip", true},
		// braces
		{"*.{js,ts}", "a.ts", true},
		{"*.{js,ts}", "a.py", false},
		{"{src,lib}/**", "lib/x.js", true},
		{"{src,lib}/**", "test/x.js", false},
		{"a{b,c{d,e}}f", "acef", true},
		{"a{b,c{d,e}}f", "acf", false},
		{"{a}", "{a}", true}, // no comma: literal
		{"{a,b", "{a,b", true},
		{"x\\{a,b}", "x{a,b}", true},
		// a pattern that names a directory covers its contents
		{"node_modules", "node_modules/x/index.js", true},
		{"node_modules", "node_modules", true},
		{"node_modules", "a/node_modules/x.js", false},
		{"**/node_modules", "a/node_modules/x.js", true},
		{"**/__pycache__", "pkg/__pycache__/m.cpython-39.pyc", true},
		{"docs/", "docs/a.md", true},
		{"docs/", "docs", false}, // trailing "/": directories only
		{"src/lib", "src/lib/a.js", true},
		{"example", "example/transcode.js", true},
		// ...but a wildcard last segment stays file-level, as micromatch
		{"*", "src/a.js", false},
		{"src/*", "src/x/a.js", false},
		{"*.md", "x.md/a.js", false},
	}
	for _, tt := range tests {
		if got := globMatches(tt.pattern, tt.path); got != tt.want {
			t.Errorf("glob %q vs %q = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestExpandBracesBounded(t *testing.T) {
	p := strings.Repeat("{a,b}", 20) // 2^20 alternatives unbounded
	if n := len(expandBraces(p, maxBraceExpansions)); n != maxBraceExpansions {
		t.Fatalf("got %d expansions, want the cap %d", n, maxBraceExpansions)
	}
}

func TestMatchPatterns(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		path     string
		want     bool
	}{
		{"everything by default", nil, "src/a.js", true},
		{"default exclude .git", nil, ".git/config", false},
		{"default exclude .gitignore", nil, ".gitignore", false},
		{"default exclude .DS_Store", nil, ".DS_Store", false},
		{"nested .DS_Store kept, as the Framework", nil, "src/.DS_Store", true},
		{"default exclude npm-debug.log", nil, "npm-debug.log", false},
		{"default exclude yarn logs", nil, "yarn-error.log", false},
		{"default exclude .serverless", nil, ".serverless/svc.zip", false},
		{"default exclude .serverless_plugins", nil, ".serverless_plugins/p.js", false},
		{"default exclude serverless.yml", nil, "serverless.yml", false},
		{"default exclude serverless.yaml", nil, "serverless.yaml", false},
		{"default exclude serverless.json", nil, "serverless.json", false},
		{"default exclude serverless.js", nil, "serverless.js", false},
		{"default exclude serverless.ts", nil, "serverless.ts", false},
		{"nested serverless.yml kept", nil, "example/aws/serverless.yml", true},
		{"state dir always out", nil, ".asyncfn/state.db", false},
		{"state dir out even when re-included", []string{".asyncfn/**"}, ".asyncfn/state.db", false},
		{"state dir out even with **", []string{"**"}, ".asyncfn/x", false},
		{"defaults can be re-included, as the Framework", []string{".gitignore"}, ".gitignore", true},
		{"** re-includes defaults, as the Framework", []string{"**"}, ".git/HEAD", true},
		{"exclude all", []string{"!**"}, "a.js", false},
		{"exclude all then include dir", []string{"!**", "example/**"}, "example/transcode.js", true},
		{"exclude all then include dir: others", []string{"!**", "example/**"}, "src/a.js", false},
		{"exclude all then include dir: root file", []string{"!**", "example/**"}, "package.json", false},
		{"later overrides earlier", []string{"!**", "src/**", "!src/**/*.test.js"}, "src/a/b.test.js", false},
		{"later overrides earlier: kept", []string{"!**", "src/**", "!src/**/*.test.js"}, "src/a/b.js", true},
		{"re-include after exclude", []string{"!node_modules/**", "node_modules/uuid/**"}, "node_modules/uuid/index.js", true},
		{"re-include after exclude: rest", []string{"!node_modules/**", "node_modules/uuid/**"}, "node_modules/left-pad/index.js", false},
		{"exclude directory by name", []string{"!node_modules"}, "node_modules/x/y.js", false},
		{"exclude by extension", []string{"!**/*.md"}, "docs/x/readme.md", false},
		{"union keeps first occurrence", []string{"!a/**", "a/**", "!a/**"}, "a/x", true},
		{"bare ! ignored", []string{"!"}, "a.js", true},
	}
	for _, tt := range tests {
		if got := Match(tt.patterns, tt.path); got != tt.want {
			t.Errorf("%s: Match(%q, %q) = %v, want %v", tt.name, tt.patterns, tt.path, got, tt.want)
		}
	}
}

func TestExcludesAllUnder(t *testing.T) {
	tests := []struct {
		patterns []string
		dir      string
		want     bool
	}{
		{nil, ".asyncfn", true},
		{nil, ".git", true},
		{nil, "node_modules", false},
		{[]string{"!**", "src/**"}, "node_modules", true},
		{[]string{"!**", "src/**"}, "src", false},
		{[]string{"!**", "src/**"}, "src/deep/er", false},
		{[]string{"!**", "src/lib/**"}, "src", false},
		{[]string{"!**", "src/lib/**"}, "src/other", true},
		{[]string{"!**", "**/*.js"}, "node_modules", false},
		{[]string{"!node_modules"}, "node_modules", true},
		{[]string{"!node_modules"}, "node_modules/a/b", true},
		{[]string{"!node_modules", "node_modules/uuid/**"}, "node_modules", false},
		{[]string{"!node_modules", "node_modules/uuid/**"}, "node_modules/left-pad", true},
		{[]string{"!*"}, "src", false}, // "*" only matches top-level files
		{[]string{"!**", "**"}, "src", false},
		{[]string{"**"}, ".git", false},
	}
	for _, tt := range tests {
		if got := newSelector(tt.patterns).excludesAllUnder(tt.dir); got != tt.want {
			t.Errorf("excludesAllUnder(%q, %q) = %v, want %v", tt.patterns, tt.dir, got, tt.want)
		}
	}
}

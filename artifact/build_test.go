package artifact

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

// writeTree creates files (path -> content) under dir; a path ending in
// "*" is made executable (the "*" is dropped).
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		mode := fs.FileMode(0o644)
		if name[len(name)-1] == '*' {
			name, mode = name[:len(name)-1], 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func zipNames(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names
}

func serviceTree(t *testing.T) string {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"serverless.yml":             "service: x\n",
		".gitignore":                 "node_modules\n",
		".git/HEAD":                  "ref: refs/heads/main\n",
		".serverless/x.zip":          "old",
		".asyncfn/state.db":          "db",
		"example/transcode.js":       "exports.main_handler = async () => 1\n",
		"example/report.py":          "def main_handler(e, c): return {}\n",
		"example/bootstrap*":         "#!/bin/sh\necho hi\n",
		"example/lib/util.js":        "module.exports = {}\n",
		"example/lib/util.test.js":   "test\n",
		"node_modules/uuid/index.js": "uuid\n",
		"README.md":                  "readme\n",
		"example/aws/serverless.yml": "service: y\n",
		"example/aws/handler.js":     "x\n",
	})
	return dir
}

func TestBuildSelectsFiles(t *testing.T) {
	dir := serviceTree(t)
	tests := []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"defaults", nil, []string{
			"README.md", "example/aws/handler.js", "example/aws/serverless.yml", "example/bootstrap",
			"example/lib/util.js", "example/lib/util.test.js", "example/report.py", "example/transcode.js",
			"node_modules/uuid/index.js",
		}},
		{"only example, no tests, no aws", []string{"!**", "example/**", "!example/**/*.test.js", "!example/aws"}, []string{
			"example/bootstrap", "example/lib/util.js", "example/report.py", "example/transcode.js",
		}},
		{"exclude node_modules by name", []string{"!node_modules", "!example"}, []string{"README.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, info, err := Build(dir, tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			got := zipNames(t, data)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries\n got %q\nwant %q", got, tt.want)
			}
			if info.Files != len(tt.want) || info.Size != int64(len(data)) || len(info.SHA256) != 64 {
				t.Errorf("info = %+v for %d entries, %d bytes", info, len(tt.want), len(data))
			}
		})
	}
}

func TestBuildNoFiles(t *testing.T) {
	dir := serviceTree(t)
	_, _, err := Build(dir, []string{"!**"})
	if !errors.Is(err, ErrNoFiles) {
		t.Fatalf("err = %v, want ErrNoFiles", err)
	}
	if _, _, err := Build(filepath.Join(dir, "missing"), nil); err == nil {
		t.Fatal("Build of a missing root succeeded")
	}
	if _, _, err := Build(filepath.Join(dir, "README.md"), nil); err == nil {
		t.Fatal("Build of a file root succeeded")
	}
}

func TestBuildDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	files := map[string]string{"a.txt": "1", "a/b.js": "2", "z/y/x.py": "3", "run*": "#!/bin/sh\n"}
	writeTree(t, a, files)
	writeTree(t, b, files)
	// Different times and different non-exec permission bits must not matter.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(b, "a.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(b, "a", "b.js"), 0o600); err != nil {
		t.Fatal(err)
	}
	da, ia, err := Build(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, ib, err := Build(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ia.SHA256 != ib.SHA256 || !bytes.Equal(da, db) {
		t.Fatalf("same tree, different zips: %s vs %s", ia.SHA256, ib.SHA256)
	}
	names := zipNames(t, da)
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
	zr, _ := zip.NewReader(bytes.NewReader(da), int64(len(da)))
	for _, f := range zr.File {
		if !f.Modified.Equal(zipEpoch()) {
			t.Errorf("%s modified %v, want %v", f.Name, f.Modified, zipEpoch())
		}
	}
	// A content change is a different artifact.
	writeTree(t, b, map[string]string{"a.txt": "changed"})
	if _, ic, _ := Build(b, nil); ic.SHA256 == ia.SHA256 {
		t.Fatal("changed content, same SHA256")
	}
}

func TestBuildExtractRoundTrip(t *testing.T) {
	src := serviceTree(t)
	if err := os.Symlink("transcode.js", filepath.Join(src, "example", "index.js")); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"shared.js": "shared\n", "dir/inner.js": "inner\n"})
	if err := os.Symlink(filepath.Join(outside, "shared.js"), filepath.Join(src, "example", "shared.js")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "dir"), filepath.Join(src, "example", "vendor")); err != nil {
		t.Fatal(err)
	}
	// A loop must not hang the walk.
	if err := os.Symlink("..", filepath.Join(src, "example", "lib", "up")); err != nil {
		t.Fatal(err)
	}
	data, _, err := Build(src, []string{"!**", "example/**"})
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "out")
	if err := Extract(data, dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"example/transcode.js":    "exports.main_handler = async () => 1\n",
		"example/index.js":        "exports.main_handler = async () => 1\n",
		"example/shared.js":       "shared\n",
		"example/vendor/inner.js": "inner\n",
		"example/bootstrap":       "#!/bin/sh\necho hi\n",
		"example/lib/util.js":     "module.exports = {}\n",
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(name)))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", name, b, err, content)
		}
	}
	// Inside-root link to a packaged file stays a link; outside ones are copied.
	if l, err := os.Readlink(filepath.Join(dest, "example", "index.js")); err != nil || l != "transcode.js" {
		t.Errorf("example/index.js link = %q, %v", l, err)
	}
	if st, err := os.Lstat(filepath.Join(dest, "example", "shared.js")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("example/shared.js should be a copied regular file: %v %v", st, err)
	}
	// The executable bit survives; everything else is 0644.
	for name, mode := range map[string]fs.FileMode{"example/bootstrap": 0o755, "example/transcode.js": 0o644} {
		st, err := os.Stat(filepath.Join(dest, filepath.FromSlash(name)))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s mode = %v, %v; want %v", name, st.Mode(), err, mode)
		}
	}
	// The loop was cut: nothing below example/lib/up/.
	for _, n := range zipNames(t, data) {
		if len(n) > len("example/lib/up/") && n[:len("example/lib/up/")] == "example/lib/up/" {
			t.Errorf("loop followed: %s", n)
		}
	}
}

func TestBuildDanglingLink(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.js": "a"})
	if err := os.Symlink("missing.js", filepath.Join(dir, "b.js")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Build(dir, nil); err == nil {
		t.Fatal("a selected dangling link should fail the build")
	}
	if _, _, err := Build(dir, []string{"!b.js"}); err != nil {
		t.Fatalf("an excluded dangling link should not matter: %v", err)
	}
}

func TestBuildLinkToExcludedFileIsCopied(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"shared/x.js": "x", "fn/a.js": "a"})
	if err := os.Symlink("../shared/x.js", filepath.Join(dir, "fn", "x.js")); err != nil {
		t.Fatal(err)
	}
	data, _, err := Build(dir, []string{"!**", "fn/**"})
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	for _, f := range zr.File {
		if f.Name == "fn/x.js" {
			if f.Mode()&fs.ModeSymlink != 0 {
				t.Fatal("a link to an unpackaged file must be stored as content, or it dangles")
			}
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			if string(b) != "x" {
				t.Fatalf("content %q", b)
			}
			return
		}
	}
	t.Fatal("fn/x.js missing")
}

// TestBuildPruningAgreesWithMatch: skipping directories during the walk must
// never change which files are selected.
func TestBuildPruningAgreesWithMatch(t *testing.T) {
	dir := serviceTree(t)
	writeTree(t, dir, map[string]string{
		"src/a/b/c.js": "c", "src/a/node_modules/m/i.js": "m", "src/lib/x.py": "x",
		"node_modules/.bin/tool": "t", "docs/a.md": "d", "test/unit/a.test.js": "t",
		"x.md/inner.js": "weird dir name",
	})
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sets := [][]string{
		nil,
		{"!**"},
		{"!**", "src/**"},
		{"!**", "src/**", "!src/**/node_modules/**"},
		{"!**", "**/node_modules/**"},
		{"!**", "**/*.js"},
		{"!**", "src/a"},
		{"!**", "src/a/"},
		{"!src/**", "src/lib/*.py"},
		{"!node_modules", "node_modules/.bin/tool"},
		{"!**", "{src,docs}/**", "!docs/*.md"},
		{"!**", "*"},
		{"!**", "*/inner.js"},
		{"!*/**", "x.md/**"},
		{"!**/a/**", "**/c.js"},
		{"**"},
		{"!.git/**", "!**", "example/*"},
		{"![a-m]*/**", "!example"},
	}
	for _, ps := range sets {
		var want []string
		for _, f := range files {
			if Match(ps, f) {
				want = append(want, f)
			}
		}
		sort.Strings(want)
		data, _, err := Build(dir, ps)
		if len(want) == 0 {
			if !errors.Is(err, ErrNoFiles) {
				t.Errorf("%q: err = %v, want ErrNoFiles", ps, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", ps, err)
			continue
		}
		if got := zipNames(t, data); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", ps, got, want)
		}
	}
}

// An emulator state directory inside the service under another name than
// .asyncfn (asyncfn dev --state-dir state) is never packaged: not by
// default, not when a pattern names it, not through a link. Without this,
// every deploy packaged the extracted code of the previous ones.
func TestBuildNeverPackagesAnEmulatorStateDir(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"index.js":                          "exports.main = async () => 1\n",
		"state/state.db":                    "SQLite format 3",
		"state/state.db-wal":                "wal",
		"state/lock":                        "",
		"state/code/0123abcd/index.js":      "exports.main = async () => 0\n",
		"state/work/f/.asyncfn-runtime/x":   "bootstrap",
		"data/state.db":                     "the function's own database", // no lock: not a state directory
		"nested/deeper/emu/state.db":        "SQLite format 3",
		"nested/deeper/emu/lock":            "",
		"nested/deeper/emu/instances/f/1/x": "x",
		"nested/deeper/keep.js":             "x\n",
	})
	if err := os.Symlink(filepath.Join(dir, "state"), filepath.Join(dir, "state-link")); err != nil {
		t.Fatal(err)
	}
	want := []string{"data/state.db", "index.js", "nested/deeper/keep.js"}
	for _, patterns := range [][]string{nil, {"state/**", "nested/**", "state-link/**"}} {
		data, _, err := Build(dir, patterns)
		if err != nil {
			t.Fatal(err)
		}
		if got := zipNames(t, data); !reflect.DeepEqual(got, want) {
			t.Errorf("patterns %q: entries\n got %q\nwant %q", patterns, got, want)
		}
	}
	if !IsStateDir(filepath.Join(dir, "state")) || IsStateDir(filepath.Join(dir, "data")) || IsStateDir(filepath.Join(dir, "missing")) {
		t.Error("IsStateDir misjudges a state directory, a plain state.db or a missing directory")
	}
}

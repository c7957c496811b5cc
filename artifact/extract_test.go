package artifact

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zent is one entry of a hand-made zip.
type zent struct {
	name string
	body string
	mode fs.FileMode // 0 = regular 0644
}

func makeZip(tb testing.TB, ents ...zent) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		m := e.mode
		if m == 0 {
			m = 0o644
		}
		h.SetMode(m)
		w, err := zw.CreateHeader(h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func link(name, target string) zent {
	return zent{name: name, body: target, mode: fs.ModeSymlink | 0o777}
}

// maliciousZips are the zip-slip variants; each must be refused with
// ErrUnsafeEntry naming the entry.
func maliciousZips(tb testing.TB) []struct {
	name, entry string
	zip         []byte
} {
	mk := func(name, entry string, ents ...zent) struct {
		name, entry string
		zip         []byte
	} {
		return struct {
			name, entry string
			zip         []byte
		}{name, entry, makeZip(tb, ents...)}
	}
	return []struct {
		name, entry string
		zip         []byte
	}{
		mk("dotdot", "../evil", zent{name: "../evil", body: "x"}),
		mk("dotdot nested", "a/../../evil", zent{name: "a/../../evil", body: "x"}),
		mk("dotdot harmless still refused", "a/../b", zent{name: "a/../b", body: "x"}),
		mk("absolute", "/tmp/evil", zent{name: "/tmp/evil", body: "x"}),
		mk("backslash", `..\evil`, zent{name: `..\evil`, body: "x"}),
		mk("drive letter", "C:/evil", zent{name: "C:/evil", body: "x"}),
		mk("drive relative", "c:evil", zent{name: "c:evil", body: "x"}),
		mk("nul byte", "a\x00b", zent{name: "a\x00b", body: "x"}),
		mk("empty name", "", zent{name: "", body: "x"}),
		mk("dot only", "./", zent{name: "./", body: ""}),
		mk("link absolute", "l", link("l", "/etc")),
		mk("link up", "l", link("l", "../outside")),
		mk("link nested up", "a/b/l", link("a/b/l", "../../../x")),
		mk("link backslash", "l", link("l", `..\..\x`)),
		mk("link drive", "l", link("l", "C:/x")),
		mk("link empty", "l", link("l", "")),
		mk("link too long", "l", link("l", strings.Repeat("a/", 2100))),
		mk("write through link", "l/x", link("l", "sub"), zent{name: "sub/", mode: fs.ModeDir | 0o755}, zent{name: "l/x", body: "x"}),
		mk("write through link to dot", "l/x", link("l", "."), zent{name: "l/x", body: "x"}),
		// Lexically inside when written, outside once "up" exists.
		mk("link escape via later link", "a", link("a", "up/.."), link("up", ".")),
		mk("link escape via earlier link", "b", link("up", "."), link("b", "up/..")),
		mk("link chain escape", "c", zent{name: "d/", mode: fs.ModeDir | 0o755}, link("d/p", ".."), link("c", "d/p/d/p/..")),
		mk("duplicate file", "x", zent{name: "x", body: "1"}, zent{name: "x", body: "2"}),
		mk("file over link", "x", link("x", "y"), zent{name: "x", body: "2"}),
		mk("dir over file", "x/", zent{name: "x", body: "1"}, zent{name: "x/", mode: fs.ModeDir | 0o755}),
		mk("file below file", "x/y", zent{name: "x", body: "1"}, zent{name: "x/y", body: "2"}),
		mk("named pipe", "p", zent{name: "p", mode: fs.ModeNamedPipe | 0o644}),
		mk("device", "d", zent{name: "d", mode: fs.ModeDevice | 0o644}),
	}
}

// sandbox makes parent/{dest,sibling/canary} and returns dest and a check
// that nothing outside dest changed.
func sandbox(tb testing.TB) (dest string, check func()) {
	parent := tb.(interface{ TempDir() string }).TempDir()
	dest = filepath.Join(parent, "dest")
	sib := filepath.Join(parent, "sibling")
	if err := os.MkdirAll(sib, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sib, "canary"), []byte("canary"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dest, func() {
		tb.Helper()
		var extra []string
		_ = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(parent, p)
			switch {
			case rel == ".", rel == "sibling", rel == filepath.Join("sibling", "canary"), rel == "dest":
			case strings.HasPrefix(rel, "dest"+string(filepath.Separator)):
			default:
				extra = append(extra, rel)
			}
			return nil
		})
		if len(extra) > 0 {
			tb.Fatalf("written outside dest: %q", extra)
		}
		if b, err := os.ReadFile(filepath.Join(sib, "canary")); err != nil || string(b) != "canary" {
			tb.Fatalf("sibling canary changed: %q %v", b, err)
		}
		// Every link left in dest must resolve inside it.
		realDest, err := filepath.EvalSymlinks(dest)
		if err != nil {
			return
		}
		_ = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			if r, err := filepath.EvalSymlinks(p); err == nil && r != realDest && !strings.HasPrefix(r, realDest+string(filepath.Separator)) {
				tb.Fatalf("link %s resolves outside dest: %s", p, r)
			}
			return nil
		})
	}
}

func TestExtractRejectsUnsafeEntries(t *testing.T) {
	for _, tt := range maliciousZips(t) {
		t.Run(tt.name, func(t *testing.T) {
			dest, check := sandbox(t)
			err := Extract(tt.zip, dest, Limits{})
			t.Log(err)
			if !errors.Is(err, ErrUnsafeEntry) {
				t.Fatalf("err = %v, want ErrUnsafeEntry", err)
			}
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Entry != tt.entry {
				t.Fatalf("err = %v, want an EntryError naming %q", err, tt.entry)
			}
			if !strings.Contains(err.Error(), "zip entry") {
				t.Errorf("message %q does not say which entry", err)
			}
			check()
		})
	}
}

func TestExtractLimits(t *testing.T) {
	big := strings.Repeat("0", 4<<20) // 4 MiB compresses to a few KiB
	tests := []struct {
		name string
		zip  []byte
		lim  Limits
	}{
		{"one big file", makeZip(t, zent{name: "bomb", body: big}), Limits{MaxBytes: 1 << 20}},
		{"many small files add up", makeZip(t, zent{name: "a", body: big[:600<<10]}, zent{name: "b", body: big[:600<<10]}), Limits{MaxBytes: 1 << 20}},
		{"too many files", makeZip(t, zent{name: "a"}, zent{name: "b"}, zent{name: "c"}, zent{name: "d/"}), Limits{MaxFiles: 3}},
		{"header lies about size", lyingZip(t, big), Limits{MaxBytes: 1 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest, check := sandbox(t)
			err := Extract(tt.zip, dest, tt.lim)
			t.Log(err)
			if err == nil {
				t.Fatal("limit not enforced")
			}
			if tt.name != "header lies about size" && !errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v, want ErrLimit", err)
			}
			var total int64
			_ = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					st, _ := d.Info()
					total += st.Size()
				}
				return nil
			})
			if total > tt.lim.withDefaults().MaxBytes+1 {
				t.Fatalf("wrote %d bytes past a limit of %d", total, tt.lim.MaxBytes)
			}
			check()
		})
	}
	// Within the limits the same kind of zip extracts fine.
	dest, _ := sandbox(t)
	if err := Extract(makeZip(t, zent{name: "ok", body: big}), dest, Limits{MaxBytes: 8 << 20}); err != nil {
		t.Fatal(err)
	}
}

// lyingZip stores 4 MiB of deflated data under a header that claims 10 bytes.
func lyingZip(tb testing.TB, body string) []byte {
	var comp bytes.Buffer
	zw0 := zip.NewWriter(&comp)
	w, _ := zw0.Create("bomb")
	_, _ = w.Write([]byte(body))
	_ = zw0.Close()
	zr, err := zip.NewReader(bytes.NewReader(comp.Bytes()), int64(comp.Len()))
	if err != nil {
		tb.Fatal(err)
	}
	f := zr.File[0]
	raw, err := f.OpenRaw()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := f.FileHeader
	h.UncompressedSize64 = 10
	out, err := zw.CreateRaw(&h)
	if err != nil {
		tb.Fatal(err)
	}
	var rawBuf bytes.Buffer
	if _, err := rawBuf.ReadFrom(raw); err != nil {
		tb.Fatal(err)
	}
	_, _ = out.Write(rawBuf.Bytes())
	_ = zw.Close()
	return buf.Bytes()
}

func TestExtractGoodZip(t *testing.T) {
	z := makeZip(t,
		zent{name: "dir/", mode: fs.ModeDir | 0o700},
		zent{name: "dir/", mode: fs.ModeDir | 0o755}, // repeated directory: fine
		zent{name: "./dir/run", body: "#!/bin/sh\n", mode: 0o700},
		zent{name: "dir/data.json", body: "{}", mode: 0o600},
		zent{name: "deep/a/b/c.txt", body: "c"},
		link("dir/alias", "run"),
		link("top", "dir/../deep/a"),
		link("dangling", "nowhere/yet"),
		link("through-file", "dir/data.json/x"), // ENOTDIR: dangling, inside
		link("node_modules/.bin/tool", "../tool/cli.js"),
	)
	dest, check := sandbox(t)
	if err := Extract(z, dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	check()
	for name, mode := range map[string]fs.FileMode{"dir": fs.ModeDir | 0o755, "dir/run": 0o755, "dir/data.json": 0o644, "deep/a/b": fs.ModeDir | 0o755} {
		st, err := os.Lstat(filepath.Join(dest, filepath.FromSlash(name)))
		if err != nil || st.Mode() != mode {
			t.Errorf("%s mode = %v, %v; want %v", name, st.Mode(), err, mode)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dest, "top", "b", "c.txt")); err != nil || string(b) != "c" {
		t.Errorf("through link top: %q %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dest, "node_modules", ".bin", "tool")); err != nil || l != "../tool/cli.js" {
		t.Errorf("node_modules/.bin/tool = %q %v", l, err)
	}
}

func TestExtractGarbage(t *testing.T) {
	dest, check := sandbox(t)
	if err := Extract([]byte("not a zip"), dest, Limits{}); err == nil {
		t.Fatal("garbage accepted")
	}
	check()
}

func FuzzExtract(f *testing.F) {
	for _, m := range maliciousZips(f) {
		f.Add(m.zip)
	}
	f.Add(makeZip(f, zent{name: "a/b.js", body: "x", mode: 0o755}, link("c", "a/b.js"), zent{name: "d/"}))
	f.Add(makeZip(f, link("a", "b"), link("b", "a")))
	f.Add(makeZip(f, link("a", "."), link("b", "a/a/a/..")))
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		dest, check := sandbox(t)
		_ = Extract(data, dest, Limits{MaxFiles: 200, MaxBytes: 4 << 20})
		check()
	})
}

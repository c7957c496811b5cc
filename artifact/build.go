package artifact

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ErrNoFiles is returned by Build when the patterns select no file, as the
// Framework's "No file matches include / exclude patterns".
var ErrNoFiles = errors.New("no file matches the package patterns")

// Info describes a built artifact.
type Info struct {
	Files  int    // entries in the zip (files and symlinks; directories are implied)
	Size   int64  // bytes of the zip
	SHA256 string // lower-case hex SHA-256 of the zip: equal trees give equal sums
}

// zipEpoch is the modification time of every entry. 1980-01-01 is the first
// time MS-DOS dates can express; a fixed time is what makes the zip, and so
// its SHA-256, depend on the content alone.
func zipEpoch() time.Time { return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) }

// candidate is one file found in the tree.
type candidate struct {
	rel  string // slash path inside the zip
	abs  string // path to read it through (may pass through followed links)
	link bool   // abs itself is a symbolic link to a file
}

// Build zips the code of one function: the files under root (the service
// directory, or its Src subdirectory) selected by patterns, with the
// Serverless Framework v3's package.patterns semantics (see DefaultExcludes
// and Match).
//
// The zip is deterministic: entries sorted by path, a fixed modification
// time, permissions reduced to 0644 or 0755 (the executable bit is kept, so a
// bootstrap stays runnable), no directory entries (the Framework packages
// files only, so empty directories are dropped).
//
// Symbolic links: the Framework follows them all (globby follow: true) and
// stores what they point to. Build does the same, with one refinement: a link
// to a file that is itself inside root and packaged is stored as a relative
// symlink, so the artifact does not carry the content twice and the layout
// survives (node_modules/.bin). Links to directories are followed (loops are
// cut where they close); a dangling link that the patterns select is an error.
// Sockets, pipes and devices are skipped, and so is an emulator's state
// directory (.asyncfn/, or any directory IsStateDir recognises), whatever the
// patterns say.
func Build(root string, patterns []string) ([]byte, Info, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, Info{}, fmt.Errorf("artifact: root %s: %w", root, err)
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return nil, Info{}, fmt.Errorf("artifact: root %s: %w", root, err)
	}
	if st, err := os.Stat(realRoot); err != nil {
		return nil, Info{}, fmt.Errorf("artifact: root %s: %w", root, err)
	} else if !st.IsDir() {
		return nil, Info{}, fmt.Errorf("artifact: root %s: not a directory", root)
	}

	sel := newSelector(patterns)
	var all []candidate
	if err := walk(sel, realRoot, "", []string{realRoot}, &all); err != nil {
		return nil, Info{}, err
	}
	var files []candidate
	chosen := make(map[string]bool)
	for _, c := range all {
		if sel.selected(c.rel) {
			files = append(files, c)
			chosen[c.rel] = true
		}
	}
	if len(files) == 0 {
		return nil, Info{}, fmt.Errorf("artifact: %s with patterns %q: %w", root, patterns, ErrNoFiles)
	}
	// Byte order of the full path, not directory-walk order ("a.txt" sorts
	// before "a/b"), so the order does not depend on how the tree was read.
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, c := range files {
		if err := addEntry(zw, c, realRoot, chosen); err != nil {
			return nil, Info{}, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, Info{}, fmt.Errorf("artifact: finish zip: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), Info{Files: len(files), Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}, nil
}

// walk lists the files under dir (whose path in the zip is rel), following
// links to directories and skipping directories the patterns exclude
// entirely. chain holds the real paths of the directories being walked, so
// that a link back to one of them is recognised as a loop.
func walk(sel selector, dir, rel string, chain []string, out *[]candidate) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("artifact: read directory %s: %w", dir, err)
	}
	for _, e := range entries {
		abs := filepath.Join(dir, e.Name())
		r := path.Join(rel, e.Name())
		switch t := e.Type(); {
		case (t.IsDir() || t&fs.ModeSymlink != 0) && sel.excludesAllUnder(r):
			// Nothing below can be packaged (.asyncfn/ always lands here).
			// A symlink to a file is not a directory: it still needs a look.
			if t.IsDir() {
				continue
			}
			if st, err := os.Stat(abs); err != nil || st.Mode().IsRegular() {
				*out = append(*out, candidate{rel: r, abs: abs, link: true})
			}
		case t.IsDir() && IsStateDir(abs):
			// An emulator's state directory under another name (--state-dir
			// inside the service): never packaged, like .asyncfn/.
		case t.IsDir():
			real := filepath.Join(chain[len(chain)-1], e.Name())
			if inChain(chain, real) {
				continue // reached again through a followed link: a loop
			}
			if err := walk(sel, abs, r, append(chain, real), out); err != nil {
				return err
			}
		case t&fs.ModeSymlink != 0:
			st, err := os.Stat(abs)
			if err != nil {
				// Dangling or unreadable: only an error if it is selected,
				// which addEntry finds out when it reads it.
				*out = append(*out, candidate{rel: r, abs: abs, link: true})
				continue
			}
			switch {
			case st.IsDir() && IsStateDir(abs):
				// A link to an emulator's state directory: never packaged.
			case st.IsDir():
				real, err := filepath.EvalSymlinks(abs)
				if err != nil {
					return fmt.Errorf("artifact: resolve %s: %w", abs, err)
				}
				if inChain(chain, real) {
					continue // a loop: the directory is already being packaged
				}
				if err := walk(sel, abs, r, append(chain, real), out); err != nil {
					return err
				}
			case st.Mode().IsRegular():
				*out = append(*out, candidate{rel: r, abs: abs, link: true})
			}
		case t.IsRegular():
			*out = append(*out, candidate{rel: r, abs: abs})
		}
	}
	return nil
}

func inChain(chain []string, p string) bool {
	for _, c := range chain {
		if c == p {
			return true
		}
	}
	return false
}

// addEntry writes one file (or symlink) to the zip.
func addEntry(zw *zip.Writer, c candidate, realRoot string, chosen map[string]bool) error {
	if strings.Contains(c.rel, `\`) {
		// The zip format (and Extract) treats "\" as a separator; such a
		// name would unpack somewhere else or not at all.
		return fmt.Errorf("artifact: %s: file name contains a backslash, which a zip cannot carry", c.rel)
	}
	hdr := &zip.FileHeader{Name: c.rel, Method: zip.Deflate, Modified: zipEpoch()}
	if c.link {
		if target, ok := linkInside(c, realRoot, chosen); ok {
			hdr.Method = zip.Store
			hdr.SetMode(fs.ModeSymlink | 0o777)
			w, err := zw.CreateHeader(hdr)
			if err != nil {
				return fmt.Errorf("artifact: zip %s: %w", c.rel, err)
			}
			if _, err := io.WriteString(w, target); err != nil {
				return fmt.Errorf("artifact: zip %s: %w", c.rel, err)
			}
			return nil
		}
	}
	f, err := os.Open(c.abs) // follows links, as the Framework does
	if err != nil {
		if c.link {
			return fmt.Errorf("artifact: %s: symlink target cannot be read (dangling link?): %w", c.rel, err)
		}
		return fmt.Errorf("artifact: open %s: %w", c.rel, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("artifact: stat %s: %w", c.rel, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("artifact: %s: not a regular file", c.rel)
	}
	hdr.SetMode(normalMode(st.Mode()))
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return fmt.Errorf("artifact: zip %s: %w", c.rel, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("artifact: read %s: %w", c.rel, err)
	}
	return nil
}

// normalMode keeps only what matters to a function: executable or not. The
// owner's umask must not change the artifact's checksum.
func normalMode(m fs.FileMode) fs.FileMode {
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// linkInside decides whether a symlink can stay a symlink: its target must be
// a file inside root that is packaged too. It returns the link text relative
// to the link's own directory in the zip.
func linkInside(c candidate, realRoot string, chosen map[string]bool) (string, bool) {
	real, err := filepath.EvalSymlinks(c.abs)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	target := filepath.ToSlash(rel)
	if !chosen[target] || target == c.rel {
		return "", false
	}
	text, err := filepath.Rel(filepath.FromSlash(path.Dir(c.rel)), rel)
	if err != nil {
		return "", false
	}
	return filepath.ToSlash(text), true
}

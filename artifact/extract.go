package artifact

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// Default extraction limits, used when a Limits field is zero.
const (
	DefaultMaxFiles       = 100_000
	DefaultMaxBytes int64 = 1 << 30 // 1 GiB uncompressed
)

// maxLinkTarget bounds a symlink entry's content; PATH_MAX is 4096 on Linux.
const maxLinkTarget = 4096

// maxLinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

var (
	// ErrUnsafeEntry marks an entry Extract refuses: an absolute path, a ".."
	// component, a backslash or drive letter, a link that leads outside the
	// destination, a write through a link, a duplicate or an unsupported type.
	ErrUnsafeEntry = errors.New("unsafe zip entry")
	// ErrLimit marks a zip that exceeds the extraction Limits.
	ErrLimit = errors.New("zip exceeds extraction limits")
)

// Limits bounds what Extract writes. Zero fields take the defaults.
type Limits struct {
	MaxFiles int   // entries, directories included
	MaxBytes int64 // uncompressed bytes actually written, symlink targets included
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// EntryError is the error for one zip entry; Err is ErrUnsafeEntry, ErrLimit
// or the underlying I/O error.
type EntryError struct {
	Entry  string // the name as stored in the zip
	Reason string
	Err    error
}

func (e *EntryError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("artifact: zip entry %q: %v", e.Entry, e.Err)
	}
	return fmt.Sprintf("artifact: zip entry %q: %s: %v", e.Entry, e.Reason, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

func unsafeEntry(name, reason string) error {
	return &EntryError{Entry: name, Reason: reason, Err: ErrUnsafeEntry}
}

type kind uint8

const (
	kindDir kind = iota + 1
	kindFile
	kindLink
)

// extractor holds the state of one Extract call.
type extractor struct {
	root    *os.Root
	lim     Limits
	written int64
	seen    map[string]kind // cleaned relative path -> what was extracted there
	links   []string        // symlinks created, in order
	linkOf  map[string]string
}

// Extract unpacks a zip into dest (created if missing), refusing anything
// that could write or point outside it:
//
//   - absolute names, names with a ".." component, a backslash, a drive
//     letter or a NUL byte (zip-slip in all its spellings);
//   - symlink entries that are absolute or that resolve outside dest, judged
//     after every entry is written so that the order of entries cannot hide
//     an escape (such links are removed before Extract returns);
//   - entries below an already-extracted symlink (writing through a link),
//     duplicate names, and types other than file, directory and symlink;
//   - more than lim.MaxFiles entries or more than lim.MaxBytes written. The
//     bytes are counted as they are written, not taken from the headers,
//     which a zip bomb controls.
//
// Every write goes through an os.Root opened on dest as a second line of
// defence. Directories are created 0755, files 0644 or 0755 (the executable
// bit is restored from the zip's Unix mode).
//
// dest should be a fresh directory: on error, what was extracted so far is
// left in place (minus offending links) for the caller to remove.
func Extract(zipData []byte, dest string, lim Limits) error {
	return ExtractFrom(bytes.NewReader(zipData), int64(len(zipData)), dest, lim)
}

// ExtractFrom is Extract reading the zip from r (size bytes), e.g. an open
// file, so that a large package is never held in memory whole.
func ExtractFrom(r io.ReaderAt, size int64, dest string, lim Limits) error {
	lim = lim.withDefaults()
	zr, err := zip.NewReader(r, size)
	// ErrInsecurePath (GODEBUG zipinsecurepath=0) comes with a usable
	// reader; the checks below reject those entries by name.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("artifact: read zip: %w", err)
	}
	if n := len(zr.File); n > lim.MaxFiles {
		return fmt.Errorf("artifact: zip has %d entries, more than the limit of %d: %w", n, lim.MaxFiles, ErrLimit)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("artifact: create %s: %w", dest, err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("artifact: open %s: %w", dest, err)
	}
	defer root.Close()

	x := &extractor{root: root, lim: lim, seen: map[string]kind{}, linkOf: map[string]string{}}
	for _, f := range zr.File {
		if err := x.entry(f); err != nil {
			return err
		}
	}
	// Judge links once all entries exist: "a -> up/.." is harmless until a
	// later "up -> ." appears.
	var firstErr error
	for _, l := range x.links {
		if err := x.resolveInside(l); err != nil {
			if rmErr := root.Remove(l); rmErr != nil && firstErr == nil {
				firstErr = fmt.Errorf("artifact: remove unsafe link %s: %w", l, rmErr)
			}
			if firstErr == nil {
				firstErr = &EntryError{Entry: x.linkOf[l], Reason: "symlink resolves outside the destination (" + err.Error() + ")", Err: ErrUnsafeEntry}
			}
		}
	}
	return firstErr
}

// cleanName validates an entry name and returns it relative and clean.
func cleanName(name string) (rel string, dir bool, err error) {
	switch {
	case name == "":
		return "", false, unsafeEntry(name, "empty name")
	case strings.ContainsRune(name, 0):
		return "", false, unsafeEntry(name, "name contains a NUL byte")
	case strings.Contains(name, `\`):
		return "", false, unsafeEntry(name, "name contains a backslash")
	case strings.HasPrefix(name, "/"):
		return "", false, unsafeEntry(name, "absolute path")
	case len(name) >= 2 && name[1] == ':' && isLetter(name[0]):
		return "", false, unsafeEntry(name, "name starts with a drive letter")
	}
	dir = strings.HasSuffix(name, "/")
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "..":
			return "", false, unsafeEntry(name, `path has a ".." component`)
		case "", ".":
			continue
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "", false, unsafeEntry(name, "name has no file component")
	}
	return strings.Join(parts, "/"), dir, nil
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

func (x *extractor) entry(f *zip.File) error {
	rel, dirName, err := cleanName(f.Name)
	if err != nil {
		return err
	}
	mode := f.Mode()
	isDir := dirName || mode.IsDir()

	// No entry may live below a link we made (writing through it), nor below
	// a file.
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		switch x.seen[p] {
		case kindLink:
			return unsafeEntry(f.Name, fmt.Sprintf("would write through the symlink %q", p))
		case kindFile:
			return unsafeEntry(f.Name, fmt.Sprintf("parent %q is a file", p))
		}
	}
	if k, ok := x.seen[rel]; ok {
		if k == kindDir && isDir {
			return nil // a repeated directory entry is harmless
		}
		return unsafeEntry(f.Name, "duplicate entry")
	}

	switch {
	case isDir:
		if err := x.mkdirAll(rel); err != nil {
			return &EntryError{Entry: f.Name, Reason: "create directory", Err: err}
		}
		return nil
	case mode&fs.ModeSymlink != 0:
		return x.symlink(f, rel)
	case mode.Type() == 0:
		return x.file(f, rel, mode)
	default:
		return unsafeEntry(f.Name, "unsupported file type "+mode.Type().String())
	}
}

// mkdirAll creates rel and its parents, recording them as directories.
func (x *extractor) mkdirAll(rel string) error {
	if err := x.root.MkdirAll(rel, 0o755); err != nil {
		return err
	}
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		if _, ok := x.seen[p]; !ok {
			x.seen[p] = kindDir
		}
	}
	return nil
}

func (x *extractor) mkParent(rel string) error {
	if d := path.Dir(rel); d != "." {
		return x.mkdirAll(d)
	}
	return nil
}

func (x *extractor) file(f *zip.File, rel string, mode fs.FileMode) error {
	perm := normalMode(mode)
	if err := x.mkParent(rel); err != nil {
		return &EntryError{Entry: f.Name, Reason: "create parent directory", Err: err}
	}
	rc, err := f.Open()
	if err != nil {
		return &EntryError{Entry: f.Name, Reason: "open", Err: err}
	}
	defer rc.Close()
	// O_EXCL: never reuse or follow whatever already sits at that name.
	out, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return &EntryError{Entry: f.Name, Reason: "create", Err: err}
	}
	x.seen[rel] = kindFile
	remaining := x.lim.MaxBytes - x.written
	n, err := io.Copy(out, io.LimitReader(rc, remaining+1))
	x.written += n
	if err == nil && n > remaining {
		err = &EntryError{Entry: f.Name, Reason: fmt.Sprintf("more than %d uncompressed bytes in total", x.lim.MaxBytes), Err: ErrLimit}
	} else if err != nil {
		err = &EntryError{Entry: f.Name, Reason: "decompress", Err: err}
	}
	if err == nil {
		// The umask may have cleared bits of perm at creation.
		if cerr := out.Chmod(perm); cerr != nil {
			err = &EntryError{Entry: f.Name, Reason: "chmod", Err: cerr}
		}
	}
	if cerr := out.Close(); cerr != nil && err == nil {
		err = &EntryError{Entry: f.Name, Reason: "write", Err: cerr}
	}
	return err
}

func (x *extractor) symlink(f *zip.File, rel string) error {
	rc, err := f.Open()
	if err != nil {
		return &EntryError{Entry: f.Name, Reason: "open", Err: err}
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return &EntryError{Entry: f.Name, Reason: "read symlink target", Err: err}
	}
	if len(b) > maxLinkTarget {
		return unsafeEntry(f.Name, fmt.Sprintf("symlink target longer than %d bytes", maxLinkTarget))
	}
	x.written += int64(len(b))
	if x.written > x.lim.MaxBytes {
		return &EntryError{Entry: f.Name, Reason: fmt.Sprintf("more than %d uncompressed bytes in total", x.lim.MaxBytes), Err: ErrLimit}
	}
	target := string(b)
	switch {
	case target == "":
		return unsafeEntry(f.Name, "empty symlink target")
	case strings.ContainsRune(target, 0):
		return unsafeEntry(f.Name, "symlink target contains a NUL byte")
	case strings.Contains(target, `\`):
		return unsafeEntry(f.Name, fmt.Sprintf("symlink target %q contains a backslash", target))
	case strings.HasPrefix(target, "/"), len(target) >= 2 && target[1] == ':' && isLetter(target[0]):
		return unsafeEntry(f.Name, fmt.Sprintf("symlink target %q is absolute", target))
	}
	// A cheap lexical check now for a clear early error; resolveInside
	// decides for real once every entry is in place.
	if j := path.Join(path.Dir(rel), target); j == ".." || strings.HasPrefix(j, "../") {
		return unsafeEntry(f.Name, fmt.Sprintf("symlink target %q points outside the destination", target))
	}
	if err := x.mkParent(rel); err != nil {
		return &EntryError{Entry: f.Name, Reason: "create parent directory", Err: err}
	}
	if err := x.root.Symlink(target, rel); err != nil {
		return &EntryError{Entry: f.Name, Reason: "create symlink", Err: err}
	}
	x.seen[rel] = kindLink
	x.links = append(x.links, rel)
	x.linkOf[rel] = f.Name
	return nil
}

// resolveInside resolves the link at rel the way the kernel would, but
// confined to dest: it fails if any step climbs above dest or reads an
// absolute link. Missing components are taken lexically (a dangling link
// that stays inside is allowed, as it can only ever name a path in dest).
func (x *extractor) resolveInside(rel string) error {
	pending := strings.Split(rel, "/")
	var cur []string // resolved components, none of them a link
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return errors.New("climbs above it")
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := strings.Join(append(cur[:len(cur):len(cur)], c), "/")
		st, err := x.root.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			// Dangling from here on; the rest is judged lexically.
			cur = append(cur, c)
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			cur = append(cur, c)
			continue
		}
		if hops++; hops > maxLinkHops {
			return errors.New("too many levels of symbolic links")
		}
		t, err := x.root.Readlink(next)
		if err != nil {
			return err
		}
		if strings.HasPrefix(t, "/") {
			return fmt.Errorf("%s is an absolute link", next)
		}
		pending = append(strings.Split(t, "/"), pending...)
	}
	return nil
}

// UnzippedSize is the sum of the uncompressed sizes a zip's central
// directory declares for its entries: what the clouds compare with their
// unzipped code limits before unpacking. The headers are the zip's own
// claim; Extract counts the bytes it really writes (Limits.MaxBytes).
func UnzippedSize(r io.ReaderAt, size int64) (int64, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return 0, fmt.Errorf("artifact: read zip: %w", err)
	}
	var n int64
	for _, f := range zr.File {
		n += int64(f.UncompressedSize64)
		if n < 0 {
			return 0, fmt.Errorf("artifact: zip declares more than %d bytes: %w", int64(^uint64(0)>>1), ErrLimit)
		}
	}
	return n, nil
}

package localemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Code, layers and their limits.
//
// A function's package and a layer's arrive the same two ways on both
// clouds: inline (Lambda ZipFile, SCF Code.ZipFile) or as an object of the
// object store (Lambda S3Bucket/S3Key, SCF CosBucketName/CosObjectName).
// Code says which. The engine checks the clouds' limits (CodeLimitsFor)
// with typed errors the fronts map to their codes: *CodeTooLargeError
// (inline zip too big, from CheckInlineZip: KindTooLarge; unzipped too
// big: KindInvalid),
// ErrLayerNotFound (KindNotFound) and *InvalidParameterError.
//
// Layers are published versions, numbered 1, 2, ... per name and never
// reused (store.PutLayer). A function names up to MaxLayers of them in
// order; the runtime sees them merged in that order — a later layer's file
// replaces an earlier one's — in one directory, the emulator's stand-in for
// the clouds' /opt (see runtime.Config.OptDir for the variables that point
// at it). The merged directory is cached under the state directory by the
// digest of the layers' digests (store.Function.LayersSHA256).

// LayerRef names one published layer version.
type LayerRef = nativeapi.LayerRef

// ObjectRef names an object of the object store.
type ObjectRef = nativeapi.ObjectRef

// Code is a package: inline zip bytes, or an object of the object store. The
// zero Code means "no new code" where that is allowed (Deploy keeps the
// current code).
type Code struct {
	Zip    []byte
	Object *ObjectRef
}

func (c Code) empty() bool { return c.Zip == nil && c.Object == nil }

// CodeLimits are a cloud's limits on a package.
type CodeLimits struct {
	// InlineZip caps a zip sent in the request itself (bytes of the zip).
	InlineZip int64
	// Unzipped caps the function's code plus all its layers, unzipped.
	Unzipped int64
	// Layers caps the layers of one function.
	Layers int
}

// CodeLimitsFor returns the provider's package limits.
//
// Lambda (Lambda developer guide, "Lambda quotas": Deployment package (.zip
// file archive) size: 50 MB zipped for direct upload, 250 MB unzipped — the
// unpacked function and all its layers — and five layers per function; the
// unzipped check answers "Unzipped size must be smaller than 262144000
// bytes", so 250 MB is 250 MiB).
//
// SCF (SCF docs, "Quota limits": the code package uploaded directly (base64
// in ZipFile) at most 20 MB, uploaded through COS at most 500 MB; the code
// unzipped, layers included, at most 500 MB; five layers per function).
func CodeLimitsFor(p cloud.Provider) CodeLimits {
	if p == cloud.Tencent {
		return CodeLimits{InlineZip: 20 << 20, Unzipped: 500 << 20, Layers: nativeapi.MaxLayers}
	}
	return CodeLimits{InlineZip: 50 << 20, Unzipped: 250 << 20, Layers: nativeapi.MaxLayers}
}

// CodeTooLargeError is a package over a CodeLimits limit. Unzipped false:
// the inline zip is too big (Lambda RequestEntityTooLargeException, SCF
// InvalidParameterValue.ZipFile...); true: the unpacked code with its
// layers is (Lambda InvalidParameterValueException "Unzipped size must be
// smaller than N bytes").
type CodeTooLargeError struct {
	Unzipped    bool
	Size, Limit int64
}

func (e *CodeTooLargeError) Error() string {
	if e.Unzipped {
		return fmt.Sprintf("Unzipped size must be smaller than %d bytes", e.Limit)
	}
	return fmt.Sprintf("the zip of %d bytes is over the direct-upload limit of %d bytes: upload it to object storage and deploy it by reference", e.Size, e.Limit)
}

// CheckInlineZip refuses an inline zip of n bytes over the provider's
// direct-upload limit. The cloud fronts call it (before decoding the zip,
// where they can); the engine does not, so that the native API — no cloud —
// deploys big packages inline up to its own body cap.
func CheckInlineZip(p cloud.Provider, n int64) error {
	if lim := CodeLimitsFor(p).InlineZip; n > lim {
		return &CodeTooLargeError{Size: n, Limit: lim}
	}
	return nil
}

// ErrLayerNotFound: no such layer version.
var ErrLayerNotFound = errors.New("layer version not found")

// LayerError is a layer operation's error naming the layer version.
type LayerError struct {
	Name    string
	Version int // 0 when about the layer as a whole
	Err     error
}

func (e *LayerError) Error() string {
	if e.Version > 0 {
		return fmt.Sprintf("layer %s version %d: %v", e.Name, e.Version, e.Err)
	}
	return fmt.Sprintf("layer %s: %v", e.Name, e.Err)
}

func (e *LayerError) Unwrap() error { return e.Err }

// LayerSpec is what PublishLayerVersion publishes.
type LayerSpec struct {
	Name               string
	Description        string
	CompatibleRuntimes []string
	Code               Code
	// Provider picks the limits that apply (CodeLimitsFor); default AWS.
	Provider cloud.Provider
}

// LayerVersion is one published layer version.
type LayerVersion struct {
	Name               string
	Version            int
	Description        string
	CompatibleRuntimes []string
	CodeSHA256         string // hex digest of the zip
	CodeSize           int64  // bytes of the zip
	UnzippedSize       int64
	CreatedAt          time.Time
}

// layerName accepts what both clouds accept: Lambda's LayerName is
// [a-zA-Z0-9-_]+ of at most 140 characters (Lambda API reference,
// PublishLayerVersion); SCF's is narrower (1-64 characters, starting with a
// letter, ending with a letter or digit), which its front checks.
var layerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,140}$`)

func (e *Engine) layersDir() string { return filepath.Join(e.opts.StateDir, "layers") }

func (e *Engine) layerZip(sum string) string { return filepath.Join(e.layersDir(), sum+".zip") }

func layerVersion(l store.Layer) LayerVersion {
	return LayerVersion{Name: l.Name, Version: l.Version, Description: l.Description, CompatibleRuntimes: l.Runtimes,
		CodeSHA256: l.CodeSHA256, CodeSize: l.CodeSize, UnzippedSize: l.UnzippedSize, CreatedAt: l.CreatedAt}
}

// pkg is an open package: a zip to read at random, its digest and sizes.
type pkg struct {
	r        io.ReaderAt
	size     int64
	sha256   string
	unzipped int64
	file     *os.File // when read from the object store; closed by close
}

func (p *pkg) close() {
	if p.file != nil {
		p.file.Close()
	}
}

// openCode opens a package and checks it, alone, against the unzipped limit.
func (e *Engine) openCode(ctx context.Context, c Code, lim CodeLimits) (*pkg, error) {
	p := &pkg{}
	var hashed io.Reader
	switch {
	case c.Object != nil:
		f, _, err := e.openObjectFile(ctx, c.Object.Bucket, c.Object.Key)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		p.r, p.size, p.file, hashed = f, st.Size(), f, io.NewSectionReader(f, 0, st.Size())
	default:
		p.r, p.size, hashed = bytes.NewReader(c.Zip), int64(len(c.Zip)), bytes.NewReader(c.Zip)
	}
	h := sha256.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: hashed}); err != nil {
		p.close()
		return nil, err
	}
	p.sha256 = hex.EncodeToString(h.Sum(nil))
	n, err := artifact.UnzippedSize(p.r, p.size)
	if err != nil {
		p.close()
		return nil, &InvalidParameterError{Msg: "code: " + err.Error()}
	}
	p.unzipped = n
	if n > lim.Unzipped {
		p.close()
		return nil, &CodeTooLargeError{Unzipped: true, Size: n, Limit: lim.Unzipped}
	}
	return p, nil
}

// PublishLayerVersion publishes a new version of a layer from a zip.
func (e *Engine) PublishLayerVersion(ctx context.Context, spec LayerSpec) (LayerVersion, error) {
	if !layerName.MatchString(spec.Name) {
		return LayerVersion{}, &InvalidParameterError{Msg: fmt.Sprintf("layer name %.160q is not 1-140 letters, digits, - and _", spec.Name)}
	}
	if spec.Code.empty() {
		return LayerVersion{}, &InvalidParameterError{Msg: "layer " + spec.Name + ": code is required"}
	}
	if spec.Provider == "" {
		spec.Provider = cloud.AWS
	}
	lim := CodeLimitsFor(spec.Provider)
	p, err := e.openCode(ctx, spec.Code, lim)
	if err != nil {
		return LayerVersion{}, &LayerError{Name: spec.Name, Err: err}
	}
	defer p.close()
	// Unpack now: a zip that cannot be unpacked is refused at publication,
	// as the clouds validate it, and functions find it ready.
	if _, err := e.layerDir(p.sha256, func() (io.ReaderAt, int64, func(), error) { return p.r, p.size, func() {}, nil }, lim); err != nil {
		return LayerVersion{}, &LayerError{Name: spec.Name, Err: err}
	}
	if err := e.keepLayerZip(p); err != nil {
		return LayerVersion{}, &LayerError{Name: spec.Name, Err: err}
	}
	l, err := e.store.PutLayer(ctx, store.Layer{Name: spec.Name, Description: spec.Description, Runtimes: spec.CompatibleRuntimes,
		CodeSHA256: p.sha256, CodeSize: p.size, UnzippedSize: p.unzipped, CreatedAt: time.Now().UTC()})
	if err != nil {
		return LayerVersion{}, &LayerError{Name: spec.Name, Err: err}
	}
	return layerVersion(l), nil
}

// keepLayerZip stores a layer's zip by its digest, once.
func (e *Engine) keepLayerZip(p *pkg) error {
	dst := e.layerZip(p.sha256)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(e.layersDir(), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(e.layersDir(), ".zip-")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, io.NewSectionReader(p.r, 0, p.size))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// layerDir returns the unpacked directory of the layer whose zip has digest
// sum, unpacking it (from open, which also says how to let go of what it
// opened) when it is not there yet.
func (e *Engine) layerDir(sum string, open func() (io.ReaderAt, int64, func(), error), lim CodeLimits) (string, error) {
	dest := filepath.Join(e.layersDir(), sum)
	if _, err := os.Stat(dest); err == nil {
		return dest, nil
	}
	r, size, release, err := open()
	if err != nil {
		return "", err
	}
	defer release()
	if err := os.MkdirAll(e.layersDir(), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(e.layersDir(), ".extract-")
	if err != nil {
		return "", err
	}
	if err := artifact.ExtractFrom(r, size, tmp, artifact.Limits{MaxBytes: lim.Unzipped}); err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, artifact.ErrLimit) {
			return "", &CodeTooLargeError{Unzipped: true, Size: lim.Unzipped + 1, Limit: lim.Unzipped}
		}
		return "", &InvalidParameterError{Msg: "code: " + err.Error()}
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(dest); statErr == nil {
			return dest, nil
		}
		return "", err
	}
	return dest, nil
}

// LayerVersion returns one published layer version.
func (e *Engine) LayerVersion(ctx context.Context, name string, version int) (LayerVersion, error) {
	l, err := e.store.GetLayer(ctx, name, version)
	if err != nil {
		return LayerVersion{}, &LayerError{Name: name, Version: version, Err: mapNotFound(err, ErrLayerNotFound)}
	}
	return layerVersion(l), nil
}

// ListLayerVersions returns a layer's versions, newest first; with name ""
// every layer's (by name, newest first).
func (e *Engine) ListLayerVersions(ctx context.Context, name string) ([]LayerVersion, error) {
	ls, err := e.store.ListLayers(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]LayerVersion, len(ls))
	for i, l := range ls {
		out[i] = layerVersion(l)
	}
	return out, nil
}

// DeleteLayerVersion deletes a layer version; deleting one that does not
// exist succeeds (Lambda DeleteLayerVersion). Functions deployed with it
// keep their merged copy, as on the clouds.
func (e *Engine) DeleteLayerVersion(ctx context.Context, name string, version int) error {
	l, shared, err := e.store.DeleteLayer(ctx, name, version)
	if err != nil {
		return &LayerError{Name: name, Version: version, Err: err}
	}
	if l.CodeSHA256 != "" && !shared {
		os.Remove(e.layerZip(l.CodeSHA256))
		os.RemoveAll(filepath.Join(e.layersDir(), l.CodeSHA256))
	}
	return nil
}

// resolveLayers looks up a function's layers, checks their number and
// returns them in order with the digest naming their merge ("" for none).
func (e *Engine) resolveLayers(ctx context.Context, refs []LayerRef, lim CodeLimits) ([]store.Layer, string, error) {
	if len(refs) > lim.Layers {
		return nil, "", &InvalidParameterError{Msg: fmt.Sprintf("a function may use at most %d layers, not %d", lim.Layers, len(refs))}
	}
	if len(refs) == 0 {
		return nil, "", nil
	}
	ls := make([]store.Layer, 0, len(refs))
	h := sha256.New()
	for _, ref := range refs {
		l, err := e.store.GetLayer(ctx, ref.Name, ref.Version)
		if err != nil {
			return nil, "", &LayerError{Name: ref.Name, Version: ref.Version, Err: mapNotFound(err, ErrLayerNotFound)}
		}
		ls = append(ls, l)
		fmt.Fprintf(h, "%s\n", l.CodeSHA256)
	}
	return ls, hex.EncodeToString(h.Sum(nil)), nil
}

// optDir is the merged layers directory of a function version.
func (e *Engine) optDir(layersSHA string) string {
	if layersSHA == "" {
		return ""
	}
	return filepath.Join(e.codeDir, "opt-"+layersSHA)
}

// mergeLayers builds the merged directory of ls (in order, later files
// replacing earlier ones) once; collectCode removes it when unused.
func (e *Engine) mergeLayers(ls []store.Layer, layersSHA string, lim CodeLimits) error {
	dest := e.optDir(layersSHA)
	if dest == "" {
		return nil // no layers
	}
	if _, err := os.Stat(dest); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(e.codeDir, ".merge-")
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	defer root.Close()
	for _, l := range ls {
		src, err := e.layerDir(l.CodeSHA256, func() (io.ReaderAt, int64, func(), error) {
			f, err := os.Open(e.layerZip(l.CodeSHA256))
			if err != nil {
				return nil, 0, nil, err
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, 0, nil, err
			}
			return f, st.Size(), func() { f.Close() }, nil
		}, lim)
		if err != nil {
			os.RemoveAll(tmp)
			return &LayerError{Name: l.Name, Version: l.Version, Err: err}
		}
		if err := overlay(root, src); err != nil {
			os.RemoveAll(tmp)
			return &LayerError{Name: l.Name, Version: l.Version, Err: fmt.Errorf("merge into the function's layers: %w", err)}
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(dest); statErr == nil {
			return nil
		}
		return err
	}
	return nil
}

// overlay copies the tree src into root, replacing what is there: every
// write goes through root, so no link in either tree leads a write outside.
func overlay(root *os.Root, src string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		if st, err := root.Lstat(rel); err == nil && (!d.IsDir() || !st.IsDir()) {
			if err := root.RemoveAll(rel); err != nil {
				return err
			}
		}
		switch {
		case d.IsDir():
			return root.MkdirAll(rel, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return root.Symlink(target, rel)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			in, err := os.Open(path)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil
	})
}

// layersTotal is the unzipped size of ls together.
func layersTotal(ls []store.Layer) int64 {
	var n int64
	for _, l := range ls {
		n += l.UnzippedSize
	}
	return n
}

// layerNames is for messages: "a:1, b:3".
func layerNames(ls []store.Layer) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s:%d", l.Name, l.Version)
	}
	return strings.Join(parts, ", ")
}

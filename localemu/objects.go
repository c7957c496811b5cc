package localemu

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/asyncfn/asyncfn/localemu/store"
)

// The object store: buckets of objects, cloud-neutral, that the S3 and COS
// wire fronts serve and that Deploy and PublishLayerVersion read code from
// (a function's code by object reference). An object's bytes are one file
// under StateDir/objects, named by a random id — never by its key, so no
// key (with "..", "/", NUL or anything else) reaches a path — and its
// metadata is a row in the store. Bytes are streamed to disk as they
// arrive, hashed on the way; a new version of a key replaces the old one
// atomically (readers that opened the old file read it to the end).
//
// Errors are typed: *ObjectError wraps one of the Err* sentinels below, and
// each front maps them to its cloud's error shape (S3's and COS's XML
// <Error><Code>NoSuchKey</Code>...).

// Object store errors; match with errors.Is.
var (
	ErrNoSuchBucket      = errors.New("the specified bucket does not exist")
	ErrBucketExists      = errors.New("the requested bucket name is not available")
	ErrBucketNotEmpty    = errors.New("the bucket you tried to delete is not empty")
	ErrInvalidBucketName = errors.New("the specified bucket is not valid")
	ErrNoSuchKey         = errors.New("the specified key does not exist")
	ErrInvalidKey        = errors.New("the object key is not valid")
	ErrNoSuchUpload      = errors.New("the specified multipart upload does not exist")
	ErrInvalidPart       = errors.New("one or more of the specified parts could not be found or its entity tag did not match")
	ErrInvalidPartOrder  = errors.New("the list of parts was not in ascending order")
	ErrEntityTooSmall    = errors.New("your proposed upload is smaller than the minimum allowed object size")
	ErrEntityTooLarge    = errors.New("your proposed upload exceeds the maximum allowed object size")
	ErrIncompleteBody    = errors.New("you did not provide the number of bytes specified by the Content-Length HTTP header")
)

// ObjectError is an object store error naming what it is about.
type ObjectError struct {
	Op     string // "PutObject", "GetObject", ...
	Bucket string
	Key    string // "" for bucket operations
	Err    error  // one of the Err* sentinels, or an I/O or store error
}

func (e *ObjectError) Error() string {
	where := e.Bucket
	if e.Key != "" {
		where += "/" + e.Key
	}
	return fmt.Sprintf("%s %s: %v", e.Op, where, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// Object store limits, S3's (Amazon S3 User Guide, "Uploading and copying
// objects using multipart upload": Multipart upload limits; "Creating object
// key names": 1,024 bytes of UTF-8). COS has the same part and key limits
// (COS API docs, Upload Part: 1-10000 parts, at least 1 MB each but the
// last; object key up to 850 bytes); the COS front checks its own tighter
// numbers before calling the engine.
const (
	MaxObjectKeyBytes = 1024
	MaxPartNumber     = 10000
	MinPartSize       = 5 << 20 // every part but the last
	MaxPartSize       = 5 << 30
	MaxObjectSize     = 5 << 40 // 5 TiB: a completed multipart object
	// MaxPutObjectSize is S3's single PUT limit; the emulator's wire fronts
	// may choose a lower cap (see their package docs).
	MaxPutObjectSize = 5 << 30
)

// bucketName is the intersection of S3's rules (3-63 lowercase letters,
// digits, dots and hyphens, starting and ending with a letter or digit:
// Amazon S3 User Guide, "Bucket naming rules") and COS's ("BucketName-APPID":
// lowercase letters, digits and hyphens). Dots are allowed for S3; the COS
// front refuses them itself.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// CheckBucketName returns ErrInvalidBucketName (wrapped) when name is not a
// bucket name S3 accepts.
func CheckBucketName(name string) error {
	if !bucketName.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("%w: %.80q (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)", ErrInvalidBucketName, name)
	}
	return nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the key is empty", ErrInvalidKey)
	case len(key) > MaxObjectKeyBytes:
		return fmt.Errorf("%w: the key is %d bytes, more than %d", ErrInvalidKey, len(key), MaxObjectKeyBytes)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: the key is not valid UTF-8", ErrInvalidKey)
	}
	return nil
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name      string
	CreatedAt time.Time
}

// ObjectInfo describes an object.
type ObjectInfo struct {
	Bucket, Key  string
	Size         int64
	ETag         string // hex MD5 of the bytes, or "<hex md5 of the parts' md5s>-<parts>" for a multipart object; no quotes
	LastModified time.Time
	ContentType  string
}

// ReadSeekCloser is an object's body: seek to serve a Range.
type ReadSeekCloser interface {
	io.ReadSeeker
	io.Closer
}

// Object is an open object: its description and its bytes.
type Object struct {
	ObjectInfo
	Body ReadSeekCloser
}

// PutOptions are what a PUT sets beside the bytes.
type PutOptions struct {
	ContentType string
}

// ObjectQuery selects a page of a bucket's objects (ListObjectsV2 and COS
// GET Bucket): keys with Prefix, after StartAfter (a start-after, a marker
// or a continuation token decoded by the front), at most MaxKeys (default
// and cap 1000). With a Delimiter, keys with it after the prefix are rolled
// up into CommonPrefixes, each counting as one entry.
type ObjectQuery struct {
	Bucket     string
	Prefix     string
	StartAfter string
	Delimiter  string
	MaxKeys    int
}

// ObjectPage is one page of ListObjects. Next is the last key or common
// prefix returned: the StartAfter of the next page when Truncated.
type ObjectPage struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	Truncated      bool
	Next           string
}

// CompletedPart names a part for CompleteMultipartUpload.
type CompletedPart struct {
	N    int
	ETag string // as UploadPart returned it; quotes are ignored
}

func (e *Engine) objectsDir() string { return filepath.Join(e.opts.StateDir, "objects") }

// objectPath is where an object's (or part's) file lives: named by id, in
// one of 256 directories.
func (e *Engine) objectPath(file string) string {
	return filepath.Join(e.objectsDir(), file[:2], file)
}

func newFileID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func objectInfo(o store.Object) ObjectInfo {
	return ObjectInfo{Bucket: o.Bucket, Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.Modified, ContentType: o.ContentType}
}

// mapNotFound turns the store's ErrNotFound into sentinel.
func mapNotFound(err, sentinel error) error {
	if errors.Is(err, store.ErrNotFound) {
		return sentinel
	}
	return err
}

// CreateBucket creates an empty bucket.
func (e *Engine) CreateBucket(ctx context.Context, name string) error {
	if err := CheckBucketName(name); err != nil {
		return &ObjectError{Op: "CreateBucket", Bucket: name, Err: err}
	}
	err := e.store.PutBucket(ctx, store.Bucket{Name: name, CreatedAt: time.Now().UTC()})
	if errors.Is(err, store.ErrDuplicate) {
		err = ErrBucketExists
	}
	if err != nil {
		return &ObjectError{Op: "CreateBucket", Bucket: name, Err: err}
	}
	return nil
}

// HeadBucket describes a bucket.
func (e *Engine) HeadBucket(ctx context.Context, name string) (BucketInfo, error) {
	b, err := e.store.GetBucket(ctx, name)
	if err != nil {
		return BucketInfo{}, &ObjectError{Op: "HeadBucket", Bucket: name, Err: mapNotFound(err, ErrNoSuchBucket)}
	}
	return BucketInfo(b), nil
}

// ListBuckets lists every bucket by name.
func (e *Engine) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	bs, err := e.store.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]BucketInfo, len(bs))
	for i, b := range bs {
		out[i] = BucketInfo(b)
	}
	return out, nil
}

// DeleteBucket deletes an empty bucket (ErrBucketNotEmpty otherwise) and
// aborts the multipart uploads still open in it.
func (e *Engine) DeleteBucket(ctx context.Context, name string) error {
	files, err := e.store.DeleteBucket(ctx, name)
	if err != nil {
		if errors.Is(err, store.ErrNotEmpty) {
			err = ErrBucketNotEmpty
		}
		return &ObjectError{Op: "DeleteBucket", Bucket: name, Err: mapNotFound(err, ErrNoSuchBucket)}
	}
	e.removeObjectFiles(files...)
	return nil
}

func (e *Engine) removeObjectFiles(files ...string) {
	for _, f := range files {
		if f == "" {
			continue
		}
		if err := os.Remove(e.objectPath(f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			e.log.Warn("removing an object's file", "file", f, "err", err)
		}
	}
}

// writeObjectFile streams r into a new object file, hashing it. With size
// >= 0 exactly size bytes must come (ErrIncompleteBody otherwise, and more
// are not read); with size < 0 at most limit bytes are read
// (ErrEntityTooLarge beyond). The file is removed on error.
func (e *Engine) writeObjectFile(ctx context.Context, r io.Reader, size, limit int64) (file string, n int64, sum []byte, err error) {
	if size > limit {
		return "", 0, nil, ErrEntityTooLarge
	}
	file = newFileID()
	path := e.objectPath(file)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", 0, nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	h := md5.New()
	want := size // exactly this many: never read into what follows
	if size < 0 {
		want = limit + 1
	}
	n, err = io.Copy(io.MultiWriter(f, h), &ctxReader{ctx: ctx, r: io.LimitReader(r, want)})
	switch {
	case err != nil:
		return "", 0, nil, err
	case size >= 0 && n < size:
		return "", 0, nil, ErrIncompleteBody
	case size < 0 && n > limit:
		return "", 0, nil, ErrEntityTooLarge
	}
	if err := f.Close(); err != nil {
		return "", 0, nil, err
	}
	return file, n, h.Sum(nil), nil
}

// ctxReader stops a long copy when its request ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// PutObject stores size bytes of r (size < 0: until EOF, up to
// MaxPutObjectSize) as bucket/key, replacing what was there.
func (e *Engine) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	fail := func(err error) (ObjectInfo, error) {
		return ObjectInfo{}, &ObjectError{Op: "PutObject", Bucket: bucket, Key: key, Err: err}
	}
	if err := checkKey(key); err != nil {
		return fail(err)
	}
	// Refuse before reading the body when the bucket is missing.
	if _, err := e.store.GetBucket(ctx, bucket); err != nil {
		return fail(mapNotFound(err, ErrNoSuchBucket))
	}
	file, n, sum, err := e.writeObjectFile(ctx, r, size, MaxPutObjectSize)
	if err != nil {
		return fail(err)
	}
	o := store.Object{Bucket: bucket, Key: key, File: file, Size: n, ETag: hex.EncodeToString(sum),
		ContentType: opts.ContentType, Modified: time.Now().UTC()}
	old, err := e.store.PutObject(ctx, o)
	if err != nil {
		e.removeObjectFiles(file)
		return fail(mapNotFound(err, ErrNoSuchBucket))
	}
	e.removeObjectFiles(old)
	return objectInfo(o), nil
}

// HeadObject describes an object.
func (e *Engine) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	o, err := e.lookupObject(ctx, "HeadObject", bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	return objectInfo(o), nil
}

func (e *Engine) lookupObject(ctx context.Context, op, bucket, key string) (store.Object, error) {
	o, err := e.store.GetObject(ctx, bucket, key)
	if err == nil {
		return o, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		// S3 answers NoSuchBucket before NoSuchKey.
		if _, berr := e.store.GetBucket(ctx, bucket); berr != nil {
			return store.Object{}, &ObjectError{Op: op, Bucket: bucket, Key: key, Err: mapNotFound(berr, ErrNoSuchBucket)}
		}
		err = ErrNoSuchKey
	}
	return store.Object{}, &ObjectError{Op: op, Bucket: bucket, Key: key, Err: err}
}

// GetObject opens an object; the caller closes its Body.
func (e *Engine) GetObject(ctx context.Context, bucket, key string) (Object, error) {
	for range 3 {
		o, err := e.lookupObject(ctx, "GetObject", bucket, key)
		if err != nil {
			return Object{}, err
		}
		f, err := os.Open(e.objectPath(o.File))
		if errors.Is(err, os.ErrNotExist) {
			continue // replaced between the lookup and the open: look again
		}
		if err != nil {
			return Object{}, &ObjectError{Op: "GetObject", Bucket: bucket, Key: key, Err: err}
		}
		return Object{ObjectInfo: objectInfo(o), Body: f}, nil
	}
	return Object{}, &ObjectError{Op: "GetObject", Bucket: bucket, Key: key, Err: errors.New("the object kept changing while it was opened")}
}

// DeleteObject deletes an object; deleting a missing key succeeds, as on S3
// and COS, but the bucket must exist.
func (e *Engine) DeleteObject(ctx context.Context, bucket, key string) error {
	if _, err := e.store.GetBucket(ctx, bucket); err != nil {
		return &ObjectError{Op: "DeleteObject", Bucket: bucket, Key: key, Err: mapNotFound(err, ErrNoSuchBucket)}
	}
	file, err := e.store.DeleteObject(ctx, bucket, key)
	if err != nil {
		return &ObjectError{Op: "DeleteObject", Bucket: bucket, Key: key, Err: err}
	}
	e.removeObjectFiles(file)
	return nil
}

// ListObjects returns one page of a bucket's objects in key order.
func (e *Engine) ListObjects(ctx context.Context, q ObjectQuery) (ObjectPage, error) {
	if _, err := e.store.GetBucket(ctx, q.Bucket); err != nil {
		return ObjectPage{}, &ObjectError{Op: "ListObjects", Bucket: q.Bucket, Err: mapNotFound(err, ErrNoSuchBucket)}
	}
	if q.MaxKeys <= 0 || q.MaxKeys > 1000 {
		q.MaxKeys = 1000
	}
	var page ObjectPage
	lastPrefix := ""
	err := e.store.ScanObjects(ctx, q.Bucket, q.Prefix, q.StartAfter, func(o store.Object) bool {
		cp := ""
		if q.Delimiter != "" {
			if i := strings.Index(o.Key[len(q.Prefix):], q.Delimiter); i >= 0 {
				cp = o.Key[:len(q.Prefix)+i+len(q.Delimiter)]
			}
		}
		if cp != "" && cp == lastPrefix {
			return true // rolled up into the prefix already returned
		}
		if cp != "" && strings.HasPrefix(q.StartAfter, cp) {
			return true // the previous page returned this prefix
		}
		if len(page.Objects)+len(page.CommonPrefixes) == q.MaxKeys {
			page.Truncated = true
			return false
		}
		if cp != "" {
			page.CommonPrefixes = append(page.CommonPrefixes, cp)
			lastPrefix, page.Next = cp, cp
			return true
		}
		page.Objects = append(page.Objects, objectInfo(o))
		page.Next = o.Key
		return true
	})
	if err != nil {
		return ObjectPage{}, &ObjectError{Op: "ListObjects", Bucket: q.Bucket, Err: err}
	}
	if page.Truncated && strings.HasSuffix(page.Next, q.Delimiter) && q.Delimiter != "" {
		// Resume after every key of the last prefix: the smallest string
		// above all keys that start with it.
		page.Next += string(utf8.MaxRune)
	}
	return page, nil
}

// CreateMultipartUpload starts a multipart upload and returns its id.
func (e *Engine) CreateMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error) {
	if err := checkKey(key); err != nil {
		return "", &ObjectError{Op: "CreateMultipartUpload", Bucket: bucket, Key: key, Err: err}
	}
	id := newFileID()
	err := e.store.CreateUpload(ctx, store.Upload{ID: id, Bucket: bucket, Key: key, ContentType: opts.ContentType, CreatedAt: time.Now().UTC()})
	if err != nil {
		return "", &ObjectError{Op: "CreateMultipartUpload", Bucket: bucket, Key: key, Err: mapNotFound(err, ErrNoSuchBucket)}
	}
	return id, nil
}

func (e *Engine) upload(ctx context.Context, op, bucket, key, id string) error {
	u, err := e.store.GetUpload(ctx, id)
	if err == nil && (u.Bucket != bucket || u.Key != key) {
		err = store.ErrNotFound
	}
	if err != nil {
		return &ObjectError{Op: op, Bucket: bucket, Key: key, Err: mapNotFound(err, ErrNoSuchUpload)}
	}
	return nil
}

// UploadPart stores part n (1-10000) of an upload and returns its ETag
// (hex MD5, no quotes). A part uploaded again replaces the earlier one.
func (e *Engine) UploadPart(ctx context.Context, bucket, key, uploadID string, n int, r io.Reader, size int64) (string, error) {
	fail := func(err error) (string, error) {
		return "", &ObjectError{Op: "UploadPart", Bucket: bucket, Key: key, Err: err}
	}
	if n < 1 || n > MaxPartNumber {
		return fail(fmt.Errorf("%w: part number %d is outside 1-%d", ErrInvalidPart, n, MaxPartNumber))
	}
	if err := e.upload(ctx, "UploadPart", bucket, key, uploadID); err != nil {
		return "", err
	}
	file, got, sum, err := e.writeObjectFile(ctx, r, size, MaxPartSize)
	if err != nil {
		return fail(err)
	}
	etag := hex.EncodeToString(sum)
	old, err := e.store.PutPart(ctx, store.Part{UploadID: uploadID, N: n, File: file, Size: got, ETag: etag})
	if err != nil {
		e.removeObjectFiles(file)
		return fail(mapNotFound(err, ErrNoSuchUpload))
	}
	e.removeObjectFiles(old)
	return etag, nil
}

// CompleteMultipartUpload joins the named parts, in order, into the object.
// As S3: parts must be listed in ascending order, each must exist with the
// ETag given, and all but the last must be at least MinPartSize; the ETag
// of the object is the MD5 of the parts' binary MD5s, "-", their count.
func (e *Engine) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletedPart) (ObjectInfo, error) {
	fail := func(err error) (ObjectInfo, error) {
		return ObjectInfo{}, &ObjectError{Op: "CompleteMultipartUpload", Bucket: bucket, Key: key, Err: err}
	}
	if err := e.upload(ctx, "CompleteMultipartUpload", bucket, key, uploadID); err != nil {
		return ObjectInfo{}, err
	}
	u, err := e.store.GetUpload(ctx, uploadID)
	if err != nil {
		return fail(mapNotFound(err, ErrNoSuchUpload))
	}
	if len(parts) == 0 {
		return fail(fmt.Errorf("%w: the upload names no parts", ErrInvalidPart))
	}
	stored, err := e.store.Parts(ctx, uploadID)
	if err != nil {
		return fail(err)
	}
	byN := make(map[int]store.Part, len(stored))
	for _, p := range stored {
		byN[p.N] = p
	}
	chosen := make([]store.Part, 0, len(parts))
	for i, cp := range parts {
		if i > 0 && cp.N <= parts[i-1].N {
			return fail(ErrInvalidPartOrder)
		}
		p, ok := byN[cp.N]
		if !ok || !strings.EqualFold(strings.Trim(cp.ETag, `"`), p.ETag) {
			return fail(fmt.Errorf("%w: part %d", ErrInvalidPart, cp.N))
		}
		chosen = append(chosen, p)
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.Size < MinPartSize {
			return fail(fmt.Errorf("%w: part %d is %d bytes, less than %d", ErrEntityTooSmall, p.N, p.Size, MinPartSize))
		}
	}
	file, size, etag, err := e.joinParts(ctx, chosen)
	if err != nil {
		return fail(err)
	}
	o := store.Object{Bucket: bucket, Key: key, File: file, Size: size, ETag: etag, ContentType: u.ContentType, Modified: time.Now().UTC()}
	old, err := e.store.CompleteUpload(ctx, uploadID, o)
	if err != nil {
		e.removeObjectFiles(file)
		if errors.Is(err, store.ErrNotFound) {
			// The upload was aborted or completed meanwhile, or its bucket deleted.
			if _, berr := e.store.GetBucket(ctx, bucket); berr != nil {
				err = ErrNoSuchBucket
			} else {
				err = ErrNoSuchUpload
			}
		}
		return fail(err)
	}
	e.removeObjectFiles(old...)
	return objectInfo(o), nil
}

// joinParts concatenates parts into a new object file.
func (e *Engine) joinParts(ctx context.Context, parts []store.Part) (file string, size int64, etag string, err error) {
	readers := make([]io.Reader, 0, len(parts))
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	md5s := md5.New()
	for _, p := range parts {
		f, err := os.Open(e.objectPath(p.File))
		if err != nil {
			return "", 0, "", fmt.Errorf("%w: part %d: %v", ErrInvalidPart, p.N, err)
		}
		closers = append(closers, f)
		readers = append(readers, f)
		raw, _ := hex.DecodeString(p.ETag)
		md5s.Write(raw)
		size += p.Size
	}
	if size > MaxObjectSize {
		return "", 0, "", ErrEntityTooLarge
	}
	file, n, _, err := e.writeObjectFile(ctx, io.MultiReader(readers...), size, MaxObjectSize)
	if err != nil {
		return "", 0, "", err
	}
	return file, n, fmt.Sprintf("%s-%d", hex.EncodeToString(md5s.Sum(nil)), len(parts)), nil
}

// AbortMultipartUpload discards an upload and its parts.
func (e *Engine) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if err := e.upload(ctx, "AbortMultipartUpload", bucket, key, uploadID); err != nil {
		return err
	}
	files, err := e.store.AbortUpload(ctx, uploadID)
	if err != nil {
		return &ObjectError{Op: "AbortMultipartUpload", Bucket: bucket, Key: key, Err: mapNotFound(err, ErrNoSuchUpload)}
	}
	e.removeObjectFiles(files...)
	return nil
}

// openObjectFile opens an object for the engine's own reading (code and
// layers by object reference), with its row.
func (e *Engine) openObjectFile(ctx context.Context, bucket, key string) (*os.File, store.Object, error) {
	o, err := e.GetObject(ctx, bucket, key)
	if err != nil {
		return nil, store.Object{}, err
	}
	return o.Body.(*os.File), store.Object{Bucket: bucket, Key: key, Size: o.Size, ETag: o.ETag}, nil
}

// sweepObjects removes object files no row names: written by a process that
// died before recording them (or after replacing them). It runs at start,
// before any request can be writing one.
func (e *Engine) sweepObjects(ctx context.Context) {
	keep, err := e.store.ObjectFiles(ctx)
	if err != nil {
		e.log.Warn("sweeping unrecorded object files", "err", err)
		return
	}
	shards, _ := os.ReadDir(e.objectsDir())
	for _, sh := range shards {
		files, _ := os.ReadDir(filepath.Join(e.objectsDir(), sh.Name()))
		for _, f := range files {
			if !keep[f.Name()] {
				e.removeObjectFiles(f.Name())
			}
		}
	}
}

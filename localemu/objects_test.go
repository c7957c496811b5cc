package localemu

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestObjectStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEngine(t, dir, Options{})
	defer closeEngine(t, e)

	if err := e.CreateBucket(ctx, "Bad_Name"); !errors.Is(err, ErrInvalidBucketName) {
		t.Fatalf("bad bucket name: %v", err)
	}
	if _, err := e.PutObject(ctx, "missing", "k", strings.NewReader("x"), 1, PutOptions{}); !errors.Is(err, ErrNoSuchBucket) || KindOf(err) != KindNotFound {
		t.Fatalf("put into a missing bucket: %v", err)
	}
	if err := e.CreateBucket(ctx, "bkt1"); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateBucket(ctx, "bkt1"); !errors.Is(err, ErrBucketExists) {
		t.Fatalf("bucket twice: %v", err)
	}
	// Keys that would be paths if the store used them as such.
	keys := []string{"../../escape", "a/b/c.txt", "/abs", "é/ünïcode ✓", "a/", "a", strings.Repeat("k", MaxObjectKeyBytes)}
	for i, k := range keys {
		body := fmt.Sprintf("body %d", i)
		info, err := e.PutObject(ctx, "bkt1", k, strings.NewReader(body), int64(len(body)), PutOptions{ContentType: "text/plain"})
		if err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
		sum := md5.Sum([]byte(body))
		if info.ETag != hex.EncodeToString(sum[:]) || info.Size != int64(len(body)) {
			t.Fatalf("put %q = %+v", k, info)
		}
	}
	// Nothing was written outside the state directory's objects folder.
	if _, err := os.Stat(filepath.Join(dir, "..", "escape")); err == nil {
		t.Fatal("a key escaped the state directory")
	}
	for i, k := range keys {
		o, err := e.GetObject(ctx, "bkt1", k)
		if err != nil {
			t.Fatalf("get %q: %v", k, err)
		}
		b, _ := io.ReadAll(o.Body)
		o.Body.Close()
		if string(b) != fmt.Sprintf("body %d", i) || o.ContentType != "text/plain" {
			t.Fatalf("get %q = %q %q", k, b, o.ContentType)
		}
	}
	if _, err := e.PutObject(ctx, "bkt1", strings.Repeat("k", MaxObjectKeyBytes+1), strings.NewReader(""), 0, PutOptions{}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("key too long: %v", err)
	}
	if _, err := e.PutObject(ctx, "bkt1", "short", strings.NewReader("abc"), 10, PutOptions{}); !errors.Is(err, ErrIncompleteBody) {
		t.Fatalf("short body: %v", err)
	}
	if _, err := e.HeadObject(ctx, "bkt1", "short"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("a failed put left an object: %v", err)
	}
	if _, err := e.HeadObject(ctx, "nob", "k"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("head in a missing bucket: %v", err)
	}

	// Listing: prefix, delimiter, pages.
	page, err := e.ListObjects(ctx, ObjectQuery{Bucket: "bkt1", Prefix: "a", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 1 || page.Objects[0].Key != "a" || len(page.CommonPrefixes) != 1 || page.CommonPrefixes[0] != "a/" {
		t.Fatalf("list a with / = %+v", page)
	}
	var all []string
	after := ""
	for {
		p, err := e.ListObjects(ctx, ObjectQuery{Bucket: "bkt1", StartAfter: after, MaxKeys: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			all = append(all, o.Key)
		}
		if !p.Truncated {
			break
		}
		after = p.Next
	}
	if len(all) != len(keys) {
		t.Fatalf("paged listing = %q", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] >= all[i] {
			t.Fatalf("listing not in byte order: %q", all)
		}
	}

	// Replacing and deleting remove the old files.
	if _, err := e.PutObject(ctx, "bkt1", "a", strings.NewReader("new"), 3, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteBucket(ctx, "bkt1"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("delete a full bucket: %v", err)
	}
	for _, k := range keys {
		if err := e.DeleteObject(ctx, "bkt1", k); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DeleteObject(ctx, "bkt1", "never-there"); err != nil {
		t.Fatalf("deleting a missing key succeeds on S3: %v", err)
	}
	if n := countFiles(t, e.objectsDir()); n != 0 {
		t.Fatalf("%d object files left after deleting every object", n)
	}
	if err := e.DeleteBucket(ctx, "bkt1"); err != nil {
		t.Fatal(err)
	}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func TestMultipartUpload(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	if err := e.CreateBucket(ctx, "mpart"); err != nil {
		t.Fatal(err)
	}
	id, err := e.CreateMultipartUpload(ctx, "mpart", "big.bin", PutOptions{ContentType: "application/zip"})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{make([]byte, MinPartSize), make([]byte, MinPartSize), []byte("tail")}
	for _, p := range parts[:2] {
		rand.Read(p)
	}
	var done []CompletedPart
	md5s := md5.New()
	for i, p := range parts {
		etag, err := e.UploadPart(ctx, "mpart", "big.bin", id, i+1, bytes.NewReader(p), int64(len(p)))
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(p)
		md5s.Write(sum[:])
		done = append(done, CompletedPart{N: i + 1, ETag: `"` + etag + `"`})
	}
	if _, err := e.UploadPart(ctx, "mpart", "big.bin", id, MaxPartNumber+1, strings.NewReader("x"), 1); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("part 10001: %v", err)
	}
	if _, err := e.UploadPart(ctx, "mpart", "big.bin", "nope", 1, strings.NewReader("x"), 1); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("unknown upload: %v", err)
	}
	if _, err := e.CompleteMultipartUpload(ctx, "mpart", "big.bin", id, []CompletedPart{done[1], done[0]}); !errors.Is(err, ErrInvalidPartOrder) {
		t.Fatalf("parts out of order: %v", err)
	}
	if _, err := e.CompleteMultipartUpload(ctx, "mpart", "big.bin", id, []CompletedPart{{N: 1, ETag: "0000"}}); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("wrong etag: %v", err)
	}
	if _, err := e.CompleteMultipartUpload(ctx, "mpart", "big.bin", id, []CompletedPart{done[2], {N: 4, ETag: done[2].ETag}}); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("missing part: %v", err)
	}
	info, err := e.CompleteMultipartUpload(ctx, "mpart", "big.bin", id, done)
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(md5s.Sum(nil)) + "-3"
	if info.ETag != want || info.Size != int64(2*MinPartSize+4) || info.ContentType != "application/zip" {
		t.Fatalf("completed = %+v, want etag %s", info, want)
	}
	o, err := e.GetObject(ctx, "mpart", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Body.Close()
	if _, err := o.Body.Seek(int64(2*MinPartSize), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(o.Body)
	if string(tail) != "tail" {
		t.Fatalf("tail = %q", tail)
	}
	// Parts are gone once completed; a small middle part is refused.
	id2, _ := e.CreateMultipartUpload(ctx, "mpart", "small", PutOptions{})
	e1, _ := e.UploadPart(ctx, "mpart", "small", id2, 1, strings.NewReader("tiny"), 4)
	e2, _ := e.UploadPart(ctx, "mpart", "small", id2, 2, strings.NewReader("tiny"), 4)
	if _, err := e.CompleteMultipartUpload(ctx, "mpart", "small", id2, []CompletedPart{{1, e1}, {2, e2}}); !errors.Is(err, ErrEntityTooSmall) {
		t.Fatalf("small part: %v", err)
	}
	if err := e.AbortMultipartUpload(ctx, "mpart", "small", id2); err != nil {
		t.Fatal(err)
	}
	if err := e.AbortMultipartUpload(ctx, "mpart", "small", id2); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("abort twice: %v", err)
	}
	if n := countFiles(t, e.objectsDir()); n != 1 {
		t.Fatalf("%d object files, want the one object", n)
	}
}

// A file left in the object directory by a process that died before
// recording it is removed at the next start; recorded objects stay.
func TestUnrecordedObjectFilesAreSweptAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEngine(t, dir, Options{})
	if err := e.CreateBucket(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutObject(ctx, "kept", "k", strings.NewReader("v"), 1, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	orphan := e.objectPath(newFileID())
	os.MkdirAll(filepath.Dir(orphan), 0o700)
	if err := os.WriteFile(orphan, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	closeEngine(t, e)
	e = newEngine(t, dir, Options{})
	defer closeEngine(t, e)
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the orphan is still there: %v", err)
	}
	o, err := e.GetObject(ctx, "kept", "k")
	if err != nil {
		t.Fatal(err)
	}
	o.Body.Close()
	if n := countFiles(t, e.objectsDir()); n != 1 {
		t.Fatalf("%d files, want the one object's", n)
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotEmpty is returned (wrapped) when a bucket that still holds objects is deleted.
var ErrNotEmpty = errors.New("not empty")

// Bucket is one bucket of the object store.
type Bucket struct {
	Name      string
	CreatedAt time.Time
}

// Object is one object's row: its bytes are the file File names (relative
// to the engine's object directory), never stored in the database.
type Object struct {
	Bucket, Key string
	File        string
	Size        int64
	ETag        string // without quotes
	ContentType string
	Modified    time.Time
}

// Upload is a multipart upload in progress.
type Upload struct {
	ID, Bucket, Key string
	ContentType     string
	CreatedAt       time.Time
}

// Part is one uploaded part of an Upload.
type Part struct {
	UploadID string
	N        int
	File     string
	Size     int64
	ETag     string
}

// Layer is one published layer version. Runtimes are the compatible
// runtimes, as given.
type Layer struct {
	Name         string
	Version      int
	Description  string
	Runtimes     []string
	CodeSHA256   string // hex
	CodeSize     int64  // the zip
	UnzippedSize int64
	CreatedAt    time.Time
}

func unixNano(t time.Time) int64 { return t.UnixNano() }

// PutBucket creates a bucket; an error wrapping ErrDuplicate if it exists.
func (s *Store) PutBucket(ctx context.Context, b Bucket) error {
	return s.write(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO buckets (name, created_at) VALUES (?, ?)`, b.Name, unixNano(b.CreatedAt))
		if isConstraintUnique(err) {
			return fmt.Errorf("bucket %s: %w", b.Name, ErrDuplicate)
		}
		if err != nil {
			return dbErr(s.path, "create bucket "+b.Name, err)
		}
		return nil
	})
}

// GetBucket returns a bucket, or an error wrapping ErrNotFound.
func (s *Store) GetBucket(ctx context.Context, name string) (Bucket, error) {
	var created int64
	err := s.rdb.QueryRowContext(ctx, `SELECT created_at FROM buckets WHERE name = ?`, name).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return Bucket{}, fmt.Errorf("bucket %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Bucket{}, dbErr(s.path, "get bucket "+name, err)
	}
	return Bucket{Name: name, CreatedAt: time.Unix(0, created).UTC()}, nil
}

// ListBuckets returns every bucket, by name.
func (s *Store) ListBuckets(ctx context.Context) ([]Bucket, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, created_at FROM buckets ORDER BY name`)
	if err != nil {
		return nil, dbErr(s.path, "list buckets", err)
	}
	defer rows.Close()
	out := []Bucket{}
	for rows.Next() {
		var b Bucket
		var created int64
		if err := rows.Scan(&b.Name, &created); err != nil {
			return nil, dbErr(s.path, "list buckets", err)
		}
		b.CreatedAt = time.Unix(0, created).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// DeleteBucket deletes an empty bucket and the uploads still open in it,
// returning their parts' files for the caller to remove. Errors wrap
// ErrNotFound or ErrNotEmpty.
func (s *Store) DeleteBucket(ctx context.Context, name string) (partFiles []string, err error) {
	err = s.write(ctx, func(w *writer) error {
		partFiles = nil
		var one int
		err := w.c.QueryRowContext(w.ctx, `SELECT 1 FROM objects WHERE bucket = ? LIMIT 1`, name).Scan(&one)
		if err == nil {
			return fmt.Errorf("bucket %s: %w", name, ErrNotEmpty)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbErr(s.path, "delete bucket "+name, err)
		}
		res, err := w.exec(`DELETE FROM buckets WHERE name = ?`, name)
		if err != nil {
			return dbErr(s.path, "delete bucket "+name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("bucket %s: %w", name, ErrNotFound)
		}
		files, err := w.strings(`SELECT p.file FROM upload_parts p JOIN uploads u ON u.id = p.upload_id WHERE u.bucket = ?`, name)
		if err != nil {
			return dbErr(s.path, "delete bucket "+name, err)
		}
		partFiles = files
		if _, err := w.exec(`DELETE FROM upload_parts WHERE upload_id IN (SELECT id FROM uploads WHERE bucket = ?)`, name); err != nil {
			return dbErr(s.path, "delete bucket "+name, err)
		}
		if _, err := w.exec(`DELETE FROM uploads WHERE bucket = ?`, name); err != nil {
			return dbErr(s.path, "delete bucket "+name, err)
		}
		return nil
	})
	return partFiles, err
}

// strings runs a query of one text column on the writer connection.
func (w *writer) strings(q string, args ...any) ([]string, error) {
	rows, err := w.c.QueryContext(w.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (w *writer) bucketExists(name string) error {
	var one int
	err := w.c.QueryRowContext(w.ctx, `SELECT 1 FROM buckets WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("bucket %s: %w", name, ErrNotFound)
	}
	return err
}

// replaceObject upserts o and returns the file of the object it replaced ("" if none).
func (w *writer) replaceObject(o Object) (string, error) {
	var old string
	err := w.c.QueryRowContext(w.ctx, `SELECT file FROM objects WHERE bucket = ? AND key = ?`, o.Bucket, o.Key).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	_, err = w.exec(`INSERT OR REPLACE INTO objects (bucket, key, file, size, etag, content_type, modified) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		o.Bucket, o.Key, o.File, o.Size, o.ETag, o.ContentType, unixNano(o.Modified))
	return old, err
}

// PutObject stores an object's row, replacing the key's previous one, whose
// file it returns ("" if none). The bucket must exist (else an error
// wrapping ErrNotFound).
func (s *Store) PutObject(ctx context.Context, o Object) (oldFile string, err error) {
	err = s.write(ctx, func(w *writer) error {
		if err := w.bucketExists(o.Bucket); err != nil {
			return err
		}
		old, err := w.replaceObject(o)
		if err != nil {
			return dbErr(s.path, "put object", err)
		}
		oldFile = old
		return nil
	})
	return oldFile, err
}

const objectCols = `bucket, key, file, size, etag, content_type, modified`

func scanObject(r scanner) (Object, error) {
	var o Object
	var mod int64
	if err := r.Scan(&o.Bucket, &o.Key, &o.File, &o.Size, &o.ETag, &o.ContentType, &mod); err != nil {
		return Object{}, err
	}
	o.Modified = time.Unix(0, mod).UTC()
	return o, nil
}

// GetObject returns an object's row, or an error wrapping ErrNotFound.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (Object, error) {
	o, err := scanObject(s.rdb.QueryRowContext(ctx, `SELECT `+objectCols+` FROM objects WHERE bucket = ? AND key = ?`, bucket, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Object{}, fmt.Errorf("object %s/%s: %w", bucket, key, ErrNotFound)
	}
	if err != nil {
		return Object{}, dbErr(s.path, "get object", err)
	}
	return o, nil
}

// DeleteObject deletes an object's row and returns its file ("" when there
// was no such object).
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) (file string, err error) {
	err = s.write(ctx, func(w *writer) error {
		file = ""
		err := w.c.QueryRowContext(w.ctx, `DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING file`, bucket, key).Scan(&file)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return dbErr(s.path, "delete object", err)
		}
		return nil
	})
	return file, err
}

// ScanObjects calls fn with the bucket's objects whose key starts with
// prefix and sorts after after, in key order, until fn returns false.
func (s *Store) ScanObjects(ctx context.Context, bucket, prefix, after string, fn func(Object) bool) error {
	from := prefix
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+objectCols+` FROM objects WHERE bucket = ? AND key >= ? AND key > ? ORDER BY key`,
		bucket, from, after)
	if err != nil {
		return dbErr(s.path, "list objects", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return dbErr(s.path, "list objects", err)
		}
		if !strings.HasPrefix(o.Key, prefix) {
			return nil // past the prefix's keys: they sort together
		}
		if !fn(o) {
			return nil
		}
	}
	return rows.Err()
}

// CreateUpload records a multipart upload; the bucket must exist.
func (s *Store) CreateUpload(ctx context.Context, u Upload) error {
	return s.write(ctx, func(w *writer) error {
		if err := w.bucketExists(u.Bucket); err != nil {
			return err
		}
		if _, err := w.exec(`INSERT INTO uploads (id, bucket, key, content_type, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.ID, u.Bucket, u.Key, u.ContentType, unixNano(u.CreatedAt)); err != nil {
			return dbErr(s.path, "create upload", err)
		}
		return nil
	})
}

// GetUpload returns an upload, or an error wrapping ErrNotFound.
func (s *Store) GetUpload(ctx context.Context, id string) (Upload, error) {
	u := Upload{ID: id}
	var created int64
	err := s.rdb.QueryRowContext(ctx, `SELECT bucket, key, content_type, created_at FROM uploads WHERE id = ?`, id).
		Scan(&u.Bucket, &u.Key, &u.ContentType, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, fmt.Errorf("upload %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Upload{}, dbErr(s.path, "get upload", err)
	}
	u.CreatedAt = time.Unix(0, created).UTC()
	return u, nil
}

// PutPart records a part (replacing the same number's earlier upload, whose
// file it returns). The upload must exist (else ErrNotFound).
func (s *Store) PutPart(ctx context.Context, p Part) (oldFile string, err error) {
	err = s.write(ctx, func(w *writer) error {
		oldFile = ""
		var one int
		if err := w.c.QueryRowContext(w.ctx, `SELECT 1 FROM uploads WHERE id = ?`, p.UploadID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("upload %s: %w", p.UploadID, ErrNotFound)
		} else if err != nil {
			return dbErr(s.path, "put part", err)
		}
		err := w.c.QueryRowContext(w.ctx, `SELECT file FROM upload_parts WHERE upload_id = ? AND n = ?`, p.UploadID, p.N).Scan(&oldFile)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return dbErr(s.path, "put part", err)
		}
		if _, err := w.exec(`INSERT OR REPLACE INTO upload_parts (upload_id, n, file, size, etag) VALUES (?, ?, ?, ?, ?)`,
			p.UploadID, p.N, p.File, p.Size, p.ETag); err != nil {
			return dbErr(s.path, "put part", err)
		}
		return nil
	})
	return oldFile, err
}

// Parts lists an upload's parts by number.
func (s *Store) Parts(ctx context.Context, uploadID string) ([]Part, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT n, file, size, etag FROM upload_parts WHERE upload_id = ? ORDER BY n`, uploadID)
	if err != nil {
		return nil, dbErr(s.path, "list parts", err)
	}
	defer rows.Close()
	var out []Part
	for rows.Next() {
		p := Part{UploadID: uploadID}
		if err := rows.Scan(&p.N, &p.File, &p.Size, &p.ETag); err != nil {
			return nil, dbErr(s.path, "list parts", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CompleteUpload ends an upload with the object o: the upload and its parts
// are deleted (their files returned for removal) and o replaces the key's
// object (whose file is returned too). The upload must still exist.
func (s *Store) CompleteUpload(ctx context.Context, id string, o Object) (oldFiles []string, err error) {
	err = s.write(ctx, func(w *writer) error {
		oldFiles = nil
		parts, err := w.endUpload(id)
		if err != nil {
			return err
		}
		if err := w.bucketExists(o.Bucket); err != nil {
			return err
		}
		old, err := w.replaceObject(o)
		if err != nil {
			return dbErr(s.path, "complete upload", err)
		}
		oldFiles = parts
		if old != "" {
			oldFiles = append(oldFiles, old)
		}
		return nil
	})
	return oldFiles, err
}

// AbortUpload deletes an upload and returns its parts' files.
func (s *Store) AbortUpload(ctx context.Context, id string) (partFiles []string, err error) {
	err = s.write(ctx, func(w *writer) error {
		partFiles, err = w.endUpload(id)
		return err
	})
	return partFiles, err
}

func (w *writer) endUpload(id string) ([]string, error) {
	res, err := w.exec(`DELETE FROM uploads WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("upload %s: %w", id, ErrNotFound)
	}
	files, err := w.strings(`DELETE FROM upload_parts WHERE upload_id = ? RETURNING file`, id)
	if err != nil {
		return nil, err
	}
	return files, nil
}

// PutLayer publishes a layer version: Version is one more than the last
// version ever published under the name (deleted ones included) and is set
// on the returned Layer.
func (s *Store) PutLayer(ctx context.Context, l Layer) (Layer, error) {
	err := s.write(ctx, func(w *writer) error {
		var last int
		err := w.c.QueryRowContext(w.ctx, `SELECT last_version FROM layer_names WHERE name = ?`, l.Name).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return dbErr(s.path, "publish layer "+l.Name, err)
		}
		l.Version = last + 1
		if _, err := w.exec(`INSERT OR REPLACE INTO layer_names (name, last_version) VALUES (?, ?)`, l.Name, l.Version); err != nil {
			return dbErr(s.path, "publish layer "+l.Name, err)
		}
		if _, err := w.exec(`INSERT INTO layers (name, version, description, runtimes, code_sha256, code_size, unzipped_size, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.Name, l.Version, l.Description, strings.Join(l.Runtimes, "\n"),
			l.CodeSHA256, l.CodeSize, l.UnzippedSize, unixNano(l.CreatedAt)); err != nil {
			return dbErr(s.path, "publish layer "+l.Name, err)
		}
		return nil
	})
	return l, err
}

const layerCols = `name, version, description, runtimes, code_sha256, code_size, unzipped_size, created_at`

func scanLayer(r scanner) (Layer, error) {
	var l Layer
	var runtimes string
	var created int64
	if err := r.Scan(&l.Name, &l.Version, &l.Description, &runtimes, &l.CodeSHA256, &l.CodeSize, &l.UnzippedSize, &created); err != nil {
		return Layer{}, err
	}
	if runtimes != "" {
		l.Runtimes = strings.Split(runtimes, "\n")
	}
	l.CreatedAt = time.Unix(0, created).UTC()
	return l, nil
}

// GetLayer returns one layer version, or an error wrapping ErrNotFound.
func (s *Store) GetLayer(ctx context.Context, name string, version int) (Layer, error) {
	l, err := scanLayer(s.rdb.QueryRowContext(ctx, `SELECT `+layerCols+` FROM layers WHERE name = ? AND version = ?`, name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return Layer{}, fmt.Errorf("layer %s version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return Layer{}, dbErr(s.path, "get layer "+name, err)
	}
	return l, nil
}

// ListLayers returns the versions of a layer, newest first; every layer's
// versions (by name, newest first) when name is "".
func (s *Store) ListLayers(ctx context.Context, name string) ([]Layer, error) {
	q := `SELECT ` + layerCols + ` FROM layers WHERE ? = '' OR name = ? ORDER BY name, version DESC`
	rows, err := s.rdb.QueryContext(ctx, q, name, name)
	if err != nil {
		return nil, dbErr(s.path, "list layers", err)
	}
	defer rows.Close()
	out := []Layer{}
	for rows.Next() {
		l, err := scanLayer(rows)
		if err != nil {
			return nil, dbErr(s.path, "list layers", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DeleteLayer deletes one layer version (no error when it does not exist,
// as Lambda's DeleteLayerVersion) and says whether another version still
// uses its code (so the caller keeps the zip).
func (s *Store) DeleteLayer(ctx context.Context, name string, version int) (deleted Layer, shared bool, err error) {
	err = s.write(ctx, func(w *writer) error {
		l, err := scanLayer(w.c.QueryRowContext(w.ctx, `DELETE FROM layers WHERE name = ? AND version = ? RETURNING `+layerCols, name, version))
		if errors.Is(err, sql.ErrNoRows) {
			deleted, shared = Layer{}, false
			return nil
		}
		if err != nil {
			return dbErr(s.path, "delete layer "+name, err)
		}
		var one int
		err = w.c.QueryRowContext(w.ctx, `SELECT 1 FROM layers WHERE code_sha256 = ? LIMIT 1`, l.CodeSHA256).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return dbErr(s.path, "delete layer "+name, err)
		}
		deleted, shared = l, err == nil
		return nil
	})
	return deleted, shared, err
}

// ObjectFiles returns the file of every object and uploaded part: what the
// object directory must keep (the engine removes the rest at start, left by
// a process that died between writing a file and recording it).
func (s *Store) ObjectFiles(ctx context.Context) (map[string]bool, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT file FROM objects UNION ALL SELECT file FROM upload_parts`)
	if err != nil {
		return nil, dbErr(s.path, "list object files", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, dbErr(s.path, "list object files", err)
		}
		out[f] = true
	}
	return out, rows.Err()
}

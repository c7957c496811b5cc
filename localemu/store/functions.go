package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const functionCols = `name, version, config, code_sha256, code_size, created_at, updated_at, layers_sha256`

// PutFunction stores a new version of f.Name: Version is the latest stored
// version + 1 (1 for a new name), CreatedAt is the first version's creation
// time (now for a new name) and UpdatedAt is now; f's own Version, CreatedAt
// and UpdatedAt are ignored. It returns the stored row once committed.
func (s *Store) PutFunction(ctx context.Context, f Function) (Function, error) {
	if f.Name == "" {
		return Function{}, errors.New("store: put function: empty name")
	}
	now := s.opts.Now()
	err := s.write(ctx, func(w *writer) error {
		var last sql.NullInt64
		var created sql.NullInt64
		if err := w.c.QueryRowContext(w.ctx, `SELECT max(version), min(created_at) FROM functions WHERE name = ?`,
			f.Name).Scan(&last, &created); err != nil {
			return dbErr(s.path, "put function "+f.Name, err)
		}
		f.Version = int(last.Int64) + 1
		f.UpdatedAt = time.Unix(0, now.UnixNano()).UTC()
		f.CreatedAt = f.UpdatedAt
		if created.Valid {
			f.CreatedAt = timeOf(created)
		}
		var config any
		if f.Config != nil {
			config = []byte(f.Config)
		}
		if _, err := w.exec(`INSERT INTO functions (`+functionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			f.Name, f.Version, config, f.CodeSHA256, f.CodeSize, f.CreatedAt.UnixNano(), f.UpdatedAt.UnixNano(), f.LayersSHA256); err != nil {
			return dbErr(s.path, "put function "+f.Name, err)
		}
		return nil
	})
	if err != nil {
		return Function{}, err
	}
	return f, nil
}

func scanFunction(r scanner) (Function, error) {
	var f Function
	var config []byte
	var created, updated int64
	if err := r.Scan(&f.Name, &f.Version, &config, &f.CodeSHA256, &f.CodeSize, &created, &updated, &f.LayersSHA256); err != nil {
		return Function{}, err
	}
	if config != nil {
		f.Config = config
	}
	f.CreatedAt = time.Unix(0, created).UTC()
	f.UpdatedAt = time.Unix(0, updated).UTC()
	return f, nil
}

// GetFunction returns the latest version of the function, or an error
// wrapping ErrNotFound.
func (s *Store) GetFunction(ctx context.Context, name string) (Function, error) {
	f, err := scanFunction(s.rdb.QueryRowContext(ctx, `SELECT `+functionCols+` FROM functions
		WHERE name = ? ORDER BY version DESC LIMIT 1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Function{}, fmt.Errorf("function %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Function{}, dbErr(s.path, "get function "+name, err)
	}
	return f, nil
}

// GetFunctionVersion returns one version of the function, or an error
// wrapping ErrNotFound.
func (s *Store) GetFunctionVersion(ctx context.Context, name string, version int) (Function, error) {
	f, err := scanFunction(s.rdb.QueryRowContext(ctx, `SELECT `+functionCols+` FROM functions
		WHERE name = ? AND version = ?`, name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return Function{}, fmt.Errorf("function %s version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return Function{}, dbErr(s.path, "get function "+name, err)
	}
	return f, nil
}

// ListFunctions returns the latest version of every function, by name.
func (s *Store) ListFunctions(ctx context.Context) ([]Function, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+functionCols+` FROM functions f
		WHERE version = (SELECT max(version) FROM functions WHERE name = f.name) ORDER BY name`)
	if err != nil {
		return nil, dbErr(s.path, "list functions", err)
	}
	defer rows.Close()
	out := []Function{}
	for rows.Next() {
		f, err := scanFunction(rows)
		if err != nil {
			return nil, dbErr(s.path, "list functions", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(s.path, "list functions", err)
	}
	return out, nil
}

// DeleteFunction deletes every version of the function (an error wrapping
// ErrNotFound if there is none). Its events, attempts and logs are kept.
func (s *Store) DeleteFunction(ctx context.Context, name string) error {
	return s.write(ctx, func(w *writer) error {
		res, err := w.exec(`DELETE FROM functions WHERE name = ?`, name)
		if err != nil {
			return dbErr(s.path, "delete function "+name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("function %s: %w", name, ErrNotFound)
		}
		return nil
	})
}

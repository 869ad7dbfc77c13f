package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sessions are written seldom (twice per multipart upload), so they use the
// write connection directly rather than the group commit; the pool's one
// connection serialises them with it.

func (s *sqliteStore) createSession(ctx context.Context, m Session, vars string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO multipart_sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.UploadID, m.User, m.Bucket, m.Key, m.Size, m.ContentType, m.Filename, vars, m.PartSize, m.PartCount,
		string(m.State), m.CreatedAt.UnixMicro(), m.ExpiresAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

func (s *sqliteStore) getSession(ctx context.Context, uploadID string) (Session, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM multipart_sessions WHERE upload_id = ?`, uploadID)
	m, err := scanSQLiteSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: get session: %w", err)
	}
	return m, nil
}

func (s *sqliteStore) closeSession(ctx context.Context, uploadID string, to SessionState) error {
	res, err := s.write.ExecContext(ctx, `UPDATE multipart_sessions SET state = ? WHERE upload_id = ? AND state = 'open'`, string(to), uploadID)
	if err != nil {
		return fmt.Errorf("store: close session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	if _, err := s.getSession(ctx, uploadID); err != nil {
		return err
	}
	return ErrSessionClosed
}

func (s *sqliteStore) expiredSessions(ctx context.Context, now time.Time, limit int) ([]Session, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM multipart_sessions
		WHERE state = 'open' AND expires_at < ? ORDER BY expires_at LIMIT ?`, now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: expired sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		m, err := scanSQLiteSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: expired sessions: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanSQLiteSession(row rowScanner) (Session, error) {
	var (
		m                  Session
		vars, state        string
		created, expiresAt int64
	)
	if err := row.Scan(&m.UploadID, &m.User, &m.Bucket, &m.Key, &m.Size, &m.ContentType, &m.Filename, &vars,
		&m.PartSize, &m.PartCount, &state, &created, &expiresAt); err != nil {
		return Session{}, err
	}
	var err error
	if m.Vars, err = decodeVars([]byte(vars)); err != nil {
		return Session{}, fmt.Errorf("session %s: %w", m.UploadID, err)
	}
	m.State = SessionState(state)
	m.CreatedAt, m.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expiresAt).UTC()
	return m, nil
}

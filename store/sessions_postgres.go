package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

func (s *postgresStore) createSession(ctx context.Context, m Session, vars string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO multipart_sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.UploadID, m.User, m.Bucket, m.Key, m.Size, m.ContentType, m.Filename, vars, m.PartSize, m.PartCount,
		string(m.State), m.CreatedAt, m.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

func (s *postgresStore) getSession(ctx context.Context, uploadID string) (Session, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM multipart_sessions WHERE upload_id = $1`, uploadID)
	m, err := scanPostgresSession(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: get session: %w", err)
	}
	return m, nil
}

func (s *postgresStore) closeSession(ctx context.Context, uploadID string, to SessionState) error {
	tag, err := s.pool.Exec(ctx, `UPDATE multipart_sessions SET state = $1 WHERE upload_id = $2 AND state = 'open'`, string(to), uploadID)
	if err != nil {
		return fmt.Errorf("store: close session: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := s.getSession(ctx, uploadID); err != nil {
		return err
	}
	return ErrSessionClosed
}

func (s *postgresStore) expiredSessions(ctx context.Context, now time.Time, limit int) ([]Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM multipart_sessions
		WHERE state = 'open' AND expires_at < $1 ORDER BY expires_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: expired sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		m, err := scanPostgresSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: expired sessions: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanPostgresSession(row pgx.Row) (Session, error) {
	var (
		m                  Session
		vars               []byte
		state              string
		created, expiresAt time.Time
	)
	if err := row.Scan(&m.UploadID, &m.User, &m.Bucket, &m.Key, &m.Size, &m.ContentType, &m.Filename, &vars,
		&m.PartSize, &m.PartCount, &state, &created, &expiresAt); err != nil {
		return Session{}, err
	}
	var err error
	if m.Vars, err = decodeVars(vars); err != nil {
		return Session{}, fmt.Errorf("session %s: %w", m.UploadID, err)
	}
	m.State = SessionState(state)
	m.CreatedAt, m.ExpiresAt = created.UTC(), expiresAt.UTC()
	return m, nil
}

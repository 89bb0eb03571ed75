package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Installation is one installation of the app, as recorded from installation webhooks.
type Installation struct {
	ID                  int64     `json:"id"`
	Account             string    `json:"account"`
	AccountType         string    `json:"account_type"`
	RepositorySelection string    `json:"repository_selection"`
	Repositories        []string  `json:"repositories"`
	Suspended           bool      `json:"suspended"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// SaveInstallation inserts or replaces an installation record.
func (s *Store) SaveInstallation(ctx context.Context, inst Installation) error {
	repos := append([]string(nil), inst.Repositories...)
	sort.Strings(repos)
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_installation
		(id, account, account_type, repository_selection, repositories, suspended, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET account = excluded.account, account_type = excluded.account_type,
			repository_selection = excluded.repository_selection, repositories = excluded.repositories,
			suspended = excluded.suspended, updated_at = excluded.updated_at`),
		inst.ID, inst.Account, inst.AccountType, inst.RepositorySelection, strings.Join(repos, ","),
		inst.Suspended, inst.UpdatedAt.UTC())
	if err != nil {
		return fmt.Errorf("failed to save installation %d: %w", inst.ID, err)
	}
	return nil
}

// ChangeInstallationRepositories adds and removes repositories of a recorded installation.
// An installation not yet recorded is created with what is known.
func (s *Store) ChangeInstallationRepositories(ctx context.Context, inst Installation, added, removed []string) error {
	current, err := s.Installation(ctx, inst.ID)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	if current != nil {
		for _, r := range current.Repositories {
			set[r] = true
		}
	}
	for _, r := range added {
		set[r] = true
	}
	for _, r := range removed {
		delete(set, r)
	}
	inst.Repositories = inst.Repositories[:0]
	for r := range set {
		inst.Repositories = append(inst.Repositories, r)
	}
	return s.SaveInstallation(ctx, inst)
}

// DeleteInstallation forgets an uninstalled installation.
func (s *Store) DeleteInstallation(ctx context.Context, id int64) error {
	if _, err := s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_installation WHERE id = ?`), id); err != nil {
		return fmt.Errorf("failed to delete installation %d: %w", id, err)
	}
	return nil
}

// Installation returns one installation, or nil when it is not recorded.
func (s *Store) Installation(ctx context.Context, id int64) (*Installation, error) {
	all, err := s.queryInstallations(ctx, `WHERE id = ?`, id)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return &all[0], nil
}

// Installations lists every recorded installation by account name.
func (s *Store) Installations(ctx context.Context) ([]Installation, error) {
	return s.queryInstallations(ctx, `ORDER BY account`)
}

func (s *Store) queryInstallations(ctx context.Context, where string, args ...any) ([]Installation, error) {
	rows, err := s.DB.QueryContext(ctx, s.Rebind(`SELECT id, account, account_type, repository_selection,
		repositories, suspended, updated_at FROM autonomous_installation `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("failed to list installations: %w", err)
	}
	defer rows.Close()
	var out []Installation
	for rows.Next() {
		var inst Installation
		var repos string
		if err := rows.Scan(&inst.ID, &inst.Account, &inst.AccountType, &inst.RepositorySelection,
			&repos, &inst.Suspended, &inst.UpdatedAt); err != nil {
			return nil, fmt.Errorf("failed to read installation: %w", err)
		}
		if repos != "" {
			inst.Repositories = strings.Split(repos, ",")
		}
		out = append(out, inst)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to list installations: %w", err)
	}
	return out, nil
}

package cssm

import (
	"fmt"
	"strconv"
	"strings"
)

// The database schema, versioned: migrations[i] takes a database from
// version i to i+1, in the same transaction that records the new version in
// meta, so a migration is applied whole or not at all. Never edit a released
// migration; append one.
//
// Entities are rows of a few indexed columns (what the queries select on) and
// a JSON document of the rest, the same encoding the old cssm.json used.
// Aggregates (va_totals) are updated with every change, never summed.
var migrations = []string{
	// 1: the store of cssm.json, in tables.
	`CREATE TABLE accounts (
		va   TEXT PRIMARY KEY,
		seq  BIGINT NOT NULL UNIQUE, -- creation order, as the portal lists them
		sa   TEXT NOT NULL,
		data TEXT NOT NULL
	);
	CREATE TABLE tokens (
		token TEXT PRIMARY KEY,
		va    TEXT NOT NULL,
		data  TEXT NOT NULL
	);
	CREATE TABLE instances (
		id       TEXT PRIMARY KEY,
		udi      TEXT NOT NULL UNIQUE,
		va       TEXT NOT NULL,
		hostname TEXT NOT NULL,
		reserved INTEGER NOT NULL,
		data     TEXT NOT NULL
	);
	CREATE INDEX instances_listing ON instances (va, hostname, id);
	CREATE INDEX instances_reserved ON instances (va) WHERE reserved = 1;
	CREATE TABLE va_totals (
		va   TEXT PRIMARY KEY,
		data TEXT NOT NULL
	);
	CREATE TABLE reservation_stamps (
		udi TEXT PRIMARY KEY,
		ts  TEXT NOT NULL
	);
	CREATE TABLE idempotency (
		k       TEXT PRIMARY KEY,
		path    TEXT NOT NULL,
		req     TEXT NOT NULL,
		status  INTEGER NOT NULL,
		body    BLOB NOT NULL,
		sig     TEXT NOT NULL,
		created BIGINT NOT NULL -- Unix nanoseconds
	);
	CREATE INDEX idempotency_created ON idempotency (created);`,

	// 2: the REST API: its OAuth clients, users and access tokens; tokens by account.
	`CREATE TABLE api_clients (
		id            TEXT PRIMARY KEY,
		name          TEXT NOT NULL,
		secret_sha256 TEXT NOT NULL,
		created       TEXT NOT NULL
	);
	CREATE TABLE users (
		name          TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		role          TEXT NOT NULL,
		created       TEXT NOT NULL
	);
	CREATE TABLE access_tokens (
		token_sha256 TEXT PRIMARY KEY,
		subject      TEXT NOT NULL,
		role         TEXT NOT NULL,
		expires      BIGINT NOT NULL -- Unix seconds
	);
	CREATE INDEX access_tokens_expires ON access_tokens (expires);
	CREATE INDEX tokens_va ON tokens (va);`,

	// 3: satellites: on a parent, the satellites it syncs with (their key,
	// accounts, instances and usage); on a satellite, its one link to the parent.
	`CREATE TABLE satellites (
		name         TEXT PRIMARY KEY,
		last_contact BIGINT NOT NULL, -- Unix seconds: the last sync, else the registration
		removed      INTEGER NOT NULL, -- 1 once removed after 90 days
		data         TEXT NOT NULL
	);
	CREATE TABLE satellite_self (
		k    TEXT PRIMARY KEY,
		data TEXT NOT NULL
	);`,
	// 4: the event log (who changed what, when), also the licence usage history.
	`CREATE TABLE events (
		seq    BIGINT PRIMARY KEY,
		at     BIGINT NOT NULL, -- Unix seconds
		va     TEXT NOT NULL,
		actor  TEXT NOT NULL,
		kind   TEXT NOT NULL,
		detail TEXT NOT NULL,
		usage  TEXT NOT NULL -- JSON of the account's licences in use after the change, '' if unchanged
	);
	CREATE INDEX events_va ON events (va, seq);`,
	// 5: roles per account: a user's grants, each a role over every account
	// (sa and va ''), one smart account (va '') or one virtual account. The
	// users of an older database keep their one role over every account.
	`CREATE TABLE user_grants (
		name TEXT NOT NULL,
		role TEXT NOT NULL,
		sa   TEXT NOT NULL,
		va   TEXT NOT NULL,
		PRIMARY KEY (name, sa, va)
	);
	INSERT INTO user_grants (name, role, sa, va) SELECT name, role, '', '' FROM users`,
}

// migrate brings the database to the newest schema, or refuses one that a
// newer cssm made.
func (d *database) migrate() error {
	// Up to date, as on every start but the first: read only, so that a
	// read-only database opens (and a start takes no write lock).
	if v, err := d.schemaVersion(); err == nil && v == len(migrations) {
		return nil
	}
	tx, err := d.begin(bg(), true)
	if err != nil {
		return err
	}
	commit := false
	defer func() {
		if commit {
			return
		}
		tx.finish(false)
	}()
	var version int
	err = catch(func() {
		tx.exec(`CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`)
		var v string
		if tx.row(`SELECT v FROM meta WHERE k = 'schema_version'`, nil, &v) {
			version, _ = strconv.Atoi(v)
		}
		if version > len(migrations) {
			return
		}
		for i := version; i < len(migrations); i++ {
			for _, stmt := range strings.Split(migrations[i], ";") {
				if strings.TrimSpace(stmt) != "" {
					tx.exec(d.ddl(stmt))
				}
			}
		}
		if version < len(migrations) {
			tx.exec(`INSERT INTO meta (k, v) VALUES ('schema_version', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, strconv.Itoa(len(migrations)))
		}
	})
	if err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("the cssm database %s has schema version %d, but this cssm knows versions up to %d; use the newer cssm that wrote it, or restore a backup", d.where, version, len(migrations))
	}
	commit = true
	return tx.finish(true)
}

// ddl adapts a CREATE statement's types to the dialect.
func (d *database) ddl(stmt string) string {
	// Comments would otherwise hide the statement's end from PostgreSQL's parser.
	var lines []string
	for _, l := range strings.Split(stmt, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	stmt = strings.Join(lines, "\n")
	if d.dialect == dialectPostgres {
		stmt = strings.ReplaceAll(stmt, "BLOB", "BYTEA")
	}
	return stmt
}

// schemaVersion reads the version without writing; an error if there is none yet.
func (d *database) schemaVersion() (int, error) {
	tx, err := d.begin(bg(), false)
	if err != nil {
		return 0, err
	}
	defer tx.finish(false)
	var v string
	err = catch(func() {
		if !tx.row(`SELECT v FROM meta WHERE k = 'schema_version'`, nil, &v) {
			v = "0"
		}
	})
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

package cssm

import (
	"crypto/subtle"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Who may use the REST API: OAuth clients (client-credentials grant) and users
// (password grant; the same users the web portal will take). Secrets and
// passwords are stored hashed: a client secret, 32 random bytes, as SHA-256; a
// user's password, chosen by a person, with bcrypt.

// Roles of users; API clients act as admin.
const (
	RoleAdmin    = "admin"
	RoleUser     = "user"
	RoleReadOnly = "read-only"
)

// AccessTokenLifetime is how long a bearer token from the token endpoint lasts.
const AccessTokenLifetime = time.Hour

// 8 to 128 of these; the length is checked apart, as a counted repeat
// compiles to a program of 100 KB held as long as the process.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)

// APIClient is a created OAuth client, with its secret in clear (shown once).
type APIClient struct {
	Name, ID, Secret string
}

// CreateAPIClient makes an OAuth client for the client-credentials grant; id and
// secret are generated when empty.
func (p *Portal) CreateAPIClient(name, id, secret string) (*APIClient, error) {
	if err := checkName("API client name", name); err != nil {
		return nil, err
	}
	if id == "" {
		id = "cssm-" + strings.ToLower(randomText(12))
	}
	if len(id) < 8 || len(id) > 128 || !clientIDPattern.MatchString(id) {
		return nil, errClientID(id)
	}
	if secret == "" {
		secret = randomText(32)
	}
	if len(secret) < 16 || len(secret) > 512 {
		return nil, errClientSecret(len(secret))
	}
	now := p.Clock.Now()
	err := p.Store.Update(func(st *State) error {
		var existing string
		if st.tx.row(`SELECT id FROM api_clients WHERE id = ?`, []any{id}, &existing) {
			return errClientExists(id)
		}
		created, _ := now.UTC().MarshalText()
		st.tx.exec(`INSERT INTO api_clients (id, name, secret_sha256, created) VALUES (?, ?, ?, ?)`, id, name, hashCredential(secret), string(created))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &APIClient{Name: name, ID: id, Secret: secret}, nil
}

// AddUser makes a user (or sets an existing one's password) and grants role
// over one scope: smart account smart, virtual account virtual, or every
// account when both are empty. A grant for the same scope replaces the old one;
// grants for other scopes stay.
func (p *Portal) AddUser(name, password, role, smart, virtual string) (string, error) {
	if err := checkName("user name", name); err != nil {
		return "", err
	}
	switch role {
	case RoleAdmin, RoleUser, RoleReadOnly:
	default:
		return "", errRole(role)
	}
	switch {
	case smart != "" && virtual != "":
		return "", errGrantBoth()
	case role == RoleAdmin && virtual != "":
		return "", errGrantAdminVA(virtual)
	case role == RoleUser && smart != "":
		return "", errGrantUserSA(smart)
	}
	if len(password) < 8 || len(password) > 72 {
		return "", errPasswordLength(len(password))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	now := p.Clock.Now()
	var msg string
	err = p.Store.Update(func(st *State) error {
		sa := smart
		if virtual != "" {
			s, _ := st.findVA(virtual)
			if s == nil {
				return errNoVA(virtual)
			}
			sa = s.Name
		} else if smart != "" && st.findSA(smart) == nil {
			return errNoSA(smart)
		}
		created, _ := now.UTC().MarshalText()
		st.tx.exec(`INSERT INTO users (name, password_hash, role, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`, name, string(hash), role, string(created))
		st.tx.exec(`INSERT INTO user_grants (name, role, sa, va) VALUES (?, ?, ?, ?)
			ON CONFLICT (name, sa, va) DO UPDATE SET role = excluded.role`, name, role, sa, virtual)
		msg = msgUserSaved(name, st.userAccess(name).String())
		return nil
	})
	if err != nil {
		return "", err
	}
	return msg, nil
}

// grant is who an access token speaks for and what it may do.
type grant struct {
	subject, role string
	access        Access
}

// userGrant marks, in access_tokens.role, a token of a user, whose grants are
// read from user_grants on each call (older tokens hold one global role).
const userGrant = "@user"

// checkClient verifies a client's secret; ok is false for an unknown id too.
func (st *State) checkClient(id, secret string) bool {
	var want string
	if !st.tx.row(`SELECT secret_sha256 FROM api_clients WHERE id = ?`, []any{id}, &want) {
		hashCredential(secret) // the same work for an unknown id
		return false
	}
	got := hashCredential(secret)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// checkUser verifies a user's password and returns the user's grants.
func (st *State) checkUser(name, password string) (Access, bool) {
	var hash string
	if !st.tx.row(`SELECT password_hash FROM users WHERE name = ?`, []any{name}, &hash) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return Access{}, false
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return Access{}, false
	}
	return st.userAccess(name), true
}

// dummyHash makes a login with an unknown user name cost what a wrong password
// does; made on first use, since bcrypt's work would slow every cssm start.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user, same cost"), bcrypt.DefaultCost)
	return h
})

// issueAccessToken stores a new bearer token for g, dropping expired ones.
func (st *State) issueAccessToken(g grant, now time.Time) string {
	tok := randomText(32)
	st.tx.exec(`DELETE FROM access_tokens WHERE expires < ?`, now.Unix())
	st.tx.exec(`INSERT INTO access_tokens (token_sha256, subject, role, expires) VALUES (?, ?, ?, ?)`, hashCredential(tok), g.subject, g.role, now.Add(AccessTokenLifetime).Unix())
	return tok
}

// bearerGrant is the grant of a live access token, or nil.
func (st *State) bearerGrant(tok string, now time.Time) *grant {
	if tok == "" {
		return nil
	}
	var g grant
	var expires int64
	if !st.tx.row(`SELECT subject, role, expires FROM access_tokens WHERE token_sha256 = ?`, []any{hashCredential(tok)}, &g.subject, &g.role, &expires) {
		return nil
	}
	if now.Unix() >= expires {
		return nil
	}
	if g.role == userGrant {
		g.access = st.userAccess(g.subject)
	} else {
		g.access = Access{Grants: []Grant{{Role: g.role}}}
	}
	return &g
}

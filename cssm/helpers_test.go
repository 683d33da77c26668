package cssm

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssmapi"
)

var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// lab is a store with one virtual account, "TAC" in smart account "BU", as an
// admin would set it up in the portal.
type lab struct {
	t      testing.TB
	store  *Store
	clock  *clock.Manual
	portal *Portal
}

func newLab(t testing.TB) *lab {
	t.Helper()
	store, err := openStore(t, t.TempDir()+"/cssm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	l := &lab{t: t, store: store, clock: clock.NewManual(t0)}
	l.portal = &Portal{Store: store, Clock: l.clock}
	l.must(l.portal.CreateAccount("BU", "TAC"))
	return l
}

func (l *lab) must(_ string, err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) addLicense(tier string, n int) {
	l.t.Helper()
	l.must(l.portal.AddLicense("TAC", LicenseSpec{Tier: tier, Count: n}))
}

func (l *lab) token(opt TokenOptions) string {
	l.t.Helper()
	if opt.ExpiresDays == 0 {
		opt.ExpiresDays = 30
	}
	tok, err := l.portal.CreateToken("TAC", opt)
	if err != nil {
		l.t.Fatal(err)
	}
	return tok
}

// udi is the UDI of test product n, in the form CUCM reports.
// usage is the virtual account's usage report as `cssm usage` prints it.
func (l *lab) usage(va string) string {
	l.t.Helper()
	r, err := l.portal.Usage(va)
	if err != nil {
		l.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteUsage(&out, r); err != nil {
		l.t.Fatal(err)
	}
	return out.String()
}

func udi(n int) string {
	return "PID:UCM,SN:" + hex5(n) + ",UUID:6fe83addc80240bc92dc071ac7a" + hex5(n)
}

func hex5(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 5)
	for i := 4; i >= 0; i-- {
		b[i] = digits[n&15]
		n >>= 4
	}
	return string(b)
}

func tag(tier string) string {
	e, ok := cssmapi.LookupTier(tier)
	if !ok {
		panic(tier)
	}
	return e.Tag
}

// regReq is product n's registration with tok.
func regReq(tok string, n int) cssmapi.RegisterRequest {
	return cssmapi.RegisterRequest{Token: tok, UDI: udi(n), Hostname: "cucm-" + hex5(n), Version: "15.0.1"}
}

// storeDump is every row of the store, in a fixed order: equal dumps, equal stores.
func storeDump(t *testing.T, s *Store) []byte {
	t.Helper()
	var b bytes.Buffer
	err := s.View(func(st *State) error {
		for _, q := range []string{
			`SELECT va || '|' || seq || '|' || sa || '|' || data FROM accounts ORDER BY va`,
			`SELECT token || '|' || va || '|' || data FROM tokens ORDER BY token`,
			`SELECT id || '|' || udi || '|' || va || '|' || hostname || '|' || reserved || '|' || data FROM instances ORDER BY id`,
			`SELECT va || '|' || data FROM va_totals ORDER BY va`,
			`SELECT udi || '|' || ts FROM reservation_stamps ORDER BY udi`,
			`SELECT k || '|' || path || '|' || req || '|' || status || '|' || sig || '|' || created FROM idempotency ORDER BY k`,
			`SELECT name || '|' || data FROM satellites ORDER BY name`,
			`SELECT k || '|' || data FROM satellite_self ORDER BY k`,
		} {
			var line string
			st.tx.rows(q, nil, func() { b.WriteString(line + "\n") }, &line)
			b.WriteString("--\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testDatabase is the back end the store's tests run on: "" for SQLite in the
// store folder, or a PostgreSQL URL (CSSM_TEST_DATABASE, from .ci/cssm-postgres.sh).
var testDatabase = os.Getenv("CSSM_TEST_DATABASE")

var testSpecs sync.Map // absolute store folder -> database spec

// openStore opens the store in dir on the test back end.
func openStore(t testing.TB, dir string) (*Store, error) {
	return OpenDatabase(dir, specFor(t, dir))
}

// specFor is dir's database: on PostgreSQL each store folder gets a schema of
// its own, dropped when the test ends.
func specFor(t testing.TB, dir string) string {
	if testDatabase == "" {
		return ""
	}
	abs, _ := filepath.Abs(dir)
	if v, ok := testSpecs.Load(abs); ok {
		return v.(string)
	}
	schema := "t_" + strings.ToLower(randomText(9))
	schema = strings.NewReplacer("-", "_").Replace(schema)
	db, err := sql.Open("pgx", testDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA "` + schema + `"`); err != nil {
		t.Fatalf("cannot make a schema for the test on %s: %v", testDatabase, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", testDatabase)
		if err == nil {
			db.Exec(`DROP SCHEMA "` + schema + `" CASCADE`)
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(testDatabase, "?") {
		sep = "&"
	}
	spec := testDatabase + sep + "search_path=" + schema
	testSpecs.Store(abs, spec)
	return spec
}

// sqliteOnly skips a test of SQLite's own behaviour on another back end.
func sqliteOnly(t *testing.T) {
	if testDatabase != "" {
		t.Skip("tests SQLite itself; the store under test is on PostgreSQL")
	}
}

package installfile

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseSFTPURL(f *testing.F) {
	for _, s := range []string{
		"sftp://10.1.1.5:22/home/admin/code.txt",
		"sftp://admin@files.example.com/slr/auth.txt",
		"sftp://[::1]:2022/tmp/code",
		"sftp://[fe80::1%eth0]/c",
		"sftp://admin:pw@host/f",
		"sftp://host/f?x#y",
		"sftp://a@b@c:1/d",
		"SFTP://[::ffff:10.0.0.1]:65535/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseSFTPURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("error %v is not a format error", err)
			}
			return
		}
		if u.Port < 1 || u.Port > 65535 || u.Host == "" || !strings.HasPrefix(u.Path, "/") || len(u.Path) < 2 {
			t.Fatalf("accepted %q as %+v", s, u)
		}
		if again, err := ParseSFTPURL(u.String()); err != nil || again != u {
			t.Fatalf("String() %q does not parse back: %+v, %v", u.String(), again, err)
		}
	})
}

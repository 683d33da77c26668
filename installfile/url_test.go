package installfile

import (
	"strings"
	"testing"
)

func TestParseSFTPURL(t *testing.T) {
	ok := []struct {
		in   string
		want SFTPURL
		addr string
	}{
		{"sftp://10.1.1.5:22/home/admin/code.txt", SFTPURL{Host: "10.1.1.5", Port: 22, Path: "/home/admin/code.txt"}, "10.1.1.5:22"},
		{"sftp://admin@files.example.com/slr/auth.txt", SFTPURL{User: "admin", Host: "files.example.com", Port: 22, Path: "/slr/auth.txt"}, "files.example.com:22"},
		{"SFTP://Files.Example.COM:2222/x", SFTPURL{Host: "files.example.com", Port: 2222, Path: "/x"}, "files.example.com:2222"},
		{"sftp://[::1]:2022/tmp/code", SFTPURL{Host: "::1", Port: 2022, Path: "/tmp/code"}, "[::1]:2022"},
		{"sftp://ops@[2001:DB8::1]/c", SFTPURL{User: "ops", Host: "2001:db8::1", Port: 22, Path: "/c"}, "[2001:db8::1]:22"},
		{"  sftp://my_host/dir with space/file  ", SFTPURL{Host: "my_host", Port: 22, Path: "/dir with space/file"}, "my_host:22"},
		{"sftp://user@corp.example@host/f", SFTPURL{User: "user@corp.example", Host: "host", Port: 22, Path: "/f"}, "host:22"},
		{"sftp://host/%20literal", SFTPURL{Host: "host", Port: 22, Path: "/%20literal"}, "host:22"},
	}
	for _, c := range ok {
		got, err := ParseSFTPURL(c.in)
		if err != nil {
			t.Errorf("ParseSFTPURL(%q): %v", c.in, err)
			continue
		}
		if got != c.want || got.Addr() != c.addr {
			t.Errorf("ParseSFTPURL(%q) = %+v (addr %s), want %+v (addr %s)", c.in, got, got.Addr(), c.want, c.addr)
		}
		if again, err := ParseSFTPURL(got.String()); err != nil || again != got {
			t.Errorf("String() %q does not parse back: %+v, %v", got.String(), again, err)
		}
	}

	bad := []struct{ in, want string }{
		{"", "The URL is empty: use sftp://[user@]host[:port]/path."},
		{"scp://host/f", `The URL "scp://host/f" does not start with sftp://: use sftp://[user@]host[:port]/path.`},
		{"host:/f", `The URL "host:/f" does not start with sftp://: use sftp://[user@]host[:port]/path.`},
		{"sftp://admin:secret@host/f", "The URL contains a password: omit it (sftp://user@host/path) and type the password when asked."},
		{"sftp://admin:@host/f", "The URL contains a password: omit it (sftp://user@host/path) and type the password when asked."},
		{"sftp://@host/f", `The URL has an invalid user name "": use the account name without spaces, ':' or '@'.`},
		{"sftp://host/f?x=1", `The URL contains "?", but queries and fragments are not allowed: give the file path only.`},
		{"sftp://host/f#top", `The URL contains "#", but queries and fragments are not allowed: give the file path only.`},
		{"sftp://host/f\x00.txt", "The URL contains a control character: type it again without it."},
		{"sftp://host/f\x1b[2J", "The URL contains a control character: type it again without it."},
		{"sftp://host\n/f", "The URL contains a control character: type it again without it."},
		{"sftp://host", "The URL has no file path: use sftp://[user@]host[:port]/path/to/file."},
		{"sftp://host:22/", "The URL has no file path: use sftp://[user@]host[:port]/path/to/file."},
		{"sftp://host/dir/", `The URL's path "/dir/" names a directory: give the path of the code file.`},
		{"sftp:///f", "The URL has no host name: use sftp://[user@]host[:port]/path."},
		{"sftp://:22/f", "The URL has no host name: use sftp://[user@]host[:port]/path."},
		{"sftp://host:/f", `The URL has an invalid port "": use a number from 1 to 65535, or leave it out for 22.`},
		{"sftp://host:0/f", `The URL has an invalid port "0": use a number from 1 to 65535, or leave it out for 22.`},
		{"sftp://host:65536/f", `The URL has an invalid port "65536": use a number from 1 to 65535, or leave it out for 22.`},
		{"sftp://host:+22/f", `The URL has an invalid port "+22": use a number from 1 to 65535, or leave it out for 22.`},
		{"sftp://host:ssh/f", `The URL has an invalid port "ssh": use a number from 1 to 65535, or leave it out for 22.`},
		{"sftp://::1/f", "The URL's IPv6 address must be written in brackets, e.g. sftp://[::1]:22/path."},
		{"sftp://[::1/f", `The URL has an invalid host "[::1": use a host name, an IPv4 address, or an IPv6 address in brackets.`},
		{"sftp://[10.0.0.1]/f", `The URL has an invalid host "[10.0.0.1]": use a host name, an IPv4 address, or an IPv6 address in brackets.`},
		{"sftp://[::1]x/f", `The URL has an invalid port "x": use a number from 1 to 65535, or leave it out for 22.`},
		{"sftp://300.1.1.1/f", `The URL has an invalid host "300.1.1.1": use a host name, an IPv4 address, or an IPv6 address in brackets.`},
		{"sftp://bad..host/f", `The URL has an invalid host "bad..host": use a host name, an IPv4 address, or an IPv6 address in brackets.`},
		{"sftp://-bad/f", `The URL has an invalid host "-bad": use a host name, an IPv4 address, or an IPv6 address in brackets.`},
		{"sftp://ho st/f", `The URL has an invalid host "ho st": use a host name, an IPv4 address, or an IPv6 address in brackets.`},
		{"sftp://my user@host/f", `The URL has an invalid user name "my user": use the account name without spaces, ':' or '@'.`},
		{"sftp://host/" + strings.Repeat("a", 3000), "The URL is too long (3012 characters, the limit is 2048)."},
	}
	for _, c := range bad {
		_, err := ParseSFTPURL(c.in)
		if err == nil {
			t.Errorf("ParseSFTPURL(%q) accepted", c.in)
			continue
		}
		wantKind(t, err, ErrBadURL)
		if err.Error() != c.want {
			t.Errorf("ParseSFTPURL(%q):\n got %s\nwant %s", c.in, err, c.want)
		}
	}
}

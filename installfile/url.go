package installfile

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ucmsh/ucmsh/internal/sentence"
)

// SFTPURL is where `license smart reservation install-file` fetches a code.
type SFTPURL struct {
	User string // empty: the shell asks for it
	Host string // lowercase host name, IPv4, or IPv6 without brackets
	Port int
	Path string // as typed, starting with "/"
}

// Addr is host:port for dialling and for known_hosts look-ups.
func (u SFTPURL) Addr() string {
	return net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
}

// String gives the URL back in canonical form (port always shown).
func (u SFTPURL) String() string {
	var b strings.Builder
	b.WriteString("sftp://")
	if u.User != "" {
		b.WriteString(u.User + "@")
	}
	b.WriteString(u.Addr())
	b.WriteString(u.Path)
	return b.String()
}

const maxURLLen = 2048

// ParseSFTPURL reads sftp://[user@]host[:port]/path. It is stricter than
// net/url on purpose: a password in the URL would end up in the history
// file, and query strings or %-escapes have no meaning for a file path.
func ParseSFTPURL(s string) (SFTPURL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return SFTPURL{}, urlErr(msgURLEmpty)
	}
	if len(s) > maxURLLen {
		return SFTPURL{}, urlErr(msgURLTooLong, len(s), maxURLLen)
	}
	if !utf8.ValidString(s) {
		return SFTPURL{}, urlErr(msgURLControl)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return SFTPURL{}, urlErr(msgURLControl)
		}
	}
	const scheme = "sftp://"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return SFTPURL{}, urlErr(msgURLScheme, sentence.Short(s))
	}
	rest := s[len(scheme):]
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return SFTPURL{}, urlErr(msgURLQuery, rest[i:i+1])
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}

	var u SFTPURL
	hostport := authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		u.User, hostport = authority[:at], authority[at+1:]
		if strings.Contains(u.User, ":") {
			return SFTPURL{}, urlErr(msgURLPassword)
		}
		if u.User == "" || strings.ContainsFunc(u.User, unicode.IsSpace) {
			return SFTPURL{}, urlErr(msgURLUser, sentence.Short(u.User))
		}
	}

	host, port, err := splitHostPort(hostport)
	if err != nil {
		return SFTPURL{}, err
	}
	u.Host = host
	u.Port = 22
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || len(port) > 5 || n < 1 || n > 65535 || port[0] == '+' || port[0] == '-' {
			return SFTPURL{}, urlErr(msgURLPort, sentence.Short(port))
		}
		u.Port = n
	}

	if path == "" || path == "/" {
		return SFTPURL{}, urlErr(msgURLNoPath)
	}
	if strings.HasSuffix(path, "/") {
		return SFTPURL{}, urlErr(msgURLDir, sentence.Short(path))
	}
	u.Path = path
	return u, nil
}

// splitHostPort separates and checks the host; port is "" when absent.
func splitHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", urlErr(msgURLHost, sentence.Short(hp))
		}
		addr, perr := netip.ParseAddr(hp[1:end])
		if perr != nil || !addr.Is6() {
			return "", "", urlErr(msgURLHost, sentence.Short(hp[:end+1]))
		}
		after := hp[end+1:]
		if after != "" {
			p, ok := strings.CutPrefix(after, ":")
			if !ok || p == "" {
				return "", "", urlErr(msgURLPort, sentence.Short(after))
			}
			port = p
		}
		return addr.String(), port, nil
	}
	if strings.Count(hp, ":") > 1 {
		// An unbracketed IPv6 address: the port would be ambiguous.
		if addr, perr := netip.ParseAddr(hp); perr == nil {
			return "", "", urlErr(msgURLIPv6, addr.String())
		}
		return "", "", urlErr(msgURLHost, sentence.Short(hp))
	}
	host = hp
	if i := strings.IndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i+1:]
		if port == "" {
			return "", "", urlErr(msgURLPort, "")
		}
	}
	if host == "" {
		return "", "", urlErr(msgURLNoHost)
	}
	if !validHostName(host) {
		return "", "", urlErr(msgURLHost, sentence.Short(host))
	}
	return strings.ToLower(host), port, nil
}

// validHostName accepts DNS names (underscores allowed, as on many internal
// networks) and dotted-quad IPv4 addresses.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	numeric := true
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' && c != '_' {
				return false
			}
			if c < '0' || c > '9' {
				numeric = false
			}
		}
	}
	if numeric {
		addr, err := netip.ParseAddr(h)
		return err == nil && addr.Is4()
	}
	return true
}

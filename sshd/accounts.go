package sshd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
	"github.com/ucmsh/ucmsh/internal/statedir"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// Files of the ssh folder (DESIGN: <state>/ssh).
const (
	HostKeyFile        = statedir.HostKeyFile
	HostKeyRSAFile     = statedir.HostKeyRSAFile
	UsersFile          = statedir.UsersFile
	AuthorizedKeysFile = statedir.AuthorizedKeysFile
)

// Password rules for useradd.
const (
	MinPassword = 8
	MaxPassword = 72 // bcrypt uses at most 72 bytes
)

// hashCost is bcrypt's work factor (2^10 rounds: tens of milliseconds a
// check). Tests lower it.
var hashCost = bcrypt.DefaultCost

// The length is checked apart: a counted repeat ({0,31}) compiles to a
// program of tens of kilobytes, held as long as the process.
var userName = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*$`)

// ValidUserName checks an account name: lower-case letters, digits, '_',
// '.' and '-', starting with a letter or '_', at most 32 characters.
func ValidUserName(name string) error {
	if len(name) > 32 || !userName.MatchString(name) {
		return fmt.Errorf("%q is not a valid account name: use 1 to 32 lower-case letters, digits, '_', '.' or '-', starting with a letter or '_'", name)
	}
	return nil
}

// ErrUserExists is returned by AddUser for an existing account unless it
// may be replaced.
var ErrUserExists = errors.New("the account exists")

// Privilege levels of an account, as on CUCM: 0 ordinary (show commands),
// 1 advanced, 4 platform administrator (licensing changes).
var Privileges = []int{0, 1, 4}

// DefaultPrivilege means: 4 for the first account, 1 for the others (and
// an existing account keeps its level when its password is replaced).
const DefaultPrivilege = -1

// AddUser stores an account in dir/users with a bcrypt hash of password
// (salted; the file is 0600 in a 0700 folder, written atomically). An
// existing account is refused unless replace is set, which sets its new
// password. Its privilege level is DefaultPrivilege's.
func AddUser(dir, name string, password []byte, replace bool) error {
	return AddUserPrivilege(dir, name, password, replace, DefaultPrivilege)
}

// AddUserPrivilege is AddUser with a privilege level (0, 1 or 4, or
// DefaultPrivilege). Lines are name:hash:level; a line without a level
// (written before levels existed) has level 4.
func AddUserPrivilege(dir, name string, password []byte, replace bool, level int) error {
	if err := ValidUserName(name); err != nil {
		return err
	}
	if len(password) < MinPassword || len(password) > MaxPassword {
		return fmt.Errorf("the password must be %d to %d bytes long", MinPassword, MaxPassword)
	}
	if bytes.ContainsAny(password, "\r\n\x00") {
		return errors.New("the password must not contain line ends or NUL")
	}
	if level != DefaultPrivilege && !slices.Contains(Privileges, level) {
		return fmt.Errorf("the privilege level must be 0, 1 or 4, not %d", level)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, UsersFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword(password, hashCost)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	found, first := false, true
	for _, line := range strings.SplitAfter(string(old), "\n") {
		n, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && !strings.HasPrefix(n, "#") {
			first = false
		}
		if ok && n == name {
			if !replace {
				return fmt.Errorf("%w: %s", ErrUserExists, name)
			}
			if level == DefaultPrivilege {
				_, level = parseUser(rest)
			}
			fmt.Fprintf(&out, "%s:%s:%d\n", name, hash, level)
			found = true
			continue
		}
		out.WriteString(line)
	}
	if !found {
		if level == DefaultPrivilege {
			level = 1
			if first {
				level = 4
			}
		}
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		fmt.Fprintf(&out, "%s:%s:%d\n", name, hash, level)
	}
	return atomicfile.Write(path, out.Bytes(), 0o600)
}

// parseUser splits what follows "name:" into the hash and the level.
func parseUser(rest string) ([]byte, int) {
	hash, lv, ok := strings.Cut(rest, ":")
	level, err := strconv.Atoi(lv)
	if !ok || err != nil || !slices.Contains(Privileges, level) {
		level = 4
	}
	return []byte(hash), level
}

// readPrivate reads a file that grants access: it must not be writable
// by anyone but its owner (as OpenSSH's StrictModes). A missing file is
// empty.
func readPrivate(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%s is writable by others (mode %v); it is ignored until chmod 600", path, info.Mode().Perm())
	}
	return os.ReadFile(path)
}

// account is a line of the users file.
type account struct {
	hash      []byte
	privilege int
}

// readUsers returns the accounts by name.
func readUsers(dir string) (map[string]account, error) {
	data, err := readPrivate(filepath.Join(dir, UsersFile))
	if err != nil {
		return nil, err
	}
	users := map[string]account{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, rest, ok := strings.Cut(line, ":"); ok {
			var a account
			a.hash, a.privilege = parseUser(rest)
			users[name] = a
		}
	}
	return users, sc.Err()
}

// readAuthorizedKeys returns the keys of authorized_keys (OpenSSH format).
// Lines with options are skipped and reported: ucmsh does not apply
// options such as command= or from=, so it must not accept such keys.
func readAuthorizedKeys(dir string) (keys []ssh.PublicKey, skipped []string, err error) {
	data, err := readPrivate(filepath.Join(dir, AuthorizedKeysFile))
	if err != nil {
		return nil, nil, err
	}
	for len(bytes.TrimSpace(data)) > 0 {
		key, comment, options, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			break // no more keys (ParseAuthorizedKey skips bad lines)
		}
		if len(options) > 0 {
			skipped = append(skipped, fmt.Sprintf("%s %s (options %s are not supported)", key.Type(), comment, strings.Join(options, ",")))
		} else {
			keys = append(keys, key)
		}
		data = rest
	}
	return keys, skipped, nil
}

// HasAccounts reports whether anyone can log in: an account with a
// password or an authorized key.
func HasAccounts(dir string) bool {
	users, _ := readUsers(dir)
	keys, _, _ := readAuthorizedKeys(dir)
	return len(users) > 0 || len(keys) > 0
}

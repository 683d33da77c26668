package sshd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// CheckStrictModes refuses, as OpenSSH's StrictModes, files that decide
// who logs in when someone other than the server's user could change
// them: each path in private (a folder or file; missing ones are
// skipped) must be owned by the user running the server (or root) and
// writable by nobody else. Each path in noLinks must not be a symbolic
// link. The error names the path and says what to do.
func CheckStrictModes(private, noLinks []string) error {
	uid := os.Geteuid()
	for _, p := range private {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf(msgStrictUnreadable, p, err)
		}
		if perm := info.Mode().Perm(); perm&0o022 != 0 {
			return fmt.Errorf(msgStrictWritable, p, perm)
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid && st.Uid != 0 {
			return fmt.Errorf(msgStrictOwner, p, st.Uid, uid)
		}
	}
	for _, p := range noLinks {
		info, err := os.Lstat(p)
		if err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf(msgStrictSymlink, p)
		}
	}
	return nil
}

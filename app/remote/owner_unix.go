//go:build unix

package remote

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner requires dir to belong to this user and to be closed to
// others; a directory of ours with looser permissions is tightened.
func checkOwner(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("the socket directory %s belongs to user id %d, not to this user", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restricting the socket directory %s: %w", dir, err)
		}
	}
	return nil
}

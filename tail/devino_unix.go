//go:build unix

package tail

import (
	"os"
	"syscall"
)

func statDevIno(fi os.FileInfo) devIno {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return devIno{uint64(st.Dev), uint64(st.Ino)} //nolint:unconvert // Dev is uint32 on some platforms
	}
	return devIno{}
}

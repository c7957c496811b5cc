//go:build unix && !linux

package runtime

import "syscall"

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitNoReap is unavailable here: the lifecycle reaps first, then signals the group.
func waitNoReap(int) bool { return false }

func pipeBytes(uintptr) int { return 0 }

// procTracker measures nothing outside Linux: there is no /proc to read.
type procTracker struct{}

func newProcTracker(int) *procTracker { return &procTracker{} }
func (*procTracker) begin()           {}
func (*procTracker) rssKB() int       { return 0 }

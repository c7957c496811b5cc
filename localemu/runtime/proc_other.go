//go:build unix && !linux

package runtime

import (
	"errors"
	"syscall"
	"time"
)

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func reaperProcAttr() *syscall.SysProcAttr { return sysProcAttr() }

func newInstanceCgroup(int, int) (instanceCgroup, error) { return nil, nil }

func cgroupMode() (mode, why string) { return "", "cgroups are Linux's" }

// reaperAvailable is false: child subreapers are Linux's.
func reaperAvailable() bool { return false }

// waitNoReap is unavailable here: the lifecycle reaps first, then signals the group.
func waitNoReap(int) bool { return false }

func pipeBytes(uintptr) int { return 0 }

// ProcTable measures nothing outside Linux: there is no /proc to read.
type ProcTable struct{}

// NewProcTable returns a table that always reads 0.
func NewProcTable(time.Duration) *ProcTable { return &ProcTable{} }

// GroupRSSKB is always 0 here.
func (*ProcTable) GroupRSSKB(int) int { return 0 }

// TreeRSSKB is always 0 here.
func (*ProcTable) TreeRSSKB(int) int { return 0 }

// LeaderRSSKB is always 0 here.
func (*ProcTable) LeaderRSSKB(int) int { return 0 }

// Fingerprint is unavailable without /proc.
func Fingerprint(int) (string, error) { return "", errors.New("runtime: no /proc") }

// KillLeftoverGroup does nothing without /proc.
func KillLeftoverGroup(int, string) int { return 0 }

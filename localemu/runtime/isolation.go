package runtime

import (
	"os"
	"strings"
	"sync/atomic"
)

// isolationEnv names the environment variable that picks a weaker isolation
// than the best available, for diagnosis: "process-group" runs instances as
// plain process groups (no reaper), "reaper" under the reaper without cgroups.
const isolationEnv = "ASYNCFN_ISOLATION"

// processGroupOnly and reaperOnly are set when isolationEnv asks for plain
// process groups, or for the reaper without cgroups.
var (
	processGroupOnly = strings.EqualFold(strings.TrimSpace(os.Getenv(isolationEnv)), "process-group")
	reaperOnly       = strings.EqualFold(strings.TrimSpace(os.Getenv(isolationEnv)), "reaper")
)

// instanceCgroup is one instance's cgroup.
type instanceCgroup interface {
	add(pid int) error  // move a process (the reaper) in
	home(pid int) error // move it back to the emulator's cgroup
	kill() error        // SIGKILL every process in it
	oomKills() int      // processes the kernel killed for the memory limit
	peakKB() int        // the most memory it used, when the kernel says
	dirs() []string     // its directories (one per v1 hierarchy)
	delete() error      // remove it; it must be empty
}

// cpuByMemory is SetCPUByMemory's setting.
var cpuByMemory atomic.Bool

// SetCPUByMemory, when on, gives each instance a CPU quota proportional to its
// function's memory size, as Lambda allots CPU (1,769 MB = one vCPU, so 128 MB
// gets about 7 % of one), where cgroups with the cpu controller are in force;
// IsolationMode then says whether it is. Call it before instances start.
func SetCPUByMemory(on bool) { cpuByMemory.Store(on) }

// useReaper reports whether instances start under the reaper.
func useReaper() bool { return !processGroupOnly && reaperAvailable() }

// IsolationMode says, in one line for `local start`, how instances are kept
// apart and cleaned up on this machine: which of cgroups (v1 or v2), the
// process reaper, or plain process groups is in force, and why cgroups are
// not, when they are not. It probes cgroups once (creating and removing a test
// cgroup) if no instance has yet.
func IsolationMode() string {
	if !useReaper() {
		return "process group: a process that leaves its instance's group (setsid) escapes its memory limit and cleanup"
	}
	const reaper = "process reaper (PR_SET_CHILD_SUBREAPER): every process an instance starts, setsid or double-forked, " +
		"counts in its memory and dies with it"
	mode, why := cgroupMode()
	if mode == "" {
		return reaper + "; no cgroups (" + why + "): memory is limited by sampling"
	}
	return mode + " + " + reaper + "; hard memory limit and a kill that cannot race"
}

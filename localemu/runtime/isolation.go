package runtime

import (
	"os"
	"strings"
)

// isolationEnv names the environment variable that picks a weaker isolation
// than the best available, for diagnosis: "process-group" runs instances as
// plain process groups (no reaper).
const isolationEnv = "ASYNCFN_ISOLATION"

// processGroupOnly is set when isolationEnv asks for plain process groups.
var processGroupOnly = strings.EqualFold(strings.TrimSpace(os.Getenv(isolationEnv)), "process-group")

// useReaper reports whether instances start under the reaper.
func useReaper() bool { return !processGroupOnly && reaperAvailable() }

// IsolationMode says, in one line for `local start`, how instances are kept
// apart and cleaned up on this machine.
func IsolationMode() string {
	if useReaper() {
		return "process reaper (PR_SET_CHILD_SUBREAPER): every process an instance starts, setsid or double-forked, " +
			"counts in its memory and dies with it"
	}
	return "process group: a process that leaves its instance's group (setsid) escapes its memory limit and cleanup"
}

package localemu

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// cpuMeter tells whether the machine's processors are saturated, from
// /proc/stat's aggregate counters read at most every cpuInterval; where
// there is no /proc/stat it never says so. The scaling policy asks it before
// starting another instance of a short function: when every core is busy a
// new process only takes CPU from the ones that would serve the queue.
type cpuMeter struct {
	at          time.Time
	total, idle uint64
	busy        float64 // the busy share of the last interval, 0-1
}

const (
	cpuInterval  = 200 * time.Millisecond
	cpuSaturated = 0.75
)

// saturated reports whether the processors were busier than cpuSaturated
// over the last interval. Callers hold the engine's lock.
func (m *cpuMeter) saturated(now time.Time) bool {
	m.update(now)
	return m.busy >= cpuSaturated
}

// update reads the counters when the last reading is an interval old. The
// dispatcher calls it on every pass, so the interval a decision reads is a
// recent one.
func (m *cpuMeter) update(now time.Time) {
	if now.Sub(m.at) >= cpuInterval {
		if total, idle, ok := readCPUStat(); ok {
			if m.total > 0 && total > m.total {
				m.busy = 1 - float64(idle-m.idle)/float64(total-m.total)
			}
			m.total, m.idle = total, idle
		}
		m.at = now
	}
}

// readCPUStat returns the "cpu" line's total and idle (idle + iowait) jiffies.
func readCPUStat() (total, idle uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return total, idle, true
}

package main

// Process sampling from /proc: the emulator's RSS, peak RSS, threads and CPU
// time, the same summed over its live children (the function instances), the
// machine's MemAvailable, and the emulator's pid from its listening port.

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clkTck is USER_HZ, 100 on every Linux architecture Go supports.
const clkTck = 100

type procSample struct {
	rssKB, hwmKB int64
	threads      int64
	cpu          time.Duration // utime + stime
	childCPU     time.Duration // cutime + cstime: children that exited and were waited for
	at           time.Time
}

func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.rssKB = n
		case "VmHWM":
			s.hwmKB = n
		case "Threads":
			s.threads = n
		}
	}
	_, fields, err := statFields(pid)
	if err != nil {
		return s, err
	}
	// fields[0] is field 3 (state): utime is field 14, stime 15.
	if len(fields) > 12 {
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		s.cpu = time.Duration(ut+stime) * time.Second / clkTck
	}
	if len(fields) > 14 {
		cut, _ := strconv.ParseInt(fields[13], 10, 64)
		cst, _ := strconv.ParseInt(fields[14], 10, 64)
		s.childCPU = time.Duration(cut+cst) * time.Second / clkTck
	}
	return s, nil
}

// statFields reads /proc/pid/stat: the comm and the fields after it (from
// field 3, state, on).
func statFields(pid int) (string, []string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", nil, err
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return s[open+1 : end], strings.Fields(s[end+1:]), nil
}

type treeSample struct {
	procs int
	rssKB int64
	cpu   time.Duration
}

// descendants sums RSS and CPU time over every live descendant of pid (not pid itself).
func descendants(pid int) treeSample {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		_, f, err := statFields(n)
		if err != nil || len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[n] = pp
	}
	var t treeSample
	for p := range parent {
		q, seen := p, 0
		for q > 1 && seen < 64 {
			q = parent[q]
			seen++
			if q == pid {
				if s, err := readProc(p); err == nil {
					t.procs++
					t.rssKB += s.rssKB
					t.cpu += s.cpu
				}
				break
			}
		}
	}
	return t
}

func memAvailableMB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemAvailable:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n / 1024
			}
		}
	}
	return -1
}

// pidByURL finds the process that listens on the URL's port: the socket's
// inode from /proc/net/tcp{,6}, then the process holding it in /proc/*/fd.
func pidByURL(raw string) (int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("no port in %s", raw)
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A = LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", port)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && inodes[l] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process holds the socket listening on port %d (try -pid)", port)
}

func (b *bench) sample() procSample {
	s, err := readProc(b.pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: read /proc/%d: %v\n", b.pid, err)
	}
	return s
}

func (b *bench) reportProc(res *result, before, after procSample) {
	res.set("emulatorRssMB", mb(after.rssKB))
	res.set("emulatorPeakRssMB", mb(after.hwmKB))
	res.set("emulatorThreads", after.threads)
	cpu := after.cpu - before.cpu
	el := after.at.Sub(before.at)
	res.set("emulatorCpuSec", cpu.Seconds())
	if el > 0 {
		res.set("emulatorCpuPercent", math.Round(1000*cpu.Seconds()/el.Seconds())/10)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.set("loadgenCpuSecTotal", float64(ru.Utime.Nano()+ru.Stime.Nano())/1e9)
	}
}

// treeWatch samples the resident memory of a process and all its
// descendants (the emulator and its function instances, or a peer's process
// tree) every 200 ms and keeps the peak.
type treeWatch struct {
	stopCh chan struct{}
	done   chan struct{}
	peakKB int64
}

func watchTree(pid int) *treeWatch {
	w := &treeWatch{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			kb := descendants(pid).rssKB
			if s, err := readProc(pid); err == nil {
				kb += s.rssKB
			}
			w.peakKB = max(w.peakKB, kb)
			select {
			case <-w.stopCh:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// stop ends the sampling and returns the peak, in KB.
func (w *treeWatch) stop() int64 {
	close(w.stopCh)
	<-w.done
	return w.peakKB
}

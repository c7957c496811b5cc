package runtime

// Control groups, where the machine has them and lets the emulator write them:
// each instance's processes are put in a cgroup of their own, which gives a
// hard memory limit the kernel enforces between two samples of the process
// table, a bound on processes (Lambda's 1,024), and a kill that cannot race
// with a fork (cgroup.kill on v2; freeze, SIGKILL everything, thaw on v1).
//
// github.com/containerd/cgroups/v3 creates, limits, lists and deletes them on
// both versions. What it lacks is written here: a bounded v1 freeze (its own
// waits without end for a freezer that cannot freeze a task in uninterruptible
// sleep), and reading the kernel's OOM-kill counter cheaply on every sample.
//
// Layout: on v1 (the memory, pids and freezer hierarchies) an instance's
// cgroup is asyncfn/<id> under the emulator's own cgroup in each hierarchy; on
// v2 it is /asyncfn/<id> under the root of the unified hierarchy (a cgroup
// with processes in it — the emulator's own — cannot enable controllers for
// children). The reaper is moved into the instance's cgroup before it starts
// the runtime, so the runtime and all it starts are born inside, and moved back
// to the emulator's cgroup right after: it is not counted and not killed with
// the instance, so it can reap it and report how the runtime ended.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	// cgroupDir is the directory instance cgroups are made in.
	cgroupDir = "asyncfn"
	// cgroupPidsMax is Lambda's quota on processes and threads in an
	// execution environment ("Processes and threads: 1,024").
	cgroupPidsMax = 1024
	// v1FreezeWait bounds the wait for a v1 freezer to reach FROZEN.
	v1FreezeWait = time.Second
	unifiedMount = "/sys/fs/cgroup"
	// cpuPeriod is the CFS period of the CPU quota (SetCPUByMemory).
	cpuPeriod = 100000
	// lambdaMBPerCPU is the memory size at which Lambda gives a function one
	// vCPU; CPU is proportional to memory ("Configuring Lambda function
	// memory": "At 1,769 MB, a function has the equivalent of one vCPU").
	lambdaMBPerCPU = 1769
)

// cgroupCPUQuota is the CFS quota, per cpuPeriod, of a function of memoryMB.
func cgroupCPUQuota(memoryMB int) int64 {
	return max(1000, int64(cpuPeriod)*int64(memoryMB)/lambdaMBPerCPU)
}

// cgroupMemoryLimit is the hard limit for an instance whose sampled limit is
// limitMB: the sampler kills at limitMB of resident memory with a precise
// report; the kernel, which also counts page cache and kernel memory, only
// stops what outruns the sampler.
func cgroupMemoryLimit(limitMB int) int64 {
	return int64(limitMB+max(32, limitMB/10)) << 20
}

// cgroupSupport is what this machine offers, probed once.
var cgroupSupport struct {
	once    sync.Once
	version int    // 1 or 2; 0 when cgroups are not used
	why     string // why not, when version is 0
	home1   cgroup1.Cgroup
	home2   *cgroup2.Manager
	cpu     bool   // the cpu controller is usable too (for SetCPUByMemory)
	cpuWhy  string // why not
}

var cgroupSeq atomic.Int64

// probeCgroups decides, once, whether instances get cgroups: the controllers
// must be there and a test cgroup must be creatable, limitable and removable.
func probeCgroups() {
	s := &cgroupSupport
	s.once.Do(func() {
		if processGroupOnly || reaperOnly {
			s.why = "turned off by " + isolationEnv
			return
		}
		switch cgroups.Mode() {
		case cgroups.Unified:
			s.version, s.why = 2, probeV2()
		case cgroups.Legacy, cgroups.Hybrid:
			s.version, s.why = 1, probeV1()
		default:
			s.why = "no cgroup filesystem at " + unifiedMount
		}
		if s.why != "" {
			s.version = 0
		}
	})
}

// sweepCgroups removes the cgroups that instances of emulators no longer
// running left behind, killing what is still in them: an instance's reaper
// removes its cgroup itself when its emulator dies, unless it was killed too.
// parents are the directories instance cgroups are made in.
func sweepCgroups(parents []string, remake func(id string) (instanceCgroup, error)) {
	seen := map[string]bool{}
	for _, parent := range parents {
		entries, err := os.ReadDir(parent)
		if err != nil {
			continue
		}
		for _, e := range entries {
			id := e.Name()
			pidStr, _, ok := strings.Cut(id, "-")
			pid, err := strconv.Atoi(pidStr)
			if !e.IsDir() || !ok || err != nil || seen[id] || syscall.Kill(pid, 0) == nil {
				continue // not an instance's, or its emulator may still run
			}
			seen[id] = true
			if cg, err := remake(id); err == nil {
				releaseCgroup(cg)
			}
		}
	}
}

func probeV2() string {
	b, err := os.ReadFile(filepath.Join(unifiedMount, "cgroup.controllers"))
	if err != nil {
		return "cgroup v2: " + err.Error()
	}
	have := strings.Fields(string(b))
	for _, c := range []string{"memory", "pids"} {
		if !contains(have, c) {
			return "cgroup v2: the " + c + " controller is not available"
		}
	}
	if cgroupSupport.cpu = contains(have, "cpu"); !cgroupSupport.cpu {
		cgroupSupport.cpuWhy = "the cpu controller is not available"
	}
	own, err := cgroup2.PidGroupPath(os.Getpid())
	if err != nil {
		return "cgroup v2: " + err.Error()
	}
	if cgroupSupport.home2, err = cgroup2.Load(own); err != nil {
		return "cgroup v2: " + err.Error()
	}
	cg, err := newCgroupV2(strconv.Itoa(os.Getpid())+"-probe", 64, 0)
	if err != nil {
		return "cgroup v2: " + err.Error()
	}
	if err := cg.delete(); err != nil {
		return "cgroup v2: " + err.Error()
	}
	if cgroupSupport.cpu {
		if cg, err := newCgroupV2(strconv.Itoa(os.Getpid())+"-probe", 64, 128); err != nil {
			cgroupSupport.cpu, cgroupSupport.cpuWhy = false, err.Error()
		} else {
			_ = cg.delete()
		}
	}
	sweepCgroups([]string{filepath.Dir(cg.path)}, func(id string) (instanceCgroup, error) { return newCgroupV2(id, 0, 0) })
	return ""
}

// v1Hierarchy is the v1 hierarchies instances use.
func v1Hierarchy() ([]cgroup1.Subsystem, error) { return v1Subsystems(false) }

// v1HierarchyCPU adds the cpu hierarchy, for SetCPUByMemory.
func v1HierarchyCPU() ([]cgroup1.Subsystem, error) { return v1Subsystems(true) }

func v1Subsystems(cpu bool) ([]cgroup1.Subsystem, error) {
	all, err := cgroup1.Default()
	if err != nil {
		return nil, err
	}
	var out []cgroup1.Subsystem
	for _, s := range all {
		switch s.Name() {
		case cgroup1.Memory, cgroup1.Pids, cgroup1.Freezer:
			out = append(out, s)
		case cgroup1.Cpu:
			if cpu {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

func probeV1() string {
	// With the cpu hierarchy when there is one: the reaper goes home there too.
	home, err := cgroup1.Load(cgroup1.PidPath(os.Getpid()), cgroup1.WithHierarchy(v1HierarchyCPU))
	if err != nil {
		return "cgroup v1: " + err.Error()
	}
	if err := hasV1Subsystems(home.Subsystems()); err != nil {
		return "cgroup v1: " + err.Error()
	}
	cgroupSupport.home1 = home
	cg, err := newCgroupV1(strconv.Itoa(os.Getpid())+"-probe", 64, 0)
	if err != nil {
		return "cgroup v1: " + err.Error()
	}
	if err := cg.delete(); err != nil {
		return "cgroup v1: " + err.Error()
	}
	var parents []string
	for _, d := range cg.dirList {
		parents = append(parents, filepath.Dir(d))
	}
	if cg, err := newCgroupV1(strconv.Itoa(os.Getpid())+"-probe", 64, 128); err != nil {
		cgroupSupport.cpuWhy = err.Error()
	} else {
		cgroupSupport.cpu = true
		for _, d := range cg.dirList {
			parents = append(parents, filepath.Dir(d))
		}
		_ = cg.delete()
	}
	sweepCgroups(parents, func(id string) (instanceCgroup, error) {
		if cgroupSupport.cpu {
			return newCgroupV1(id, 0, 1) // to reach its cpu cgroup too
		}
		return newCgroupV1(id, 0, 0)
	})
	return ""
}

func hasV1Subsystems(ss []cgroup1.Subsystem) error {
	var names []string
	for _, s := range ss {
		names = append(names, string(s.Name()))
	}
	for _, n := range []cgroup1.Name{cgroup1.Memory, cgroup1.Pids, cgroup1.Freezer} {
		if !contains(names, string(n)) {
			return fmt.Errorf("the %s hierarchy is not mounted or not usable", n)
		}
	}
	return nil
}

func hasSubsystem(ss []cgroup1.Subsystem, n cgroup1.Name) bool {
	for _, s := range ss {
		if s.Name() == n {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// newInstanceCgroup makes a cgroup for one instance, with a hard memory limit
// when limitMB > 0 and, with SetCPUByMemory, a CPU quota for a function of
// memoryMB; nil when cgroups are not in use.
func newInstanceCgroup(limitMB, memoryMB int) (instanceCgroup, error) {
	probeCgroups()
	cpuMB := 0
	if cpuByMemory.Load() && cgroupSupport.cpu && memoryMB > 0 {
		cpuMB = memoryMB
	}
	id := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(cgroupSeq.Add(1), 10)
	var err error
	// Twice: another emulator may remove the empty parent directory between
	// the creation of the parent and of the child.
	for range 2 {
		switch cgroupSupport.version {
		case 1:
			var c *cgroupV1
			if c, err = newCgroupV1(id, limitMB, cpuMB); err == nil {
				return c, nil
			}
		case 2:
			var c *cgroupV2
			if c, err = newCgroupV2(id, limitMB, cpuMB); err == nil {
				return c, nil
			}
		default:
			return nil, nil
		}
	}
	return nil, err
}

// cgroupV1 is an instance's cgroup in the memory, pids and freezer hierarchies.
type cgroupV1 struct {
	cg      cgroup1.Cgroup
	path    cgroup1.Path
	memory  string   // the memory cgroup's directory
	freezer string   // the freezer cgroup's directory
	dirList []string // its directory in each hierarchy
}

func newCgroupV1(id string, limitMB, cpuMB int) (*cgroupV1, error) {
	path := cgroup1.NestedPath(filepath.Join(cgroupDir, id))
	res := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(cgroupPidsMax))}}
	if limitMB > 0 {
		res.Memory = &specs.LinuxMemory{Limit: ptr(cgroupMemoryLimit(limitMB)), Swappiness: ptr(uint64(0))}
	}
	hierarchy := v1Hierarchy
	if cpuMB > 0 {
		hierarchy = v1HierarchyCPU
		res.CPU = &specs.LinuxCPU{Quota: ptr(cgroupCPUQuota(cpuMB)), Period: ptr(uint64(cpuPeriod))}
	}
	cg, err := cgroup1.New(path, res, cgroup1.WithHierarchy(hierarchy))
	if err != nil {
		return nil, err
	}
	c := &cgroupV1{cg: cg, path: path}
	err = hasV1Subsystems(cg.Subsystems())
	if err == nil && cpuMB > 0 && !hasSubsystem(cg.Subsystems(), cgroup1.Cpu) {
		err = errors.New("the cpu hierarchy is not mounted or not usable")
	}
	if err != nil {
		_ = cg.Delete()
		return nil, err
	}
	for _, s := range cg.Subsystems() {
		p, perr := path(s.Name())
		pa, ok := s.(interface{ Path(string) string })
		if perr != nil || !ok {
			continue
		}
		c.dirList = append(c.dirList, pa.Path(p))
		switch s.Name() {
		case cgroup1.Memory:
			c.memory = pa.Path(p)
		case cgroup1.Freezer:
			c.freezer = pa.Path(p)
		}
	}
	if c.memory == "" || c.freezer == "" {
		_ = cg.Delete()
		return nil, errors.New("cannot locate the memory and freezer cgroups")
	}
	return c, nil
}

func (c *cgroupV1) add(pid int) error { return c.cg.AddProc(uint64(pid)) }

func (c *cgroupV1) home(pid int) error { return cgroupSupport.home1.AddProc(uint64(pid)) }

// kill freezes the cgroup so nothing in it can fork, SIGKILLs every process
// and thaws it, so they die. A freezer that cannot freeze in time (a task in
// uninterruptible sleep) still gets the SIGKILLs; the reaper's own repeated
// kill catches what a fork slipped past.
func (c *cgroupV1) kill() error {
	state := filepath.Join(c.freezer, "freezer.state")
	if err := os.WriteFile(state, []byte("FROZEN"), 0); err != nil {
		return err
	}
	for deadline := time.Now().Add(v1FreezeWait); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if b, err := os.ReadFile(state); err != nil || bytes.HasPrefix(b, []byte("FROZEN")) {
			break
		}
	}
	procs, err := c.cg.Processes(cgroup1.Freezer, true)
	for _, p := range procs {
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	if werr := os.WriteFile(state, []byte("THAWED"), 0); err == nil {
		err = werr
	}
	return err
}

// oomKills reads memory.oom_control's "oom_kill" (Linux 4.13+).
func (c *cgroupV1) oomKills() int {
	return readKV(filepath.Join(c.memory, "memory.oom_control"), "oom_kill")
}

func (c *cgroupV1) peakKB() int {
	return readNumber(filepath.Join(c.memory, "memory.max_usage_in_bytes")) / 1024
}

func (c *cgroupV1) dirs() []string { return c.dirList }

func (c *cgroupV1) delete() error {
	if err := c.cg.Delete(); errors.Is(err, cgroup1.ErrCgroupDeleted) {
		return nil // already
	} else if err != nil {
		return err
	}
	removeParents(c.dirList...)
	return nil
}

// removeParents removes the asyncfn directories above instance cgroups once
// they are empty (rmdir fails on one that still has a cgroup in it), so that
// nothing is left in a cgroup that the emulator's own manager may remove.
func removeParents(dirs ...string) {
	for _, d := range dirs {
		_ = os.Remove(filepath.Dir(d))
	}
}

// cgroupV2 is an instance's cgroup in the unified hierarchy.
type cgroupV2 struct {
	m    *cgroup2.Manager
	path string
}

func newCgroupV2(id string, limitMB, cpuMB int) (*cgroupV2, error) {
	group := "/" + cgroupDir + "/" + id
	res := &cgroup2.Resources{Pids: &cgroup2.Pids{Max: cgroupPidsMax}, Memory: &cgroup2.Memory{}}
	if limitMB > 0 {
		// oom.group: the kernel kills the whole instance, as the sampler does.
		res.Memory = &cgroup2.Memory{Max: ptr(cgroupMemoryLimit(limitMB)), OOMGroup: ptr(true)}
	}
	if cpuMB > 0 {
		res.CPU = &cgroup2.CPU{Max: cgroup2.NewCPUMax(ptr(cgroupCPUQuota(cpuMB)), ptr(uint64(cpuPeriod)))}
	}
	m, err := cgroup2.NewManager(unifiedMount, group, res)
	if err != nil {
		return nil, err
	}
	c := &cgroupV2{m: m, path: filepath.Join(unifiedMount, group)}
	if limitMB > 0 {
		// Best effort: swap would let a process grow past the limit unseen.
		_ = os.WriteFile(filepath.Join(c.path, "memory.swap.max"), []byte("0"), 0)
	}
	return c, nil
}

func (c *cgroupV2) dirs() []string { return []string{c.path} }

func (c *cgroupV2) add(pid int) error { return c.m.AddProc(uint64(pid)) }

func (c *cgroupV2) home(pid int) error { return cgroupSupport.home2.AddProc(uint64(pid)) }

func (c *cgroupV2) kill() error { return c.m.Kill() }

func (c *cgroupV2) oomKills() int {
	return readKV(filepath.Join(c.path, "memory.events"), "oom_kill")
}

// peakKB reads memory.peak (Linux 5.19+).
func (c *cgroupV2) peakKB() int { return readNumber(filepath.Join(c.path, "memory.peak")) / 1024 }

func (c *cgroupV2) delete() error {
	if _, err := os.Stat(c.path); errors.Is(err, os.ErrNotExist) {
		return nil // its reaper removed it, its emulator being gone
	}
	if err := c.m.Delete(); err != nil {
		return err
	}
	removeParents(c.path)
	return nil
}

// readKV reads the value of key from a file of "key value" lines; 0 when
// there is none.
func readKV(path, key string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

func readNumber(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func ptr[T any](v T) *T { return &v }

// cgroupMode describes the cgroups in force, for IsolationMode; "" when none
// is, with the reason in why.
func cgroupMode() (mode, why string) {
	probeCgroups()
	switch cgroupSupport.version {
	case 1:
		mode = "cgroup v1 (memory, pids, freezer)"
	case 2:
		mode = "cgroup v2"
	default:
		return "", cgroupSupport.why
	}
	if cpuByMemory.Load() {
		if cgroupSupport.cpu {
			mode += " with CPU by memory (1,769 MB = 1 vCPU, as on Lambda)"
		} else {
			mode += " without CPU by memory (" + cgroupSupport.cpuWhy + ")"
		}
	}
	return mode, ""
}

package runtime

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logSink collects the lines an instance delivers.
type logSink struct {
	mu    sync.Mutex
	lines []Line
	added chan struct{}
}

func newSink() *logSink { return &logSink{added: make(chan struct{}, 1)} }

func (s *logSink) add(l Line) {
	s.mu.Lock()
	s.lines = append(s.lines, l)
	s.mu.Unlock()
	select {
	case s.added <- struct{}{}:
	default:
	}
}

func (s *logSink) find(substr string) (Line, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l.Text, substr) {
			return l, true
		}
	}
	return Line{}, false
}

func (s *logSink) all() []Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Line(nil), s.lines...)
}

func (s *logSink) waitFor(t *testing.T, substr string, timeout time.Duration) Line {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if l, ok := s.find(substr); ok {
			return l
		}
		select {
		case <-s.added:
		case <-deadline:
			t.Fatalf("no log line containing %q within %v; got %+v", substr, timeout, s.all())
		}
	}
}

func needInterpreter(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err == nil {
			return
		}
	}
	t.Skipf("%s not installed", names[0])
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// start starts an instance with test defaults and terminates it at cleanup.
func start(t *testing.T, cfg Config, sink *logSink) *Instance {
	t.Helper()
	if cfg.Function == "" {
		cfg.Function = "testfn"
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 256
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Region == "" {
		cfg.Region = "ap-guangzhou"
	}
	if cfg.ARN == "" {
		cfg.ARN = "arn:aws:lambda:ap-guangzhou:000000000000:function:" + cfg.Function
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	if sink != nil {
		cfg.OnLog = sink.add
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inst, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { inst.Terminate(0) })
	return inst
}

func invoke(t *testing.T, inst *Instance, id, payload string) (Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return inst.Invoke(ctx, Request{RequestID: id, Payload: []byte(payload), Deadline: time.Now().Add(20 * time.Second)})
}

// mustSucceed invokes and decodes a successful result into out.
func mustSucceed(t *testing.T, inst *Instance, id, payload string, out any) Response {
	t.Helper()
	resp, err := invoke(t, inst, id, payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if resp.Error != nil {
		t.Fatalf("function error: %+v", resp.Error)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Payload, out); err != nil {
			t.Fatalf("decoding %q: %v", resp.Payload, err)
		}
	}
	return resp
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return false
	}
	if k := strings.LastIndexByte(string(b), ')'); k >= 0 && k+2 < len(b) {
		return b[k+2] != 'Z' && b[k+2] != 'X'
	}
	return true
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func waitDone(t *testing.T, inst *Instance, timeout time.Duration) {
	t.Helper()
	select {
	case <-inst.Done():
	case <-time.After(timeout):
		t.Fatalf("instance not done within %v", timeout)
	}
}

func pythonExecutable(t *testing.T) string {
	t.Helper()
	py, err := interpreter("ASYNCFN_PYTHON", []string{"python3", "python"}, "-c", "import sys; print(sys.executable)")
	if err != nil {
		t.Skipf("python: %v", err)
	}
	return py
}

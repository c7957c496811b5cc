package e2e

import (
	"bufio"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// tailProcess is a running `asyncfn ... logs --tail` whose stdout lines are
// collected as they arrive.
type tailProcess struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan error // the command's exit status, once it has exited
}

// startTail starts cmd and collects its output; the test's end kills it.
func startTail(t *testing.T, cmd *exec.Cmd) *tailProcess {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &tailProcess{cmd: cmd, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// text is everything the tail printed so far.
func (p *tailProcess) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitFor waits until a printed line contains s.
func (p *tailProcess) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.text(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the tail never showed %q:\n%s", s, p.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

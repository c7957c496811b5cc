package store

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

const (
	helperDirEnv  = "ASYNCFN_STORE_HELPER_DIR"
	helperSyncEnv = "ASYNCFN_STORE_HELPER_SYNC"
)

// TestHelperProcess is not a test: run as a child by TestDurabilitySIGKILL,
// it inserts events from concurrent goroutines forever and prints
// "ok <id>" on stdout after each InsertEvent returned nil.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestDurabilitySIGKILL")
	}
	s, err := OpenWith(dir, Options{Synchronous: Synchronous(os.Getenv(helperSyncEnv))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	for range 32 {
		go func() {
			for {
				id := uuid.NewString()
				if err := s.InsertEvent(ctx, &Event{RequestID: id, Function: "f", Payload: []byte(`{"k":"v"}`)}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(4)
				}
				mu.Lock()
				// One write(2) per line, straight to the pipe: once
				// written, the parent will read it even after SIGKILL.
				os.Stdout.WriteString("ok " + id + "\n")
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestDurabilitySIGKILL runs TestHelperProcess in a child process, SIGKILLs
// it in the middle of its burst of inserts and reopens the database: every
// id the child printed (InsertEvent returned) must be there.
func TestDurabilitySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for _, mode := range []Synchronous{SyncFull, SyncNormal} {
		t.Run(string(mode), func(t *testing.T) {
			for round := range 3 {
				dir := t.TempDir()
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperSyncEnv+"="+string(mode))
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Kill after a varying number of acknowledged inserts.
				killAt := 500 + round*1500
				var ids []string
				sc := bufio.NewScanner(out)
				killed := false
				deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
				for sc.Scan() {
					line := sc.Text()
					if id, ok := strings.CutPrefix(line, "ok "); ok && len(id) == 36 {
						ids = append(ids, id)
					}
					if !killed && len(ids) >= killAt {
						if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
							t.Fatal(err)
						}
						killed = true
					}
				}
				deadline.Stop()
				err = cmd.Wait()
				if !killed {
					t.Fatalf("child ended before the kill after %d ids: %v\n%s", len(ids), err, stderr.String())
				}
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("child did not die of SIGKILL: %v\n%s", err, stderr.String())
				}

				s, err := Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				_, total, err := s.ListEvents(ctx, EventQuery{Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				missing := 0
				for _, id := range ids {
					if _, err := s.GetEvent(ctx, id); err != nil {
						missing++
						if missing < 5 {
							t.Errorf("acknowledged event %s lost: %v", id, err)
						}
					}
				}
				s.Close()
				if missing > 0 {
					t.Fatalf("%d of %d acknowledged events lost", missing, len(ids))
				}
				if total < len(ids) {
					t.Fatalf("%d stored < %d acknowledged", total, len(ids))
				}
				t.Logf("round %d: %d acknowledged, %d stored (the rest committed but not yet printed)", round, len(ids), total)
			}
		})
	}
}

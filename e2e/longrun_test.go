package e2e

// Long runs: live output is never dropped, and the store stays bounded.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chattyHandler waits a moment (for the follower to attach), then prints
// ev.mb MiB of numbered 100-byte lines as fast as stdout takes them.
const chattyHandler = `exports.chatty = async (ev) => {
  await new Promise((r) => setTimeout(r, 1000));
  const pad = "x".repeat(90);
  const n = Math.floor(ev.mb * 1048576 / 100);
  for (let i = 0; i < n; i++) {
    if (!process.stdout.write("L" + String(i).padStart(7, "0") + " " + pad + "\n"))
      await new Promise((r) => process.stdout.once("drain", r));
  }
  return { lines: n };
};
`

func chattyService(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	yml := "service: chatty\nprovider:\n  name: aws\n  runtime: nodejs18.x\n  region: us-east-1\n  iam:\n    role: arn:aws:iam::000000000000:role/chatty\n" +
		"functions:\n  chatty:\n    handler: index.chatty\n    timeout: 300\n    memorySize: 512\n    maximumRetryAttempts: 0\n"
	for name, body := range map[string]string{"serverless.yml": yml, "index.js": chattyHandler} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "serverless.yml")
}

var numbered = regexp.MustCompile(`L(\d{7}) x`)

// A function printing 64 MiB reaches a `logs --tail --request-id` follower
// line for line, though the emulator keeps only 4 MiB of it; afterwards
// `logs` shows the head, one line saying what was elided, and the tail.
func TestLogTail64MiBLineForLine(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir(), "--log-keep", "4MiB")
	env := localEnv(em.url)
	yml := chattyService(t)
	mustRun(t, env, "-c", yml, "--local", "deploy")
	const mib = 64
	want := mib * 1048576 / 100
	id := strings.TrimSpace(mustRun(t, env, "-c", yml, "--local", "invoke", "-f", "chatty", "--async", "--data", fmt.Sprintf(`{"mb": %d}`, mib)).stdout)

	cmd := exec.Command(binary, "-c", yml, "--local", "logs", "-f", "chatty", "--tail", "--request-id", id)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(4*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	next := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := numbered.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n != next {
			cmd.Process.Kill()
			t.Fatalf("the follower got line %d when %d was due: a line was lost or doubled", n, next)
		}
		next++
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("logs --tail: %v; stderr: %s", err, stderr.String())
	}
	if next != want {
		t.Fatalf("the follower got %d of %d lines", next, want)
	}
	t.Logf("%d MiB, %d lines followed line for line in %s", mib, want, time.Since(start).Round(time.Millisecond))

	// What the emulator keeps: the head, the marker, the tail. Lines are
	// elided 10 s after they were written at the earliest (for clients
	// polling the cloud APIs), and not before every follower has read them.
	deadline := time.Now().Add(45 * time.Second)
	for {
		r := mustRun(t, env, "-c", yml, "--local", "logs", "-f", "chatty", "--request-id", id)
		var kept, markers int
		first, last := -1, -1
		marker := ""
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Contains(line, "of this attempt's output elided here") {
				markers++
				marker = line
				continue
			}
			if m := numbered.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				if first < 0 {
					first = n
				}
				last = n
				kept += 100
			}
		}
		if markers == 1 && first == 0 && last == want-1 && kept <= 4<<20+64<<10 && kept >= 4<<20-64<<10 {
			t.Logf("kept %d bytes; %s", kept, marker)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs shows %d bytes of output (keep 4 MiB), %d markers, lines %d…%d of %d", kept, markers, first, last, want)
		}
		time.Sleep(time.Second)
	}
}

// soakResult is what `load -mode soak -json` reports.
type soakResult struct {
	Events       int          `json:"events"`
	FailedEvents []string     `json:"failedEvents"`
	LinesWritten int64        `json:"linesWritten"`
	LinesLost    int64        `json:"linesLost"`
	OutOfOrder   int64        `json:"eventsOutOfOrder"`
	Problems     []string     `json:"problems"`
	AcceptErrors int64        `json:"acceptErrors"`
	Samples      []soakSample `json:"samples"`
}

// soakSample is one of its samples.
type soakSample struct {
	AtSec       float64 `json:"atSec"`
	RssMB       float64 `json:"rssMB"`
	StoreMB     float64 `json:"storeMB"`
	WalMB       float64 `json:"walMB"`
	Accepts     int     `json:"accepts"`
	AcceptP50Ms float64 `json:"acceptP50Ms"`
	AcceptP99Ms float64 `json:"acceptP99Ms"`
}

// The soak: for a minute, ten events print thousands of lines a second
// while three followers read the live log and a probe invokes twenty times
// a second, on an emulator with a short retention and a small budget. Every
// line reaches every follower, the emulator's memory stays flat, the store
// stays within its bounds, and accepts keep their latency. The longer run
// is in BENCHMARKS.md (§11).
func TestSoak(t *testing.T) {
	needNode(t)
	if testing.Short() {
		t.Skip("the soak takes a minute")
	}
	load := filepath.Join(t.TempDir(), "load")
	if out, err := exec.Command("go", "build", "-o", load, "./load").CombinedOutput(); err != nil {
		t.Fatalf("build the load program: %v\n%s", err, out)
	}
	state := t.TempDir()
	const budgetMB = 16
	em := startLocal(t, freePort(t), state, "--retention", "15s", "--max-store-size", fmt.Sprintf("%dMiB", budgetMB), "--log-keep", "64KiB")
	cmd := exec.Command(load, "-url", em.url, "-mode", "soak", "-state-dir", state, "-duration", "60s", "-event-duration", "15s",
		"-sample-every", "10s", "-json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("soak:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("load -mode soak: %v", err)
	}
	var res soakResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("soak result: %v\n%s", err, out)
	}
	if res.LinesWritten < 100_000 || len(res.FailedEvents) > 0 || res.AcceptErrors > 0 {
		t.Fatalf("the soak did not run as planned: %d lines written, failed events %v, %d accept errors", res.LinesWritten, res.FailedEvents, res.AcceptErrors)
	}
	if res.LinesLost != 0 || res.OutOfOrder != 0 || len(res.Problems) > 0 {
		t.Fatalf("followers lost %d lines, %d events out of order: %v", res.LinesLost, res.OutOfOrder, res.Problems)
	}
	// The windows of a whole interval (the last sample, taken after the
	// run, holds the few accepts left over).
	var s []soakSample
	for _, x := range res.Samples {
		if x.Accepts >= 50 {
			s = append(s, x)
		}
	}
	if len(s) < 5 {
		t.Fatalf("%d full samples, want 5 or more", len(s))
	}
	third := len(s) / 3
	var firstRSS, lastRSS, firstP50, lastP50 float64
	for _, x := range s[:third] {
		firstRSS, firstP50 = max(firstRSS, x.RssMB), max(firstP50, x.AcceptP50Ms)
	}
	for _, x := range s[len(s)-third:] {
		lastRSS, lastP50 = max(lastRSS, x.RssMB), max(lastP50, x.AcceptP50Ms)
	}
	// Same-run ratios, generous: the machine is shared.
	if lastRSS > firstRSS*1.3+10 {
		t.Errorf("the emulator's RSS grew from %.1f MB to %.1f MB", firstRSS, lastRSS)
	}
	if lastP50 > 5*firstP50+25 {
		t.Errorf("accept p50 went from %.1f ms to %.1f ms", firstP50, lastP50)
	}
	for _, x := range res.Samples[1:] {
		// The budget is applied every 10 s; between, the store may pass it
		// by what 10 s of this load writes.
		if x.StoreMB > budgetMB+24 || x.WalMB > 64+16 {
			t.Errorf("at %.0f s the store is %.1f MB (budget %d MiB), its WAL %.1f MB", x.AtSec, x.StoreMB, budgetMB, x.WalMB)
		}
	}
	// Retention deleted what ended more than 15 s ago.
	var page struct {
		Total int `json:"total"`
	}
	if err := getJSON(em.url+"/v1/functions/bench-soak-noop/events?limit=1", &page); err != nil {
		t.Fatal(err)
	}
	if page.Total >= 1200 || page.Total == 0 {
		t.Errorf("%d of the probe's 1,200 events are still stored after a 15 s retention", page.Total)
	}
}

// getJSON GETs url and decodes its JSON answer into v.
func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

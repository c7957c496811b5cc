package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

var benchPayload = []byte(`{"bucket":"videos","key":"uploads/2025/06/07/abcdef0123456789.mp4","preset":"1080p","notify":"https://example.com/hook"}`)

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[event.NearestRank(p, len(ds))-1]
}

// BenchmarkInsertEventParallel: concurrent accepts (16 callers per
// GOMAXPROCS), each InsertEvent returning once committed.
// Reports events/s and the p50/p99 latency seen by a caller under that
// closed-loop load.
func BenchmarkInsertEventParallel(b *testing.B) {
	for _, mode := range []Synchronous{SyncFull, SyncNormal} {
		b.Run("sync="+string(mode), func(b *testing.B) {
			s, err := OpenWith(b.TempDir(), Options{Synchronous: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(16) // 16 × GOMAXPROCS concurrent callers
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					id := fmt.Sprintf("%08d-0000-4000-8000-%012d", n.Add(1), 0)
					t0 := time.Now()
					if err := s.InsertEvent(ctx, &Event{RequestID: id, Function: "transcode", Version: 1,
						InvokeType: event.InvokeEvent, Payload: benchPayload}); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
			b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkInsertEventAt1000PerSec offers InsertEvent at a fixed 1,000/s
// (open loop: one goroutine per arrival) and reports the accept latency
// percentiles (target p99 ≤ 5 ms).
func BenchmarkInsertEventAt1000PerSec(b *testing.B) {
	for _, mode := range []Synchronous{SyncFull, SyncNormal} {
		b.Run("sync="+string(mode), func(b *testing.B) { benchAt1000(b, mode) })
	}
}

func benchAt1000(b *testing.B, mode Synchronous) {
	s, err := OpenWith(b.TempDir(), Options{Synchronous: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := s.InsertEvent(ctx, &Event{RequestID: fmt.Sprint("r-", i), Function: "transcode",
				Payload: benchPayload}); err != nil {
				b.Error(err)
			}
			lat[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkAppendLogs: concurrent AppendLogs calls of 20 lines each (the
// engine batches a function's output lines).
func BenchmarkAppendLogs(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 20
	var seq atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lines := make([]LogLine, batch)
		for pb.Next() {
			first := seq.Add(batch) - batch
			now := time.Now()
			for i := range lines {
				lines[i] = LogLine{Seq: first + int64(i) + 1, Function: "transcode", RequestID: "6f1c2d3e-0000-4000-8000-000000000001",
					Attempt: 1, Time: now, Stream: "stdout", Text: "frame 1234/5000 encoded at 48.2 fps, bitrate 4.1 Mbit/s"}
			}
			if err := s.AppendLogs(ctx, lines); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "lines/s")
}

// The 1,000,000-event database of BenchmarkListEventsFiltered, built once
// and kept in the system temp directory across runs (delete it to rebuild).
const (
	benchEvents    = 1_000_000
	benchFunctions = 20 // "hot" holds half of the events, fn01..fn19 the rest
	benchDays      = 30
)

var (
	benchDBOnce sync.Once
	benchDBDir  string
	benchDBErr  error
	benchT0     = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

func benchDB() (string, error) {
	benchDBOnce.Do(func() {
		benchDBDir = filepath.Join(os.TempDir(), fmt.Sprintf("asyncfn-store-bench-%d-v%d", benchEvents, SchemaVersion))
		marker := filepath.Join(benchDBDir, "complete")
		if _, err := os.Stat(marker); err == nil {
			return
		}
		os.RemoveAll(benchDBDir)
		s, err := Open(benchDBDir)
		if err != nil {
			benchDBErr = err
			return
		}
		rng := rand.New(rand.NewPCG(7, 7))
		span := time.Duration(benchDays) * 24 * time.Hour
		const chunk = 10_000
		for base := 0; base < benchEvents; base += chunk {
			err := s.write(ctx, func(w *writer) error {
				for i := base; i < base+chunk; i++ {
					fn := "hot"
					if rng.IntN(2) == 0 {
						fn = fmt.Sprintf("fn%02d", 1+rng.IntN(benchFunctions-1))
					}
					created := benchT0.Add(span / benchEvents * time.Duration(i)).Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
					var st event.Status
					switch r := rng.IntN(100); {
					case r < 85:
						st = event.Succeeded
					case r < 91:
						st = event.Failed
					case r < 94:
						st = event.TimedOut
					case r < 96:
						st = event.Terminated
					case r < 98:
						st = event.Queued
					default:
						st = event.Running
					}
					var started, ended any
					if st != event.Queued {
						started = created.Add(50 * time.Millisecond).UnixNano()
					}
					dur := int64(0)
					if st.Terminal() {
						dur = int64(100 + rng.IntN(60_000))
						ended = created.Add(50*time.Millisecond + time.Duration(dur)*time.Millisecond).UnixNano()
					}
					if _, err := w.stmts.insertEvent.Exec(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, rng.Int64()&0xffffffffffff),
						fn, 1, "$LATEST", event.InvokeEvent, string(st), 1, created.UnixNano(), started, ended, nil,
						dur, 128, "", "", nil, benchPayload, nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				s.Close()
				benchDBErr = err
				return
			}
		}
		if _, err := s.wc.ExecContext(ctx, "ANALYZE"); err != nil {
			benchDBErr = err
		}
		if err := s.Close(); err != nil {
			benchDBErr = err
			return
		}
		benchDBErr = os.WriteFile(marker, nil, 0o600)
	})
	return benchDBDir, benchDBErr
}

// BenchmarkListEventsFiltered: ListEvents (page of 100 + total) over
// 1,000,000 events; target ≤ 50 ms.
func BenchmarkListEventsFiltered(b *testing.B) {
	dir, err := benchDB()
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	end := benchT0.Add(benchDays * 24 * time.Hour)
	S := func(st ...event.Status) []event.Status { return st }
	for _, tc := range []struct {
		name string
		q    EventQuery
	}{
		{"fn+failed,timedout+24h", EventQuery{Function: "hot", Statuses: S(event.Failed, event.TimedOut), CreatedAfter: end.Add(-24 * time.Hour), CreatedBefore: end, Limit: 100}},
		{"fn+failed,timedout+24h+desc", EventQuery{Function: "hot", Statuses: S(event.Failed, event.TimedOut), CreatedAfter: end.Add(-24 * time.Hour), CreatedBefore: end, Limit: 100, Desc: true}},
		{"fn+running,queued+all", EventQuery{Function: "hot", Statuses: S(event.Running, event.Queued), Limit: 100}},
		{"smallfn+failed+7d", EventQuery{Function: "fn07", Statuses: S(event.Failed), CreatedAfter: end.Add(-7 * 24 * time.Hour), Limit: 100}},
		{"fn+succeeded+24h", EventQuery{Function: "hot", Statuses: S(event.Succeeded), CreatedAfter: end.Add(-24 * time.Hour), Limit: 100}},
		{"fn+3terminal+7d+offset1000", EventQuery{Function: "hot", Statuses: S(event.Failed, event.TimedOut, event.Terminated), CreatedAfter: end.Add(-7 * 24 * time.Hour), Offset: 1000, Limit: 100}},
		{"fn+succeeded+7d", EventQuery{Function: "hot", Statuses: S(event.Succeeded), CreatedAfter: end.Add(-7 * 24 * time.Hour), Limit: 100}},
		{"fn+all-time(500k)", EventQuery{Function: "hot", Limit: 100}},
		{"no-filter(1M)", EventQuery{Limit: 100, Desc: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var total int
			for b.Loop() {
				evs, n, err := s.ListEvents(ctx, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) == 0 {
					b.Fatal("empty page")
				}
				total = n
			}
			b.ReportMetric(float64(total), "matching")
		})
	}
}

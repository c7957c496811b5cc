package store

import (
	"fmt"
	"math"
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

// BenchmarkLogsBackwardPaging: CloudWatch's GetLogEvents over a function
// that logged 200,000 lines over 4 days (50,000 a day, a stream a day)
// while another function logged 50,000 lines in between. Every page is 100
// lines; the time of a page must not depend on how many lines the function
// has before or after the window (the log_spans bounds) or in it (LIMIT
// with a cursor instead of loading the window).
func BenchmarkLogsBackwardPaging(b *testing.B) {
	const (
		hot   = 200_000
		cold  = 50_000
		days  = 4
		page  = 100
		batch = 4096
	)
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	step := time.Duration(days) * 24 * time.Hour / hot
	rng := rand.New(rand.NewPCG(1, 1))
	var lines []LogLine
	var seq int64
	flush := func() {
		if err := s.AppendLogs(ctx, lines); err != nil {
			b.Fatal(err)
		}
		lines = lines[:0]
	}
	for i := range hot + cold {
		seq++
		fn, at := "hot", i*hot/(hot+cold)
		if i%5 == 4 {
			fn = "cold"
		}
		// Completed up to 50 ms before being numbered, as the engine's.
		tm := t0.Add(time.Duration(at) * step).Add(-time.Duration(rng.IntN(50)) * time.Millisecond)
		lines = append(lines, LogLine{Seq: seq, Function: fn, RequestID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i/20),
			Attempt: 1, Time: tm, Stream: "stdout", Text: "frame 1234/5000 encoded at 48.2 fps, bitrate 4.1 Mbit/s"})
		if len(lines) == batch {
			flush()
		}
	}
	flush()
	dayWindow := func(d int) (time.Time, time.Time) {
		return t0.Add(time.Duration(d) * 24 * time.Hour), t0.Add(time.Duration(d+1) * 24 * time.Hour)
	}
	// seqs of the hot lines of day d, ascending.
	daySeqs := func(d int) []int64 {
		since, until := dayWindow(d)
		ls, err := s.Logs(ctx, LogQuery{Function: "hot", Since: since, Until: until})
		if err != nil {
			b.Fatal(err)
		}
		return seqsOf(ls)
	}
	last, first := daySeqs(days-1), daySeqs(0)
	lastSince, lastUntil := dayWindow(days - 1)
	firstSince, firstUntil := dayWindow(0)
	run := func(name string, q LogQuery, want int) {
		b.Run(name, func(b *testing.B) {
			var n int
			for b.Loop() {
				ls, err := s.Logs(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(ls)
			}
			if n != want {
				b.Fatalf("%d lines, want %d", n, want)
			}
			b.ReportMetric(float64(n), "lines/op")
		})
	}
	back := func(since, until time.Time, before int64) LogQuery {
		return LogQuery{Function: "hot", Since: since, Until: until, BeforeSeq: before, Desc: true, Limit: page}
	}
	// The first page without a token: the newest lines of the stream.
	run("latest-page", back(lastSince, lastUntil, 0), page)
	// The newest lines of the first day's stream: 150,000 newer lines of
	// the function lie past its end.
	run("latest-page-of-oldest-day", back(firstSince, firstUntil, 0), page)
	// A page in the middle of the newest day.
	run("page-mid-window", back(lastSince, lastUntil, last[len(last)/2]), page)
	// The last page: 40 lines before the cursor are in the window, then
	// the window's start; 150,000 older lines of the function lie beyond it.
	run("page-at-window-start", back(lastSince, lastUntil, last[40]), 40)
	run("page-at-oldest-day-start", back(firstSince, firstUntil, first[40]), 40)
	// The whole newest day backwards, page by page (500 pages): ns/op is
	// per day; page-ns is per page.
	b.Run("walk-day-backward", func(b *testing.B) {
		pages := 0
		for b.Loop() {
			q := back(lastSince, lastUntil, 0)
			total := 0
			for {
				ls, err := s.Logs(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				pages++
				if len(ls) == 0 {
					break
				}
				total += len(ls)
				q.BeforeSeq = ls[len(ls)-1].Seq
			}
			if total != len(last) {
				b.Fatalf("walked %d lines of %d", total, len(last))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pages), "page-ns")
	})
	// For comparison, what the handler did before: load the whole window
	// newest first and keep the 100 lines before the cursor.
	b.Run("before:load-window-then-filter", func(b *testing.B) {
		cursor := last[len(last)/2]
		for b.Loop() {
			ls, err := s.Logs(ctx, LogQuery{Function: "hot", Since: lastSince, Until: lastUntil, Desc: true})
			if err != nil {
				b.Fatal(err)
			}
			var keep []LogLine
			for _, l := range ls {
				if l.Seq < cursor && len(keep) < page {
					keep = append(keep, l)
				}
			}
			if len(keep) != page {
				b.Fatal(len(keep))
			}
		}
	})
	// And a cursor with LIMIT but without the log_spans bounds: the last page
	// walks every older line of the function.
	b.Run("without-log-spans:page-at-window-start", func(b *testing.B) {
		q := back(lastSince, lastUntil, last[40])
		query, args := logsSQL(q, []string{"hot"}, seqRange{lo: math.MinInt64, hi: q.BeforeSeq - 1})
		for b.Loop() {
			rows, err := s.rdb.QueryContext(ctx, query, args...)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n != 40 {
				b.Fatal(n)
			}
		}
	})
}

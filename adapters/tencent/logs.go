package tencent

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/adapters"
)

// Logs come from GetFunctionLogs, which returns one entry per execution of a
// function (an invocation, or one retry of it): its StartTime, whether it has
// finished (InvokeFinished) and its whole log text so far (Log). A line is
// therefore identified by (RequestId, RetryNum, line number in Log).
//
// `--tail` polls every PollInterval over a window [frontier, now] and keeps,
// for each entry at or after the frontier, how many of its lines were
// emitted. The frontier only moves forward, to the earlier of the oldest
// unfinished entry's start (its log still grows) and now minus logLag (an
// entry may become visible a little after it started). Entries before the
// frontier are finished and fully emitted, so they are dropped from the
// bookkeeping; entries inside it are re-read and only their new lines are
// emitted: no duplicates, and no gaps as long as an entry becomes visible
// within logLag of its start. A line is emitted only once it ends with a
// newline, so a line being written is never cut in two.
//
// Limits of SCF's API: a query window is at most one day (longer spans are
// read in one-day chunks) and Offset+Limit at most 10000 entries per window.

const (
	logPage       = 100
	logMaxEntries = 10000
	logWindow     = 24 * time.Hour
	logLag        = 30 * time.Second
)

// logEntry is one FunctionLog.
type logEntry struct {
	requestID string
	retryNum  uint64
	start     time.Time
	finished  bool
	duration  float64
	memUsage  int64
	retMsg    string
	log       string
}

// Codes of FunctionLog (SCF API, models.go): RetCode "0 表示执行成功，2表示
// 函数运行中，3表示函数执行中断，其他值表示失败"; InvokeFinished "如果是 1 表示
// 执行结束，其他值表示调用异常".
const (
	retCodeRunning     = 2
	invokeFinishedDone = 1
)

// over tells whether an execution has ended, so that its log grows no more:
// InvokeFinished 1 (ended), or any other InvokeFinished (an invocation
// exception) with a RetCode that is not 2 (running) — an interrupted one (3)
// or a failure. An entry without either is taken as running.
func over(invokeFinished, retCode *int64) bool {
	if invokeFinished != nil && *invokeFinished == invokeFinishedDone {
		return true
	}
	return retCode != nil && *retCode != retCodeRunning
}

func newLogEntry(d *scf.FunctionLog) *logEntry {
	e := &logEntry{requestID: s(d.RequestId), retMsg: s(d.RetMsg), log: s(d.Log), finished: over(d.InvokeFinished, d.RetCode)}
	e.start, _ = parseTime(s(d.StartTime))
	if d.RetryNum != nil {
		e.retryNum = *d.RetryNum
	}
	if d.Duration != nil {
		e.duration = *d.Duration
	}
	if d.MemUsage != nil {
		e.memUsage = *d.MemUsage
	}
	return e
}

func (e *logEntry) key() string { return e.requestID + "/" + strconv.FormatUint(e.retryNum, 10) }

// fetchLogs reads every entry that started in [from, to], oldest first.
func (p *Provider) fetchLogs(ctx context.Context, fn, requestID string, from, to time.Time) ([]*logEntry, error) {
	// StartTime and EndTime "只能与endtime相差一天之内" (SCF API,
	// GetFunctionLogs): never ask for more, whatever the caller's rounding.
	if to.Sub(from) > logWindow {
		to = from.Add(logWindow)
	}
	var out []*logEntry
	for offset := 0; offset < logMaxEntries; {
		req := scf.NewGetFunctionLogsRequest()
		req.FunctionName, req.Namespace = ptr(fn), ptr(namespace)
		if requestID != "" {
			req.FunctionRequestId = ptr(requestID)
		}
		req.StartTime, req.EndTime = ptr(formatTime(from)), ptr(formatTime(to))
		req.Order, req.OrderBy = ptr("asc"), ptr("start_time")
		req.Offset, req.Limit = ptr(int64(offset)), ptr(int64(min(logPage, logMaxEntries-offset)))
		var resp *scf.GetFunctionLogsResponse
		if err := p.call(ctx, "GetFunctionLogs", func(c *scf.Client) (err error) {
			resp, err = c.GetFunctionLogs(req)
			return err
		}); err != nil {
			return nil, err
		}
		if resp.Response == nil {
			return nil, fmt.Errorf("tencent: GetFunctionLogs: empty answer")
		}
		for _, d := range resp.Response.Data {
			if d != nil {
				out = append(out, newLogEntry(d))
			}
		}
		offset += len(resp.Response.Data)
		total := 0
		if resp.Response.TotalCount != nil {
			total = int(*resp.Response.TotalCount)
		}
		if len(resp.Response.Data) == 0 || offset >= total {
			break
		}
	}
	return out, nil
}

// logEntries returns the executions of one event, oldest first.
func (p *Provider) logEntries(ctx context.Context, fn, requestID string, created time.Time) ([]*logEntry, error) {
	from := created.Truncate(time.Second)
	if created.IsZero() {
		from = time.Now().Add(-logWindow)
	}
	to := from.Add(logWindow)
	if now := time.Now().Add(time.Minute); now.Before(to) {
		to = now
	}
	return p.fetchLogs(ctx, fn, requestID, from, to)
}

// Logs returns the log lines of q.Function (of one event with q.RequestID);
// with q.Tail it keeps polling until ctx ends.
func (p *Provider) Logs(ctx context.Context, q adapters.LogQuery) (adapters.LogStream, error) {
	if q.Function == "" {
		return nil, fmt.Errorf("tencent: logs need a function")
	}
	st := &logStream{p: p, q: q, seen: map[string]*seenEntry{}}
	now := time.Now()
	switch {
	case !q.Since.IsZero():
		st.frontier = q.Since
	case q.RequestID != "" || !q.Tail:
		st.frontier = now.Add(-logWindow)
	default:
		st.frontier = now.Add(-logLag) // follow from now, with the entries just started
	}
	if q.Cursor != "" {
		if err := st.resume(q.Cursor); err != nil {
			return nil, err
		}
	}
	return st, nil
}

type seenEntry struct {
	lines int
	start time.Time
	done  bool
}

type logStream struct {
	p        *Provider
	q        adapters.LogQuery
	seen     map[string]*seenEntry
	frontier time.Time
	pending  []adapters.LogLine
	emitted  int
	polled   bool
	eof      bool
	// skipBefore: entries that started before it were read before a resume.
	skipBefore time.Time
}

// resume restarts after a cursor "startUnixNano:requestId:retryNum:lines".
func (st *logStream) resume(cursor string) error {
	parts := strings.Split(cursor, ":")
	if len(parts) != 4 {
		return fmt.Errorf("tencent: log cursor %q is not one this adapter wrote", cursor)
	}
	ns, err1 := strconv.ParseInt(parts[0], 10, 64)
	retry, err2 := strconv.ParseUint(parts[2], 10, 64)
	lines, err3 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil || err3 != nil {
		return fmt.Errorf("tencent: log cursor %q is not one this adapter wrote", cursor)
	}
	start := time.Unix(0, ns)
	st.frontier, st.skipBefore = start, start
	st.seen[parts[1]+"/"+strconv.FormatUint(retry, 10)] = &seenEntry{lines: lines, start: start}
	return nil
}

func (st *logStream) Close() error { return nil }

func (st *logStream) Next(ctx context.Context) (adapters.LogLine, error) {
	for {
		if len(st.pending) > 0 {
			l := st.pending[0]
			st.pending = st.pending[1:]
			st.emitted++
			return l, nil
		}
		if st.eof || (!st.q.Tail && st.q.Limit > 0 && st.emitted >= st.q.Limit) {
			return adapters.LogLine{}, io.EOF
		}
		if st.polled && st.q.Tail {
			select {
			case <-ctx.Done():
				return adapters.LogLine{}, ctx.Err()
			case <-time.After(st.p.poll):
			}
		}
		if err := st.poll(ctx); err != nil {
			return adapters.LogLine{}, err
		}
		st.polled = true
	}
}

// poll reads the windows from the frontier to now and queues new lines.
func (st *logStream) poll(ctx context.Context) error {
	now := time.Now()
	for {
		from := st.frontier.Truncate(time.Second)
		to := from.Add(logWindow)
		last := !to.Before(now)
		if last {
			to = now.Add(time.Second)
		}
		entries, err := st.p.fetchLogs(ctx, st.q.Function, st.q.RequestID, from, to)
		if err != nil {
			return err
		}
		oldestOpen := time.Time{}
		for _, e := range entries {
			if e.start.Before(st.skipBefore) {
				continue
			}
			se := st.seen[e.key()]
			if se == nil {
				se = &seenEntry{start: e.start}
				st.seen[e.key()] = se
			}
			if se.done {
				continue
			}
			st.queue(e, se)
			if !se.done && (oldestOpen.IsZero() || e.start.Before(oldestOpen)) {
				oldestOpen = e.start
			}
		}
		next := to.Add(-logLag)
		if !st.q.Tail && !last {
			next = to // reading history in one-day chunks: no overlap needed
		}
		if !oldestOpen.IsZero() && oldestOpen.Before(next) {
			next = oldestOpen
		}
		if next.After(st.frontier) {
			st.frontier = next
		}
		cut := st.frontier.Truncate(time.Second)
		for k, se := range st.seen {
			if se.start.Before(cut) {
				delete(st.seen, k)
			}
		}
		if last {
			if !st.q.Tail {
				st.eof = true
			}
			return nil
		}
	}
}

// queue appends the lines of e not yet emitted. A line counts once it ends
// with a newline, or once the execution has finished.
func (st *logStream) queue(e *logEntry, se *seenEntry) {
	text := e.log
	complete := e.finished || strings.HasSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	var lines []string
	if text != "" {
		lines = strings.Split(text, "\n")
	}
	if !complete && len(lines) > 0 {
		lines = lines[:len(lines)-1] // still being written
	}
	for i := se.lines; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if st.q.Filter == "" || strings.Contains(line, st.q.Filter) {
			st.pending = append(st.pending, adapters.LogLine{Time: e.start, Function: st.q.Function, RequestID: e.requestID, Text: line,
				Cursor: fmt.Sprintf("%d:%s:%d:%d", e.start.UnixNano(), e.requestID, e.retryNum, i+1)})
		}
	}
	if len(lines) > se.lines {
		se.lines = len(lines)
	}
	se.done = e.finished
}

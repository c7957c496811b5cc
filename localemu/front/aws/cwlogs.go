package aws

// The CloudWatch Logs front (JSON 1.1, X-Amz-Target: Logs_20140328.*): the
// log group /aws/lambda/<function> of every Lambda function, read from the
// engine's log store. Lines look as Lambda writes them: platform lines
// (START, END, REPORT) as they are, function output as Node's runtime
// formats console.log: "<ISO time>\t<request id>\tINFO\t<text>".

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/store"
)

const (
	cwTargetPrefix   = "Logs_20140328."
	cwLogGroupPrefix = "/aws/lambda/"
	cwMaxEvents      = 10000 // the service's default and maximum limit
	cwScanPage       = 1000
)

// awsJSONError writes an error as the JSON 1.0/1.1 services do.
func awsJSONError(w http.ResponseWriter, status int, code, msg, requestID string) {
	json11Shape.writeError(w, &awsError{status: status, code: code, msg: msg}, requestID)
}

// invalidParameter is CloudWatch Logs' 400 InvalidParameterException.
func invalidParameter(format string, args ...any) *awsError {
	return apiError(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

// cwLogs is the handler of POST / (json11Shape): it dispatches by
// X-Amz-Target. StartLiveTail answers with an event stream (livetail.go).
func (s *Front) cwLogs(ctx context.Context, c *awsCall) (answer, error) {
	target := c.r.Header.Get("X-Amz-Target")
	op, found := strings.CutPrefix(target, cwTargetPrefix)
	if !found {
		return answer{}, apiError(http.StatusBadRequest, "UnknownOperationException", "%q is not a CloudWatch Logs operation", target)
	}
	switch op {
	case "DescribeLogGroups":
		return s.cwDescribeLogGroups(ctx, c)
	case "DescribeLogStreams":
		return s.cwDescribeLogStreams(ctx, c)
	case "GetLogEvents":
		return s.cwGetLogEvents(ctx, c)
	case "FilterLogEvents":
		return s.cwFilterLogEvents(ctx, c)
	case "StartLiveTail":
		return s.cwStartLiveTail(ctx, c)
	}
	return answer{}, apiError(http.StatusBadRequest, "UnknownOperationException", "the emulator does not serve CloudWatch Logs %s (served: DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents, StartLiveTail)", op)
}

// cwMessage formats a log line as Lambda stores it in CloudWatch Logs.
func cwMessage(l store.LogLine) string {
	if l.Stream == "platform" || l.RequestID == "" {
		return l.Text + "\n"
	}
	level := "INFO"
	if l.Stream == "stderr" {
		level = "ERROR"
	}
	return l.Time.UTC().Format("2006-01-02T15:04:05.000Z") + "\t" + l.RequestID + "\t" + level + "\t" + l.Text + "\n"
}

// cwStreamName is the log stream of a function's lines of one day.
func cwStreamName(fn string, t time.Time) string {
	day := t.UTC().Format("2006/01/02")
	h := sha256.Sum256([]byte(fn + "/" + day))
	return day + "/[$LATEST]" + hex.EncodeToString(h[:16])
}

// cwStreamDay returns the day a stream name covers.
func cwStreamDay(name string) (time.Time, bool) {
	if len(name) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006/01/02", name[:10])
	return t, err == nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// cwFunction resolves a log group name (or ARN) to its function.
func (s *Front) cwFunction(ctx context.Context, group, identifier string) (store.Function, error) {
	if group == "" {
		group = identifier
	}
	if i := strings.Index(group, ":log-group:"); i >= 0 {
		group = strings.TrimSuffix(group[i+len(":log-group:"):], ":*")
	}
	fn, ok := strings.CutPrefix(group, cwLogGroupPrefix)
	if ok && fn != "" {
		if f, _, err := s.engine.Function(ctx, fn); err == nil {
			return f, nil
		}
	}
	return store.Function{}, apiError(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist: %q", group)
}

func (s *Front) cwDescribeLogGroups(ctx context.Context, c *awsCall) (answer, error) {
	var in struct {
		LogGroupNamePrefix  string `json:"logGroupNamePrefix"`
		LogGroupNamePattern string `json:"logGroupNamePattern"`
		Limit               int    `json:"limit"`
		NextToken           string `json:"nextToken"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	fns, err := s.engine.Functions(ctx)
	if err != nil {
		return answer{}, err
	}
	start, valid := pageStart(in.NextToken)
	if !valid {
		return answer{}, invalidParameter("nextToken %q is not a token this API returned", in.NextToken)
	}
	if in.Limit < 0 || in.Limit > 50 {
		// CloudWatch Logs API reference, DescribeLogGroups: limit is 1-50.
		return answer{}, invalidParameter("limit %d is not between 1 and 50", in.Limit)
	}
	if in.Limit == 0 {
		in.Limit = 50
	}
	type group struct {
		LogGroupName    string `json:"logGroupName"`
		CreationTime    int64  `json:"creationTime"`
		Arn             string `json:"arn"`
		LogGroupArn     string `json:"logGroupArn"`
		StoredBytes     int64  `json:"storedBytes"`
		LogGroupClass   string `json:"logGroupClass"`
		MetricFilterCnt int    `json:"metricFilterCount"`
	}
	out := struct {
		LogGroups []group `json:"logGroups"`
		NextToken string  `json:"nextToken,omitempty"`
	}{LogGroups: []group{}}
	for i := start; i < len(fns); i++ {
		cfg, err := localemu.DecodeConfig(fns[i].Config)
		if err != nil || cfg.Provider != cloud.AWS {
			continue
		}
		name := cwLogGroupPrefix + fns[i].Name
		if !strings.HasPrefix(name, in.LogGroupNamePrefix) || in.LogGroupNamePattern != "" && !strings.Contains(name, in.LogGroupNamePattern) {
			continue
		}
		if len(out.LogGroups) == in.Limit {
			out.NextToken = strconv.Itoa(i)
			break
		}
		region := cfg.Region
		if region == "" {
			region = awsDefaultRegion
		}
		arn := "arn:aws:logs:" + region + ":" + awsAccountID + ":log-group:" + name
		out.LogGroups = append(out.LogGroups, group{LogGroupName: name, CreationTime: ms(fns[i].CreatedAt), Arn: arn + ":*", LogGroupArn: arn, LogGroupClass: "STANDARD"})
	}
	return ok(out), nil
}

func (s *Front) cwDescribeLogStreams(ctx context.Context, c *awsCall) (answer, error) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogGroupIdentifier  string `json:"logGroupIdentifier"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		Descending          bool   `json:"descending"`
		Limit               int    `json:"limit"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	f, err := s.cwFunction(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return answer{}, err
	}
	first, err1 := s.engine.Logs(ctx, store.LogQuery{Function: f.Name, Limit: 1})
	last, err2 := s.engine.Logs(ctx, store.LogQuery{Function: f.Name, Limit: 1, Desc: true})
	if err1 != nil || err2 != nil {
		return answer{}, fmt.Errorf("read logs: %w", errorsJoin(err1, err2))
	}
	type stream struct {
		LogStreamName       string `json:"logStreamName"`
		CreationTime        int64  `json:"creationTime"`
		FirstEventTimestamp int64  `json:"firstEventTimestamp"`
		LastEventTimestamp  int64  `json:"lastEventTimestamp"`
		LastIngestionTime   int64  `json:"lastIngestionTime"`
		Arn                 string `json:"arn"`
	}
	out := struct {
		LogStreams []stream `json:"logStreams"`
	}{LogStreams: []stream{}}
	if len(first) == 1 && len(last) == 1 {
		from, to := first[0].Time.UTC().Truncate(24*time.Hour), last[0].Time.UTC()
		for d := from; !d.After(to); d = d.Add(24 * time.Hour) {
			name := cwStreamName(f.Name, d)
			if !strings.HasPrefix(name, in.LogStreamNamePrefix) {
				continue
			}
			firstTS, lastTS := d, d.Add(24*time.Hour-time.Millisecond)
			if firstTS.Before(first[0].Time) {
				firstTS = first[0].Time
			}
			if lastTS.After(last[0].Time) {
				lastTS = last[0].Time
			}
			out.LogStreams = append(out.LogStreams, stream{LogStreamName: name, CreationTime: ms(firstTS), FirstEventTimestamp: ms(firstTS),
				LastEventTimestamp: ms(lastTS), LastIngestionTime: ms(lastTS),
				Arn: "arn:aws:logs:" + awsDefaultRegion + ":" + awsAccountID + ":log-group:" + cwLogGroupPrefix + f.Name + ":log-stream:" + name})
		}
	}
	if in.Descending {
		for i, j := 0, len(out.LogStreams)-1; i < j; i, j = i+1, j-1 {
			out.LogStreams[i], out.LogStreams[j] = out.LogStreams[j], out.LogStreams[i]
		}
	}
	if in.Limit > 0 && len(out.LogStreams) > in.Limit {
		out.LogStreams = out.LogStreams[:in.Limit]
	}
	return ok(out), nil
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// cwEvent is an OutputLogEvent / FilteredLogEvent on the wire.
type cwEvent struct {
	LogStreamName string `json:"logStreamName,omitempty"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId,omitempty"`
}

func cwEventOf(l store.LogLine, filtered bool) cwEvent {
	e := cwEvent{Timestamp: ms(l.Time), Message: cwMessage(l), IngestionTime: ms(l.Time)}
	if filtered {
		e.LogStreamName = cwStreamName(l.Function, l.Time)
		e.EventID = fmt.Sprintf("%056d", l.Seq) // numeric and ordered, as CloudWatch's ids are
	}
	return e
}

// cwLimit reads a query's limit of events: the maximum when not given.
func cwLimit(n int) (int, error) {
	if n == 0 {
		return cwMaxEvents, nil
	}
	if n < 1 || n > cwMaxEvents {
		return 0, invalidParameter("limit %d is outside 1-%d", n, cwMaxEvents)
	}
	return n, nil
}

func cwTime(msec *int64) time.Time {
	if msec == nil {
		return time.Time{}
	}
	return time.UnixMilli(*msec)
}

func (s *Front) cwGetLogEvents(ctx context.Context, c *awsCall) (answer, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartTime          *int64 `json:"startTime"`
		EndTime            *int64 `json:"endTime"`
		NextToken          string `json:"nextToken"`
		Limit              int    `json:"limit"`
		StartFromHead      *bool  `json:"startFromHead"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	f, err := s.cwFunction(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return answer{}, err
	}
	day, found := cwStreamDay(in.LogStreamName)
	if !found || cwStreamName(f.Name, day) != in.LogStreamName {
		return answer{}, apiError(http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist: %q", in.LogStreamName)
	}
	limit, err := cwLimit(in.Limit)
	if err != nil {
		return answer{}, err
	}
	q := store.LogQuery{Function: f.Name, Since: day, Until: day.Add(24 * time.Hour), Limit: limit}
	if t := cwTime(in.StartTime); t.After(q.Since) {
		q.Since = t
	}
	if t := cwTime(in.EndTime); !t.IsZero() && t.Before(q.Until) {
		q.Until = t
	}
	after := int64(0) // the seq the page follows: its tokens when it is empty
	fromHead := in.StartFromHead != nil && *in.StartFromHead
	switch {
	case strings.HasPrefix(in.NextToken, "f/"):
		n, err := strconv.ParseInt(in.NextToken[2:], 10, 64)
		if err != nil {
			return answer{}, invalidParameter("nextToken %q is not a token this API returned", in.NextToken)
		}
		q.AfterSeq, after = n, n
	case strings.HasPrefix(in.NextToken, "b/"):
		n, err := strconv.ParseInt(in.NextToken[2:], 10, 64)
		if err != nil {
			return answer{}, invalidParameter("nextToken %q is not a token this API returned", in.NextToken)
		}
		// Backwards: the lines before seq n, newest first (the store stops
		// at the page's limit), returned in order.
		after = n - 1
		if n <= 0 {
			return cwEventsPage(nil, after), nil // no line comes before it (BeforeSeq 0 would be no bound)
		}
		q.BeforeSeq, q.Desc = n, true
	case in.NextToken != "":
		return answer{}, invalidParameter("nextToken %q is not a token this API returned", in.NextToken)
	case !fromHead:
		// Without a token and startFromHead, CloudWatch returns the latest events.
		q.Desc = true
	}
	lines, err := s.engine.Logs(ctx, q)
	if err != nil {
		return answer{}, err
	}
	if q.Desc {
		reverse(lines)
	}
	return cwEventsPage(lines, after), nil
}

func reverse(l []store.LogLine) {
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
}

// cwEventsPage is GetLogEvents' answer: lines, in order, following seq
// after. At the end of the stream the forward token stays the same, which is
// how CloudWatch tells a reader it is caught up.
func cwEventsPage(lines []store.LogLine, after int64) answer {
	out := struct {
		Events            []cwEvent `json:"events"`
		NextForwardToken  string    `json:"nextForwardToken"`
		NextBackwardToken string    `json:"nextBackwardToken"`
	}{Events: []cwEvent{}}
	last, first := after, after+1
	for _, l := range lines {
		out.Events = append(out.Events, cwEventOf(l, false))
	}
	if len(lines) > 0 {
		first, last = lines[0].Seq, lines[len(lines)-1].Seq
	}
	out.NextForwardToken = "f/" + strconv.FormatInt(last, 10)
	out.NextBackwardToken = "b/" + strconv.FormatInt(first, 10)
	return ok(out)
}

// cwPattern is a filter pattern of terms that must all occur in a message:
// quoted phrases ("a b") or bare words. JSON and space-delimited patterns
// ({ ... }, [ ... ]) are not emulated.
type cwPattern struct {
	terms     []string
	requestID string // a term that is a request id narrows the scan
}

func parseCWPattern(p string) (cwPattern, error) {
	var out cwPattern
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "{") || strings.HasPrefix(p, "[") {
		return out, fmt.Errorf("JSON and space-delimited filter patterns are not emulated; use quoted terms")
	}
	for p != "" {
		var term string
		if p[0] == '"' {
			end := strings.IndexByte(p[1:], '"')
			if end < 0 {
				return out, fmt.Errorf("unterminated quoted term in filter pattern")
			}
			term, p = p[1:1+end], p[2+end:]
		} else {
			i := strings.IndexAny(p, " \t")
			if i < 0 {
				i = len(p)
			}
			term, p = p[:i], p[i:]
		}
		p = strings.TrimSpace(p)
		if term == "" {
			continue
		}
		out.terms = append(out.terms, term)
		if isUUID(term) && out.requestID == "" {
			out.requestID = term
		}
	}
	return out, nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
	}
	return true
}

func (p cwPattern) match(msg string) bool {
	for _, t := range p.terms {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	return true
}

func (s *Front) cwFilterLogEvents(ctx context.Context, c *awsCall) (answer, error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		NextToken           string   `json:"nextToken"`
		Limit               int      `json:"limit"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	f, err := s.cwFunction(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return answer{}, err
	}
	limit, err := cwLimit(in.Limit)
	if err != nil {
		return answer{}, err
	}
	pat, err := parseCWPattern(in.FilterPattern)
	if err != nil {
		return answer{}, invalidParameter("filterPattern %q: %v", in.FilterPattern, err)
	}
	q := store.LogQuery{Function: f.Name, RequestID: pat.requestID, Since: cwTime(in.StartTime), Limit: cwScanPage}
	if in.EndTime != nil {
		q.Until = cwTime(in.EndTime).Add(time.Millisecond) // endTime is inclusive
	}
	if in.NextToken != "" {
		n, err := strconv.ParseInt(in.NextToken, 10, 64)
		if err != nil {
			return answer{}, invalidParameter("nextToken %q is not a token this API returned", in.NextToken)
		}
		q.AfterSeq = n
	}
	streams := map[string]bool{}
	for _, n := range in.LogStreamNames {
		streams[n] = true
	}
	out := struct {
		Events    []cwEvent `json:"events"`
		NextToken string    `json:"nextToken,omitempty"`
	}{Events: []cwEvent{}}
	for {
		lines, err := s.engine.Logs(ctx, q)
		if err != nil {
			return answer{}, err
		}
		for _, l := range lines {
			q.AfterSeq = l.Seq
			ev := cwEventOf(l, true)
			if len(streams) > 0 && !streams[ev.LogStreamName] || !strings.HasPrefix(ev.LogStreamName, in.LogStreamNamePrefix) || !pat.match(ev.Message) {
				continue
			}
			out.Events = append(out.Events, ev)
			if len(out.Events) == limit {
				out.NextToken = strconv.FormatInt(l.Seq, 10)
				return ok(out), nil
			}
		}
		if len(lines) < cwScanPage {
			break
		}
	}
	return ok(out), nil
}

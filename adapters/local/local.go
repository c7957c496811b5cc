// Package local implements adapters.Provider over the emulator's native JSON
// API (/v1/). Like every adapter it reaches the emulator only over HTTP.
package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/nativeapi"
	"github.com/asyncfn/asyncfn/spec"
)

// Provider talks to a running emulator.
type Provider struct {
	base    string
	shown   string // base without the password, for messages
	client  *http.Client
	service *spec.Service
}

var _ adapters.Provider = (*Provider)(nil)

// New returns a provider for the emulator at endpoint (e.g. http://127.0.0.1:9770).
func New(endpoint string, svc *spec.Service) (*Provider, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("local: endpoint %q is not a URL such as http://127.0.0.1:9770", endpoint)
	}
	// No overall client timeout: sync invokes and log tails may last for hours.
	// Credentials in the URL's user info go out as HTTP Basic auth.
	return &Provider{base: strings.TrimRight(endpoint, "/"), shown: strings.TrimRight(u.Redacted(), "/"), client: &http.Client{}, service: svc}, nil
}

// destination maps a destination naming a function of svc onto its
// deployed name; ARNs and unknown names pass through.
func destination(svc *spec.Service, target string) string {
	if svc == nil || target == "" {
		return target
	}
	if f, ok := svc.Function(target); ok {
		return f.DeployedName
	}
	return target
}

// functionConfig is fn's configuration as the emulator takes it.
func (p *Provider) functionConfig(fn spec.Function) nativeapi.FunctionConfig {
	return Config(p.service, fn)
}

// Config is fn of svc (nil: none) as the emulator configures it: what
// Deploy sends, and what the console shows of a function in serverless.yml.
func Config(svc *spec.Service, fn spec.Function) nativeapi.FunctionConfig {
	cfg := nativeapi.FunctionConfig{Name: fn.DeployedName, Runtime: fn.Runtime, Handler: fn.Handler, MemorySize: fn.MemorySize, Timeout: fn.Timeout,
		Environment: fn.Environment, Description: fn.Description, ReservedConcurrency: fn.ReservedConcurrency}
	if svc != nil {
		cfg.Provider, cfg.Region = cloud.Provider(svc.Provider.Name), svc.Region
	}
	cfg.Async = nativeapi.AsyncConfig{Enabled: fn.Async.Enabled, Trace: fn.Async.Trace, RetryAttempts: fn.Async.RetryAttempts, MaxEventAge: fn.Async.MaxEventAge,
		OnSuccess: destination(svc, fn.Async.OnSuccess), OnFailure: destination(svc, fn.Async.OnFailure)}
	if d := fn.Async.Durable; d != nil {
		cfg.Async.Durable = &nativeapi.DurableConfig{ExecutionTimeout: d.ExecutionTimeout, RetentionPeriodInDays: d.RetentionPeriodInDays}
	}
	return cfg
}

// Deploy uploads the code and configuration; the emulator activates it at once.
func (p *Provider) Deploy(ctx context.Context, fn spec.Function, code adapters.Artifact) (adapters.Deployment, error) {
	cfg := p.functionConfig(fn)
	layers, err := p.layerRefs(ctx, fn)
	if err != nil {
		return adapters.Deployment{}, err
	}
	cfg.Layers = layers
	body, err := json.Marshal(nativeapi.DeployRequest{Config: cfg, Zip: code.Zip})
	if err != nil {
		return adapters.Deployment{}, err
	}
	var info nativeapi.FunctionInfo
	status, err := p.do(ctx, http.MethodPut, "/v1/functions/"+url.PathEscape(fn.DeployedName), nil, body, &info)
	if err != nil {
		return adapters.Deployment{}, err
	}
	return adapters.Deployment{Function: info.Name, Version: strconv.Itoa(info.Version), State: info.State, CodeSHA256: info.CodeSHA256,
		Created: status == http.StatusCreated}, nil
}

// Remove deletes the function; its events stay queryable.
func (p *Provider) Remove(ctx context.Context, fn string) error {
	_, err := p.do(ctx, http.MethodDelete, "/v1/functions/"+url.PathEscape(fn), nil, nil, nil)
	return err
}

func (p *Provider) Invoke(ctx context.Context, fn string, payload []byte, opts adapters.InvokeOptions) (adapters.Invocation, error) {
	q := url.Values{}
	q.Set("type", event.InvokeRequestResponse)
	if opts.Async {
		q.Set("type", event.InvokeEvent)
	}
	if opts.Qualifier != "" {
		q.Set("qualifier", opts.Qualifier)
	}
	if opts.DurableName != "" {
		q.Set("durableName", opts.DurableName)
	}
	var ev nativeapi.EventInfo
	if _, err := p.do(ctx, http.MethodPost, "/v1/functions/"+url.PathEscape(fn)+"/invocations", q, payload, &ev); err != nil {
		return adapters.Invocation{}, err
	}
	inv := adapters.Invocation{RequestID: ev.RequestID, Status: ev.Status, Result: ev.Result, ResultText: ev.ResultText, DurationMs: ev.DurationMs}
	if ev.Status.Terminal() && ev.Status != event.Succeeded {
		inv.Error = &adapters.FunctionError{Type: ev.ErrorType, Message: ev.ErrorMessage}
	}
	if opts.LogTail && !opts.Async {
		lines, err := p.collectLogs(ctx, adapters.LogQuery{Function: fn, RequestID: ev.RequestID})
		if err == nil {
			var b strings.Builder
			for _, l := range lines {
				b.WriteString(l.Text)
				b.WriteByte('\n')
			}
			inv.Log = b.String()
		}
	}
	return inv, nil
}

func eventQuery(q adapters.EventQuery) url.Values {
	v := url.Values{}
	if len(q.Statuses) > 0 {
		parts := make([]string, len(q.Statuses))
		for i, s := range q.Statuses {
			parts[i] = string(s)
		}
		v.Set("status", strings.Join(parts, ","))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Desc {
		v.Set("order", "desc")
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

func (p *Provider) Events(ctx context.Context, fn string, q adapters.EventQuery) (adapters.EventPage, error) {
	var page nativeapi.EventPage
	if _, err := p.do(ctx, http.MethodGet, "/v1/functions/"+url.PathEscape(fn)+"/events", eventQuery(q), nil, &page); err != nil {
		return adapters.EventPage{}, err
	}
	out := adapters.EventPage{Events: make([]adapters.Event, len(page.Events)), Total: page.Total}
	for i, ev := range page.Events {
		out.Events[i] = eventOf(ev)
	}
	return out, nil
}

func (p *Provider) Event(ctx context.Context, fn, requestID string) (adapters.Event, error) {
	ev, err := p.EventInfo(ctx, fn, requestID)
	if err != nil {
		return adapters.Event{}, err
	}
	return eventOf(ev), nil
}

// EventInfo is an event as the native API reports it, with what
// adapters.Event has no field for: its payload and each attempt (the
// console shows them).
func (p *Provider) EventInfo(ctx context.Context, fn, requestID string) (nativeapi.EventInfo, error) {
	var ev nativeapi.EventInfo
	_, err := p.do(ctx, http.MethodGet, "/v1/functions/"+url.PathEscape(fn)+"/events/"+url.PathEscape(requestID), nil, nil, &ev)
	return ev, err
}

// Functions lists every function deployed to the emulator.
func (p *Provider) Functions(ctx context.Context) ([]nativeapi.FunctionInfo, error) {
	var out struct {
		Functions []nativeapi.FunctionInfo `json:"functions"`
	}
	if _, err := p.do(ctx, http.MethodGet, "/v1/functions", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Functions, nil
}

// eventOf is an event of the native API as adapters show it.
func eventOf(ev nativeapi.EventInfo) adapters.Event {
	return adapters.Event{RequestID: ev.RequestID, Function: ev.Function, Qualifier: ev.Qualifier, InvokeType: ev.InvokeType, Status: ev.Status,
		Attempts: ev.Attempts, CreatedAt: ev.CreatedAt, StartedAt: ev.StartedAt, EndedAt: ev.EndedAt, DurationMs: ev.DurationMs,
		MaxMemoryMB: ev.MaxMemoryMB, Result: ev.Result, ResultText: ev.ResultText, ErrorType: ev.ErrorType, ErrorMessage: ev.ErrorMessage}
}

func (p *Provider) Terminate(ctx context.Context, fn, requestID string, grace time.Duration) error {
	q := url.Values{}
	if grace > 0 {
		q.Set("grace", grace.String())
	}
	_, err := p.do(ctx, http.MethodPost, "/v1/functions/"+url.PathEscape(fn)+"/events/"+url.PathEscape(requestID)+"/terminate", q, nil, nil)
	return err
}

func (p *Provider) Stats(ctx context.Context, fn string, q adapters.EventQuery) (adapters.Stats, error) {
	var st nativeapi.StatsInfo
	if _, err := p.do(ctx, http.MethodGet, "/v1/functions/"+url.PathEscape(fn)+"/stats", eventQuery(q), nil, &st); err != nil {
		return adapters.Stats{}, err
	}
	return adapters.Stats{Function: st.Function, Total: st.Total, ByStatus: st.ByStatus, P50Ms: st.P50Ms, P95Ms: st.P95Ms, MaxMs: st.MaxMs}, nil
}

// logLineOf is a log line of the native API as adapters show it.
func logLineOf(l nativeapi.LogLineInfo) adapters.LogLine {
	return adapters.LogLine{Time: l.Time, Function: l.Function, RequestID: l.RequestID, Stream: l.Stream, Text: l.Text, Cursor: l.Cursor}
}

func logValues(q adapters.LogQuery) url.Values {
	v := url.Values{}
	if q.Function != "" {
		v.Set("function", q.Function)
	}
	if q.RequestID != "" {
		v.Set("requestId", q.RequestID)
	}
	if q.Filter != "" {
		v.Set("contains", q.Filter)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Cursor != "" {
		v.Set("after", q.Cursor)
	}
	return v
}

// collectLogs pages through the stored log.
func (p *Provider) collectLogs(ctx context.Context, q adapters.LogQuery) ([]adapters.LogLine, error) {
	var all []adapters.LogLine
	for {
		v := logValues(q)
		v.Set("limit", "1000")
		var page nativeapi.LogPage
		if _, err := p.do(ctx, http.MethodGet, "/v1/logs", v, nil, &page); err != nil {
			return nil, err
		}
		for _, l := range page.Lines {
			all = append(all, logLineOf(l))
			if q.Limit > 0 && len(all) >= q.Limit {
				return all, nil
			}
		}
		if len(page.Lines) < 1000 {
			return all, nil
		}
		q.Cursor = page.Cursor
	}
}

// Logs returns the stored lines, or with q.Tail a live stream over SSE that
// reconnects with Last-Event-ID, so nothing is lost or repeated.
func (p *Provider) Logs(ctx context.Context, q adapters.LogQuery) (adapters.LogStream, error) {
	if !q.Tail {
		lines, err := p.collectLogs(ctx, q)
		if err != nil {
			return nil, err
		}
		return &sliceStream{lines: lines}, nil
	}
	s := &sseStream{p: p, q: q, cursor: q.Cursor}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

type sliceStream struct {
	lines []adapters.LogLine
	i     int
}

func (s *sliceStream) Next(context.Context) (adapters.LogLine, error) {
	if s.i >= len(s.lines) {
		return adapters.LogLine{}, io.EOF
	}
	s.i++
	return s.lines[s.i-1], nil
}

func (s *sliceStream) Close() error { return nil }

type sseStream struct {
	p      *Provider
	q      adapters.LogQuery
	cursor string
	body   io.ReadCloser
	rd     *bufio.Reader
}

func (s *sseStream) connect(ctx context.Context) error {
	v := logValues(s.q)
	v.Del("after")
	if s.q.RequestID != "" {
		// The emulator ends the stream itself once the event has ended and
		// all its lines were sent, however far behind this reader is.
		v.Set("until", "end")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.p.base+"/v1/logs/stream?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if s.cursor != "" {
		req.Header.Set("Last-Event-ID", s.cursor)
	}
	resp, err := s.p.client.Do(req)
	if err != nil {
		return fmt.Errorf("local: connect to the emulator at %s: %w (is `asyncfn local start` running?)", s.p.shown, redact(err))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return decodeError(resp)
	}
	s.body, s.rd = resp.Body, bufio.NewReaderSize(resp.Body, 64<<10)
	return nil
}

// Next reads the next "log" event, reconnecting once per failure from the
// last cursor if the connection drops.
func (s *sseStream) Next(ctx context.Context) (adapters.LogLine, error) {
	for {
		line, err := s.readEvent()
		if err == nil {
			return line, nil
		}
		if errors.Is(err, errStreamEnd) {
			return adapters.LogLine{}, io.EOF
		}
		if ctx.Err() != nil {
			return adapters.LogLine{}, ctx.Err()
		}
		s.body.Close()
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return adapters.LogLine{}, ctx.Err()
		}
		if cerr := s.connect(ctx); cerr != nil {
			return adapters.LogLine{}, cerr
		}
	}
}

var _ adapters.FollowEnder = (*Provider)(nil)

// EndsFollowedEvent: the emulator's stream of one event ends (io.EOF) once
// the event has ended and every line of it was sent (until=end).
func (p *Provider) EndsFollowedEvent() bool { return true }

// errStreamEnd is the stream's "end" event: the followed event has ended
// and every line of it was sent.
var errStreamEnd = errors.New("local: the followed event has ended")

func (s *sseStream) readEvent() (adapters.LogLine, error) {
	var id, data, kind string
	for {
		raw, err := s.rd.ReadString('\n')
		if err != nil {
			return adapters.LogLine{}, err
		}
		raw = strings.TrimRight(raw, "\r\n")
		switch {
		case raw == "":
			if kind == "end" {
				return adapters.LogLine{}, errStreamEnd
			}
			if data == "" {
				continue
			}
			var l nativeapi.LogLineInfo
			if err := json.Unmarshal([]byte(data), &l); err != nil {
				return adapters.LogLine{}, fmt.Errorf("local: bad log event: %w", err)
			}
			if id != "" {
				s.cursor = id
			}
			return logLineOf(l), nil
		case strings.HasPrefix(raw, "id:"):
			id = strings.TrimSpace(raw[3:])
		case strings.HasPrefix(raw, "event:"):
			kind = strings.TrimSpace(raw[6:])
		case strings.HasPrefix(raw, "data:"):
			data += strings.TrimPrefix(raw[5:], " ")
		}
	}
}

func (s *sseStream) Close() error {
	if s.body != nil {
		return s.body.Close()
	}
	return nil
}

// do sends one API request and decodes a JSON answer into out.
func (p *Provider) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) (int, error) {
	u := p.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("local: %s %s at %s: %w (is `asyncfn local start` running?)", method, path, p.shown, redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode, decodeError(resp)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("local: decode answer of %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body nativeapi.ErrorBody
	apiErr := &adapters.APIError{Provider: "local", HTTPStatus: resp.StatusCode, Code: resp.Status, Message: strings.TrimSpace(string(b))}
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		apiErr.Code, apiErr.Message = body.Error.Code, body.Error.Message
	}
	switch apiErr.Code {
	case "FunctionNotFound", "EventNotFound":
		apiErr.Err = adapters.ErrNotFound
	}
	return apiErr
}

// IsUnavailable reports whether err means no emulator answered.
func IsUnavailable(err error) bool {
	var apiErr *adapters.APIError
	return err != nil && !errors.As(err, &apiErr)
}

// redact drops the URL (and so any password in it) from a transport error.
func redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

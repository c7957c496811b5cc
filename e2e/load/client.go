package main

// The native API's client: one HTTP client for every mode (the cloud fronts'
// requests are built in fronts.go), HTTP Basic auth with -credentials, deploy,
// invoke and the event and log queries.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/nativeapi"
)

type bench struct {
	o     *options
	base  string
	hc    *http.Client
	pid   int
	front *front // -mode accept
}

func newBench(o *options) *bench {
	conns := max(o.clients, o.subscribers, 64) + 16
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	return &bench{o: o, base: strings.TrimRight(o.url, "/"), hc: &http.Client{Transport: tr}}
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-url %q is not a loopback address: this program only loads a local emulator", raw)
		}
	}
	return nil
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (b *bench) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id, key, ok := strings.Cut(b.o.credentials, ":"); ok {
		req.SetBasicAuth(id, key)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (b *bench) health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := b.do(ctx, "GET", "/v1/health", nil, nil); err != nil {
		return fmt.Errorf("the emulator at %s does not answer (start it with asyncfn local start): %w", b.base, err)
	}
	return nil
}

// fnPath is the native API's path of function fn.
func fnPath(fn string) string { return "/v1/functions/" + url.PathEscape(fn) }

type fnSpec struct {
	name, runtime, handler string
	files                  map[string]string // path -> content
	execs                  map[string]string // path -> existing file to copy, mode 0755
	reserved               int
	timeout                int
	memory                 int
	provider               string // aws (default) or tencent
}

// deploy zips the files with artifact.Build and PUTs the function.
func (b *bench) deploy(ctx context.Context, f fnSpec) error {
	dir, err := os.MkdirTemp("", "asyncfn-load-fn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for p, content := range f.files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for p, src := range f.execs {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p), data, 0o755); err != nil {
			return err
		}
	}
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		return err
	}
	retries := 0
	cfg := nativeapi.FunctionConfig{Name: f.name, Provider: cloud.Provider(cmpStr(f.provider, string(cloud.AWS))), Runtime: f.runtime, Handler: f.handler,
		MemorySize: cmp(f.memory, 128), Timeout: cmp(f.timeout, 60), Async: nativeapi.AsyncConfig{RetryAttempts: &retries}}
	if f.reserved >= 0 {
		cfg.ReservedConcurrency = &f.reserved // -1: none
	}
	// An identical redeploy would still make a new version and discard the
	// warm instances: keep the deployed one when code and settings match.
	var cur nativeapi.FunctionInfo
	if _, err := b.do(ctx, "GET", fnPath(f.name), nil, &cur); err == nil && cur.CodeSHA256 == info.SHA256 && sameSettings(cur.Config, cfg) {
		return nil
	}
	body, _ := json.Marshal(nativeapi.DeployRequest{Config: cfg, Zip: zip})
	_, err = b.do(ctx, "PUT", fnPath(f.name), body, nil)
	return err
}

// sameSettings reports whether the deployed configuration has the settings
// deploy sets that matter to a run: reserved concurrency, timeout, runtime
// and provider.
func sameSettings(deployed, cfg nativeapi.FunctionConfig) bool {
	return deployed.ReservedConcurrency != nil && *deployed.ReservedConcurrency == *cfg.ReservedConcurrency &&
		deployed.Timeout == cfg.Timeout && deployed.Runtime == cfg.Runtime && deployed.Provider == cfg.Provider
}

func cmpStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// events lists the function's events matching the query.
func (b *bench) events(ctx context.Context, fn, query string) (nativeapi.EventPage, error) {
	var l nativeapi.EventPage
	_, err := b.do(ctx, "GET", fnPath(fn)+"/events?"+query, nil, &l)
	return l, err
}

// count returns the number of the function's events matching the query.
func (b *bench) count(ctx context.Context, fn, query string) (int, error) {
	l, err := b.events(ctx, fn, "limit=1&"+query)
	return l.Total, err
}

func (b *bench) event(ctx context.Context, fn, id string) (nativeapi.EventInfo, error) {
	var ev nativeapi.EventInfo
	_, err := b.do(ctx, "GET", fnPath(fn)+"/events/"+id, nil, &ev)
	return ev, err
}

func (b *bench) terminate(ctx context.Context, fn, id string) error {
	_, err := b.do(ctx, "POST", fnPath(fn)+"/events/"+id+"/terminate", nil, nil)
	return err
}

func (b *bench) invoke(ctx context.Context, fn, typ string, payload []byte) (nativeapi.EventInfo, error) {
	var ev nativeapi.EventInfo
	_, err := b.do(ctx, "POST", fnPath(fn)+"/invocations?type="+typ, payload, &ev)
	return ev, err
}

// logs returns the log lines of one request.
func (b *bench) logs(ctx context.Context, requestID string) (nativeapi.LogPage, error) {
	var l nativeapi.LogPage
	_, err := b.do(ctx, "GET", "/v1/logs?requestId="+requestID, nil, &l)
	return l, err
}

package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/all"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/spec"
)

const defaultLocalURL = all.DefaultLocalURL

func runtimeCommands(g *Globals, io IO) []*ucli.Command {
	return []*ucli.Command{
		localCommand(g, io),
		devCommand(g, io),
		deployCommand(g, io),
		removeCommand(g, io),
		invokeCommand(g, io),
		logsCommand(g, io),
		eventsCommand(g, io),
		infoCommand(g, io),
	}
}

// target is a loaded service and the provider it deploys to.
type target struct {
	svc      *spec.Service
	provider adapters.Provider
}

// localURL is the emulator's address, with ASYNCFN_CREDENTIALS as its
// user info when the emulator was started with --credentials.
func (g *Globals) localURL(io IO) string {
	base := defaultLocalURL
	if g.Endpoint != "" {
		base = g.Endpoint
	} else if v, ok := io.Getenv("ASYNCFN_LOCAL_URL"); ok && v != "" {
		base = v
	}
	creds, ok := io.Getenv("ASYNCFN_CREDENTIALS")
	if !ok || creds == "" {
		return base
	}
	u, err := url.Parse(base)
	if err != nil || u.User != nil {
		return base
	}
	if id, key, ok := strings.Cut(creds, ":"); ok {
		u.User = url.UserPassword(id, key)
	}
	return u.String()
}

// openTarget loads serverless.yml and picks the provider adapter.
func openTarget(g *Globals, io IO) (*target, error) {
	return openTargetWith(g, io, all.Options{})
}

// openTargetWith is openTarget with adapter options (such as a poll interval).
func openTargetWith(g *Globals, io IO, opts all.Options) (*target, error) {
	loaded, err := loadService(g, io)
	if err != nil {
		return nil, err
	}
	printWarnings(io.Err, loaded.Warnings)
	opts.Local, opts.Endpoint, opts.Progress, opts.Getenv = g.Local, g.Endpoint, io.Err, io.Getenv
	if g.Local {
		opts.Endpoint = g.localURL(io)
	}
	p, err := all.New(loaded.Service, opts)
	if err != nil {
		return nil, err
	}
	return &target{svc: loaded.Service, provider: p}, nil
}

// openFunction is openTarget plus the function -f names.
func openFunction(g *Globals, io IO, name string) (*target, *spec.Function, error) {
	t, err := openTarget(g, io)
	if err != nil {
		return nil, nil, err
	}
	fn, err := t.function(name)
	if err != nil {
		return nil, nil, err
	}
	return t, fn, nil
}

// function resolves -f: a name under functions:, or a deployed name.
func (t *target) function(name string) (*spec.Function, error) {
	if name == "" {
		return nil, usagef("-f FUNCTION is required (functions: %s)", strings.Join(t.svc.FunctionNames(), ", "))
	}
	if f, ok := t.svc.Function(name); ok {
		return f, nil
	}
	for i := range t.svc.Functions {
		if t.svc.Functions[i].DeployedName == name {
			return &t.svc.Functions[i], nil
		}
	}
	return nil, usagef("function %q is not in %s (functions: %s)", name, t.svc.File, strings.Join(t.svc.FunctionNames(), ", "))
}

// functions returns the one named function, or all of them when name is empty.
func (t *target) functions(name string) ([]spec.Function, error) {
	if name == "" {
		return t.svc.Functions, nil
	}
	f, err := t.function(name)
	if err != nil {
		return nil, err
	}
	return []spec.Function{*f}, nil
}

// buildArtifact packages a function's code with its package patterns.
func buildArtifact(svc *spec.Service, fn spec.Function) (adapters.Artifact, artifact.Info, error) {
	if fn.Package.Artifact != "" {
		path := fn.Package.Artifact
		if !filepath.IsAbs(path) {
			path = filepath.Join(svc.Dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return adapters.Artifact{}, artifact.Info{}, fmt.Errorf("package.artifact of %s: %w", fn.Name, err)
		}
		sum := sha256.Sum256(b)
		info := artifact.Info{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
		return adapters.Artifact{Zip: b, SHA256: info.SHA256}, info, nil
	}
	root := svc.Dir
	if fn.Package.Src != "" {
		root = filepath.Join(svc.Dir, fn.Package.Src)
	}
	patterns := fn.Package.Patterns
	if rel, err := filepath.Rel(root, svc.File); err == nil && !strings.HasPrefix(rel, "..") {
		// The loaded configuration is never part of the code (as in the Framework).
		patterns = append(append([]string(nil), patterns...), "!"+filepath.ToSlash(rel))
	}
	zip, info, err := artifact.Build(root, patterns)
	if err != nil {
		return adapters.Artifact{}, info, fmt.Errorf("package %s: %w", fn.Name, err)
	}
	return adapters.Artifact{Zip: zip, SHA256: info.SHA256}, info, nil
}

// deployOptions: asyncfn deploy.
type deployOptions struct {
	*Globals
	IO       IO
	Function string
}

func deployCommand(g *Globals, io IO) *ucli.Command {
	o := &deployOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "deploy",
		Usage: "package and deploy the service's functions (or one with -f)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "deploy only `FUNCTION`", Destination: &o.Function},
		},
		Action: func(c *ucli.Context) error { return runDeploy(c.Context, o) },
	}
}

func runDeploy(ctx context.Context, o *deployOptions) error {
	t, err := openTarget(o.Globals, o.IO)
	if err != nil {
		return err
	}
	_, err = deployAll(ctx, t, o.Function, o.Globals, o.IO)
	return err
}

func deployAll(ctx context.Context, t *target, only string, g *Globals, io IO) ([]adapters.Deployment, error) {
	fns, err := t.functions(only)
	if err != nil {
		return nil, err
	}
	var out []adapters.Deployment
	for _, fn := range fns {
		start := time.Now()
		fmt.Fprintf(io.Err, "Packaging %s ...\n", fn.Name)
		code, info, err := buildArtifact(t.svc, fn)
		if err != nil {
			return out, err
		}
		fmt.Fprintf(io.Err, "Deploying %s as %s (%d files, %s) ...\n", fn.Name, fn.DeployedName, info.Files, humanBytes(info.Size))
		d, err := t.provider.Deploy(ctx, fn, code)
		if err != nil {
			return out, fmt.Errorf("deploy %s: %w", fn.Name, err)
		}
		verb := "updated"
		if d.Created {
			verb = "created"
		}
		fmt.Fprintf(io.Err, "  %s %s version %s, %s in %s\n", verb, d.Function, d.Version, d.State, time.Since(start).Round(time.Millisecond))
		out = append(out, d)
	}
	if g.JSON() {
		if out == nil {
			out = []adapters.Deployment{}
		}
		return out, writeJSONOut(io.Out, map[string]any{"service": t.svc.Name, "stage": t.svc.Stage, "deployments": out})
	}
	for _, d := range out {
		fmt.Fprintf(io.Out, "%s\t%s\n", d.Function, d.Version)
	}
	return out, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// removeOptions: asyncfn remove.
type removeOptions struct {
	*Globals
	IO       IO
	Function string
}

func removeCommand(g *Globals, io IO) *ucli.Command {
	o := &removeOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "remove",
		Usage: "delete the service's functions (or one with -f); their events stay queryable",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "remove only `FUNCTION`", Destination: &o.Function},
		},
		Action: func(c *ucli.Context) error { return runRemove(c.Context, o) },
	}
}

func runRemove(ctx context.Context, o *removeOptions) error {
	t, err := openTarget(o.Globals, o.IO)
	if err != nil {
		return err
	}
	fns, err := t.functions(o.Function)
	if err != nil {
		return err
	}
	var removed []string
	for _, fn := range fns {
		err := t.provider.Remove(ctx, fn.DeployedName)
		if errors.Is(err, adapters.ErrNotFound) {
			fmt.Fprintf(o.IO.Err, "%s was not deployed\n", fn.DeployedName)
			continue
		}
		if err != nil {
			return fmt.Errorf("remove %s: %w", fn.Name, err)
		}
		fmt.Fprintf(o.IO.Err, "Removed %s\n", fn.DeployedName)
		removed = append(removed, fn.DeployedName)
	}
	if o.JSON() {
		if removed == nil {
			removed = []string{}
		}
		return writeJSONOut(o.IO.Out, map[string]any{"removed": removed})
	}
	return nil
}

// readPayload takes -d JSON or -p FILE ("-" = stdin).
func readPayload(data, file string, in io.Reader) ([]byte, error) {
	switch {
	case data != "" && file != "":
		return nil, usagef("use either -d/--data or -p/--path, not both")
	case data != "":
		return []byte(data), nil
	case file == "-":
		return io.ReadAll(in)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--path: %v", err)
		}
		return b, nil
	}
	return nil, nil
}

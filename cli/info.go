package cli

import (
	"context"
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
)

// infoOptions: asyncfn info.
type infoOptions struct {
	*Globals
	IO IO
}

// infoCommand is what `serverless info` shows for a provider the plugin
// serves (tencent): the service and, per function, what it deploys as and
// whether the provider knows it.
func infoCommand(g *Globals, io IO) *ucli.Command {
	o := &infoOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "info",
		Usage: "show the service, its functions as deployed, and whether the provider has each",
		Action: func(c *ucli.Context) error {
			return runInfo(c.Context, o)
		},
	}
}

// infoFunction is one function in info's output.
type infoFunction struct {
	Name         string `json:"name"`
	DeployedName string `json:"deployedName"`
	Runtime      string `json:"runtime"`
	MemorySize   int    `json:"memorySize"`
	Timeout      int    `json:"timeout"`
	Async        bool   `json:"asyncRunEnable"`
	// Deployed is whether the provider has the function; nil when asking
	// failed (Problem says why).
	Deployed *bool  `json:"deployed"`
	Events   int    `json:"events"`
	Problem  string `json:"problem,omitempty"`
}

func runInfo(ctx context.Context, o *infoOptions) error {
	t, err := openTarget(o.Globals, o.IO)
	if err != nil {
		return err
	}
	svc := t.svc
	fns := make([]infoFunction, 0, len(svc.Functions))
	for _, f := range svc.Functions {
		inf := infoFunction{Name: f.Name, DeployedName: f.DeployedName, Runtime: f.Runtime,
			MemorySize: f.MemorySize, Timeout: f.Timeout, Async: f.Async.Enabled}
		// Listing one event is the one question every provider answers
		// for a deployed function and refuses, not found, for another.
		page, err := t.provider.Events(ctx, f.DeployedName, adapters.EventQuery{Limit: 1})
		switch {
		case err == nil:
			yes := true
			inf.Deployed, inf.Events = &yes, page.Total
		case errors.Is(err, adapters.ErrNotFound):
			no := false
			inf.Deployed = &no
		default:
			inf.Problem = err.Error()
		}
		fns = append(fns, inf)
	}
	if o.JSON() {
		return writeJSONOut(o.IO.Out, struct {
			Service   string         `json:"service"`
			Provider  string         `json:"provider"`
			Stage     string         `json:"stage"`
			Region    string         `json:"region"`
			Functions []infoFunction `json:"functions"`
		}{svc.Name, svc.Provider.Name, svc.Stage, svc.Region, fns})
	}
	w := o.IO.Out
	fmt.Fprintf(w, "service: %s\nprovider: %s\nstage: %s\nregion: %s\nfunctions:\n", svc.Name, svc.Provider.Name, svc.Stage, svc.Region)
	for _, f := range fns {
		state := "not deployed"
		switch {
		case f.Deployed == nil:
			state = "unknown: " + f.Problem
		case *f.Deployed:
			state = fmt.Sprintf("deployed, %d event(s)", f.Events)
		}
		mode := ""
		if f.Async {
			mode = ", async"
		}
		fmt.Fprintf(w, "  %s: %s (%s, %d MB, %d s%s) %s\n", f.Name, f.DeployedName, f.Runtime, f.MemorySize, f.Timeout, mode, state)
	}
	return nil
}

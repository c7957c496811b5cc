package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/spec"
)

// printOptions: asyncfn print.
type printOptions struct {
	*Globals
	IO IO
}

func printCommand(g *Globals, io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "print",
		Usage: "print the resolved configuration (YAML, or JSON with --output json), as serverless print does",
		Action: func(c *ucli.Context) error {
			return runPrint(&printOptions{Globals: g, IO: io})
		},
	}
}

// runPrint prints what `serverless print` prints: a file the Framework
// reads is printed even where asyncfn could not deploy it (a CloudFormation
// function as a destination, a limit of the cloud's API); those problems
// are warnings here, and errors for validate and deploy.
func runPrint(o *printOptions) error {
	loaded, err := loadForPrint(o.Globals, o.IO)
	if err != nil {
		return err
	}
	printWarnings(o.IO.Err, loaded.Warnings)
	for _, e := range loaded.DeployErrors {
		fmt.Fprintln(o.IO.Err, "Warning:", e.Error()+" (asyncfn validate and deploy refuse this)")
	}
	var out []byte
	if o.JSON() {
		out, err = loaded.JSON()
	} else {
		out, err = loaded.YAML()
	}
	if err != nil {
		return err
	}
	_, err = o.IO.Out.Write(out)
	if err == nil && len(out) > 0 && out[len(out)-1] != '\n' {
		_, err = fmt.Fprintln(o.IO.Out)
	}
	return err
}

// validateOptions: asyncfn validate.
type validateOptions struct {
	*Globals
	IO IO
}

func validateCommand(g *Globals, io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "validate",
		Usage: "check serverless.yml: exit 0 (warnings on stderr) or 2 with every error",
		Action: func(c *ucli.Context) error {
			return runValidate(&validateOptions{Globals: g, IO: io})
		},
	}
}

func runValidate(o *validateOptions) error {
	loaded, err := loadService(o.Globals, o.IO)
	if err != nil {
		return err
	}
	printWarnings(o.IO.Err, loaded.Warnings)
	svc := loaded.Service
	if o.JSON() {
		type fn struct {
			Name         string `json:"name"`
			DeployedName string `json:"deployedName"`
			Runtime      string `json:"runtime"`
			Timeout      int    `json:"timeout"`
			MemorySize   int    `json:"memorySize"`
			Async        bool   `json:"asyncRunEnable"`
			// Durable is durableConfig (AWS) as validated, for the
			// serverless-asyncfn plugin to write into the template.
			Durable *durable `json:"durableConfig,omitempty"`
		}
		res := struct {
			Valid     bool     `json:"valid"`
			Service   string   `json:"service"`
			Provider  string   `json:"provider"`
			Stage     string   `json:"stage"`
			Region    string   `json:"region"`
			Functions []fn     `json:"functions"`
			Warnings  []string `json:"warnings"`
		}{Valid: true, Service: svc.Name, Provider: svc.Provider.Name, Stage: svc.Stage, Region: svc.Region, Functions: []fn{}, Warnings: []string{}}
		for _, f := range svc.Functions {
			res.Functions = append(res.Functions, fn{f.Name, f.DeployedName, f.Runtime, f.Timeout, f.MemorySize, f.Async.Enabled, durableOf(f.Async.Durable)})
		}
		for _, w := range loaded.Warnings {
			res.Warnings = append(res.Warnings, w.Error())
		}
		return writeJSONOut(o.IO.Out, res)
	}
	fmt.Fprintf(o.IO.Out, "%s: valid (service %s, provider %s, stage %s, region %s, %d function(s), %d warning(s))\n",
		svc.File, svc.Name, svc.Provider.Name, svc.Stage, svc.Region, len(svc.Functions), len(loaded.Warnings))
	return nil
}

// durable is spec.Durable as validate --output json prints it, in the
// terms of Lambda's DurableConfig.
type durable struct {
	ExecutionTimeout      int `json:"executionTimeout"`
	RetentionPeriodInDays int `json:"retentionPeriodInDays,omitempty"`
}

func durableOf(d *spec.Durable) *durable {
	if d == nil {
		return nil
	}
	return &durable{ExecutionTimeout: d.ExecutionTimeout, RetentionPeriodInDays: d.RetentionPeriodInDays}
}

// loadForPrint is loadService with spec.LoadForPrint: what only a deploy
// would refuse comes back as Loaded.DeployErrors, not as an error.
func loadForPrint(g *Globals, io IO) (*spec.Loaded, error) {
	return loadWith(true, g, io)
}

package cli

// `asyncfn local env`: export lines that point any client at the emulator.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
)

// Dummy credentials for an emulator without --credentials: it accepts any
// well-formed signature, but the SDKs refuse to sign without a key.
const (
	dummyAccessKeyID = "asyncfn-local"
	dummySecretKey   = "asyncfn-local-secret"
)

// localEnvOptions: asyncfn local env.
type localEnvOptions struct {
	ctlOptions
	CredsFile   string
	ShowSecrets bool
}

func localEnvCommand(g *Globals, io IO) *ucli.Command {
	o := &localEnvOptions{ctlOptions: ctlOptions{Globals: g, IO: io}}
	return &ucli.Command{
		Name:      "env",
		Usage:     `print export lines that point the AWS CLI and SDKs, tccli and asyncfn at the emulator: eval "$(asyncfn local env)"`,
		UsageText: "asyncfn local env [--addr HOST:PORT] [--region R] [--credentials-file FILE] [--show-secrets]",
		Description: "Sets AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS), AWS_REGION,\n" +
			"AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, TENCENTCLOUD_SECRET_ID,\n" +
			"TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_REGION and ASYNCFN_LOCAL_URL, and unsets AWS_SESSION_TOKEN\n" +
			"and AWS_PROFILE. Without credentials the keys are dummies (the emulator checks no signature).\n" +
			"With the emulator's credentials (ASYNCFN_CREDENTIALS or --credentials-file) the secret key is\n" +
			"never printed: the lines read it from that variable or file when they are evaluated, unless\n" +
			"--show-secrets. The Tencent SDKs have no endpoint variable: see the comment printed.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "addr", Usage: "the emulator at `HOST:PORT` (default: ASYNCFN_LOCAL_URL, else " + defaultLocalURL + ")", Destination: &o.Addr},
			&ucli.StringFlag{Name: "credentials-file", Usage: "the emulator's credentials are in `FILE` (one line ID:KEY)", EnvVars: []string{"ASYNCFN_CREDENTIALS_FILE"}, TakesFile: true, Destination: &o.CredsFile},
			&ucli.BoolFlag{Name: "show-secrets", Usage: "print the secret key itself instead of reading it when evaluated", Destination: &o.ShowSecrets},
		},
		Action: func(c *ucli.Context) error { return runLocalEnv(c.Context, o) },
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// envCredentials are the key pair the lines set: the ID and the secret key
// as shell words (a literal, or an expansion evaluated by the shell).
type envCredentials struct {
	id, key string
	// asyncfn is the ASYNCFN_CREDENTIALS line to print, if one is needed.
	asyncfn string
}

func (o *localEnvOptions) envCredentials(ctx context.Context, base string) (envCredentials, error) {
	pair, fromEnv := o.IO.Getenv("ASYNCFN_CREDENTIALS")
	switch {
	case o.CredsFile != "":
		b, err := os.ReadFile(o.CredsFile)
		if err != nil {
			return envCredentials{}, usagef("--credentials-file: %v", err)
		}
		id, key, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
		if !ok || id == "" || key == "" {
			return envCredentials{}, usagef("--credentials-file %s: credentials must be one line ID:KEY", o.CredsFile)
		}
		if o.ShowSecrets {
			return envCredentials{id: shellQuote(id), key: shellQuote(key), asyncfn: shellQuote(id + ":" + key)}, nil
		}
		q := shellQuote(o.CredsFile)
		return envCredentials{id: shellQuote(id), key: `"${ASYNCFN_CREDENTIALS#*:}"`, asyncfn: `"$(cat ` + q + `)"`}, nil
	case fromEnv && pair != "":
		id, key, ok := strings.Cut(pair, ":")
		if !ok || id == "" || key == "" {
			return envCredentials{}, usagef("ASYNCFN_CREDENTIALS: credentials must be ID:KEY")
		}
		if o.ShowSecrets {
			return envCredentials{id: shellQuote(id), key: shellQuote(key)}, nil
		}
		// Already in the environment: read it there when evaluated.
		return envCredentials{id: shellQuote(id), key: `"${ASYNCFN_CREDENTIALS#*:}"`}, nil
	}
	if requiresCredentials(ctx, base) {
		return envCredentials{}, fmt.Errorf("the emulator at %s requires credentials: set ASYNCFN_CREDENTIALS=ID:KEY or give --credentials-file FILE", base)
	}
	return envCredentials{id: dummyAccessKeyID, key: dummySecretKey}, nil
}

// requiresCredentials asks the emulator whether an unsigned native request
// is refused (false when it does not answer).
func requiresCredentials(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/functions", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode == http.StatusUnauthorized
}

func runLocalEnv(ctx context.Context, o *localEnvOptions) error {
	base, err := o.url()
	if err != nil {
		return err
	}
	base = strings.TrimRight(base, "/")
	creds, err := o.envCredentials(ctx, base)
	if err != nil {
		return err
	}
	awsRegion, tcRegion := "us-east-1", "ap-guangzhou"
	if o.Region != "" {
		awsRegion, tcRegion = o.Region, o.Region
	}
	w := o.IO.Out
	u := shellQuote(base)
	fmt.Fprintf(w, "# the asyncfn emulator at %s: eval \"$(asyncfn local env)\"\n", base)
	fmt.Fprintf(w, "export ASYNCFN_LOCAL_URL=%s\n", u)
	if creds.asyncfn != "" {
		fmt.Fprintf(w, "export ASYNCFN_CREDENTIALS=%s\n", creds.asyncfn)
	}
	fmt.Fprintln(w, "# AWS CLI (v2, v1 >= 1.29) and SDKs: the emulator serves Lambda and CloudWatch Logs on one port")
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"} {
		fmt.Fprintf(w, "export %s=%s\n", name, u)
	}
	fmt.Fprintf(w, "export AWS_REGION=%s\n", shellQuote(awsRegion))
	fmt.Fprintf(w, "export AWS_DEFAULT_REGION=%s\n", shellQuote(awsRegion))
	fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=%s\n", creds.id)
	fmt.Fprintf(w, "export AWS_SECRET_ACCESS_KEY=%s\n", creds.key)
	fmt.Fprintln(w, "unset AWS_SESSION_TOKEN AWS_PROFILE")
	fmt.Fprintln(w, "# Tencent Cloud SDKs and tccli read these credentials; they have no endpoint variable:")
	fmt.Fprintf(w, "# set HttpProfile.Endpoint to %s and its scheme to HTTP in code, or tccli --endpoint %s\n", strings.TrimPrefix(base, "http://"), strings.TrimPrefix(base, "http://"))
	fmt.Fprintf(w, "export TENCENTCLOUD_SECRET_ID=%s\n", creds.id)
	fmt.Fprintf(w, "export TENCENTCLOUD_SECRET_KEY=%s\n", creds.key)
	fmt.Fprintf(w, "export TENCENTCLOUD_REGION=%s\n", shellQuote(tcRegion))
	return nil
}

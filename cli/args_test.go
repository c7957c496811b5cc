package cli

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	ucli "github.com/urfave/cli/v2"
)

// flagSample is a representative value for a flag on the command line and
// what the command must read back.
type flagSample struct {
	arg  string // "" for a flag without a value
	want any
	got  func(c *ucli.Context, name string) any
}

// samplesFor gives the values a flag is tried with. A new flag type fails the
// test until it has samples here, so no flag escapes it.
func samplesFor(t *testing.T, where string, f ucli.Flag) []flagSample {
	t.Helper()
	str := func(c *ucli.Context, n string) any { return c.String(n) }
	switch f.(type) {
	case *ucli.BoolFlag:
		return []flagSample{{"", true, func(c *ucli.Context, n string) any { return c.Bool(n) }}}
	case *ucli.StringFlag:
		// A plain value, one that looks like a flag and one that is a command word.
		return []flagSample{{"v1", "v1", str}, {"-x", "-x", str}, {"list", "list", str}}
	case *ucli.IntFlag:
		i := func(c *ucli.Context, n string) any { return c.Int(n) }
		return []flagSample{{"7", 7, i}, {"-3", -3, i}}
	case *ucli.DurationFlag:
		return []flagSample{{"2s", 2 * time.Second, func(c *ucli.Context, n string) any { return c.Duration(n) }}}
	case *ucli.Float64Flag:
		fl := func(c *ucli.Context, n string) any { return c.Float64(n) }
		return []flagSample{{"2.5", 2.5, fl}, {"-1", -1.0, fl}}
	case *ucli.StringSliceFlag:
		return []flagSample{{"k=v", []string{"k=v"}, func(c *ucli.Context, n string) any { return c.StringSlice(n) }}}
	}
	t.Fatalf("%s: flag --%s is a %T: add representative values for it to samplesFor", where, f.Names()[0], f)
	return nil
}

// flagForms writes a flag every way the parser accepts: -name and --name,
// with the value as the next argument or after '='.
func flagForms(name string, s flagSample) [][]string {
	var out [][]string
	for _, dash := range []string{"-", "--"} {
		if s.arg == "" {
			out = append(out, []string{dash + name})
			continue
		}
		out = append(out, []string{dash + name, s.arg}, []string{dash + name + "=" + s.arg})
	}
	return out
}

// leafCommand is a command with an action and the path of names to it.
type leafCommand struct {
	path []string
	cmd  *ucli.Command
}

func leafCommands(cmds []*ucli.Command, parent []string) []leafCommand {
	var out []leafCommand
	for _, c := range cmds {
		path := append(append([]string(nil), parent...), c.Name)
		if c.Action != nil {
			out = append(out, leafCommand{path, c})
		}
		out = append(out, leafCommands(c.Subcommands, path)...)
	}
	return out
}

// parsed is what a command's action saw.
type parsed struct {
	ran  []string // the command path that ran
	args []string
	ctx  *ucli.Context
}

// parseWith runs the real app (with the real argument ordering) with every
// action replaced by one that records what it was given.
func parseWith(t *testing.T, args []string, inspect func(p parsed)) (ran []string, err error, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := newApp(&Globals{}, IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) (string, bool) { return "", false }})
	app.Before = nil // it checks --output's value; here only parsing is tested
	for _, l := range leafCommands(app.Commands, nil) {
		l := l
		l.cmd.Action = func(c *ucli.Context) error {
			ran = l.path
			inspect(parsed{ran: l.path, args: c.Args().Slice(), ctx: c})
			return nil
		}
	}
	err = app.RunContext(context.Background(), orderArgs(app, append([]string{"asyncfn"}, args...)))
	return ran, err, errb.String() + out.String()
}

// TestEveryFlagParsesBeforeAndAfterArguments places every flag of every
// command (and every global flag) before and after the positional argument,
// in every form, and checks the command reads the value and the argument.
func TestEveryFlagParsesBeforeAndAfterArguments(t *testing.T) {
	app := newApp(&Globals{}, IO{})
	leaves := leafCommands(app.Commands, nil)
	if len(leaves) < 10 {
		t.Fatalf("found only %d commands", len(leaves))
	}
	const arg = "REQ-1"
	check := func(t *testing.T, path []string, args []string, f ucli.Flag, s flagSample) {
		t.Helper()
		name := f.Names()[0]
		var got any
		var gotArgs []string
		ran, err, out := parseWith(t, args, func(p parsed) {
			got, gotArgs = s.got(p.ctx, name), p.args
		})
		switch {
		case err != nil:
			t.Errorf("asyncfn %s: %v\n%s", strings.Join(args, " "), err, out)
		case !reflect.DeepEqual(ran, path):
			t.Errorf("asyncfn %s: ran %q, want %q", strings.Join(args, " "), ran, path)
		case !reflect.DeepEqual(got, s.want):
			t.Errorf("asyncfn %s: --%s = %#v, want %#v", strings.Join(args, " "), name, got, s.want)
		case !reflect.DeepEqual(gotArgs, []string{arg}):
			t.Errorf("asyncfn %s: arguments %q, want [%s]", strings.Join(args, " "), gotArgs, arg)
		}
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	one := []string{arg}
	for _, l := range leaves {
		where := strings.Join(l.path, " ")
		// The command's own flags, before and after the argument.
		for _, f := range l.cmd.Flags {
			for _, s := range samplesFor(t, where, f) {
				for _, name := range f.Names() {
					for _, form := range flagForms(name, s) {
						check(t, l.path, cat(l.path, form, one), f, s)
						check(t, l.path, cat(l.path, one, form), f, s)
					}
				}
			}
		}
		// Global flags: before the command, after its name, between the
		// words of its name, and after the argument.
		for _, f := range app.Flags {
			for _, s := range samplesFor(t, "global", f) {
				for _, name := range f.Names() {
					for _, form := range flagForms(name, s) {
						check(t, l.path, cat(form, l.path, one), f, s)
						check(t, l.path, cat(l.path, form, one), f, s)
						check(t, l.path, cat(l.path, one, form), f, s)
						for i := 1; i < len(l.path); i++ {
							check(t, l.path, cat(l.path[:i], form, l.path[i:], one), f, s)
						}
					}
				}
			}
		}
		// All of them at once, after the argument.
		all := append(append([]ucli.Flag(nil), l.cmd.Flags...), app.Flags...)
		args := cat(l.path, one)
		for _, f := range all {
			s := samplesFor(t, where, f)[0]
			forms := flagForms(f.Names()[0], s)
			args = append(args, forms[len(forms)/2]...)
		}
		var problems []string
		ran, err, out := parseWith(t, args, func(p parsed) {
			for _, f := range all {
				s := samplesFor(t, where, f)[0]
				if got := s.got(p.ctx, f.Names()[0]); !reflect.DeepEqual(got, s.want) {
					problems = append(problems, fmt.Sprintf("--%s = %#v, want %#v", f.Names()[0], got, s.want))
				}
			}
			if !reflect.DeepEqual(p.args, one) {
				problems = append(problems, fmt.Sprintf("arguments %q", p.args))
			}
		})
		if err != nil || !reflect.DeepEqual(ran, l.path) || len(problems) > 0 {
			t.Errorf("asyncfn %s: ran %q, err %v, %s\n%s", strings.Join(args, " "), ran, err, strings.Join(problems, "; "), out)
		}
	}
}

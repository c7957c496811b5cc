package spec

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ResolvedSuffix follows the file name in the errors of a configuration
// that came from the Framework already resolved: JSON carries no line of
// serverless.yml, so the error says where the value came from instead.
const ResolvedSuffix = " (from the Framework's resolved configuration)"

// LoadResolved is Load for a configuration the Serverless Framework has
// already read and resolved — every variable, those of other plugins'
// sources (${ssm:…} and the like) included — and handed over as JSON (the
// serverless-asyncfn plugin passes serverless.configurationInput). path is
// the serverless.yml the Framework read: it names the file in errors and
// locates the service directory, and it is not read.
//
// Variables are not resolved again: the Framework has done it, and a
// resolved value may legitimately contain "${" (an environment variable's
// text, say) that a second pass would take for a variable. Everything after
// resolution — normalization, the model and its validation — is Load's, so
// the same configuration yields the same Service and the same errors (by
// dotted path and message) as reading serverless.yml, but for the warning
// about plugins:, which the Framework has loaded; errors carry no line and
// name the file as path + ResolvedSuffix.
func LoadResolved(path string, data []byte, opts Options) (*Loaded, error) {
	return loadResolved(path, data, opts, false)
}

// LoadResolvedForPrint is LoadResolved as LoadForPrint reads a file.
func LoadResolvedForPrint(path string, data []byte, opts Options) (*Loaded, error) {
	return loadResolved(path, data, opts, true)
}

func loadResolved(path string, data []byte, opts Options, forPrint bool) (*Loaded, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	file := path + ResolvedSuffix
	root, err := parseJSON(data)
	if err != nil {
		return nil, Errors{{File: file, Msg: "the resolved configuration is not JSON: " + err.Error(), Err: err}}
	}
	if root.kind != kindMap {
		return nil, Errors{{File: file,
			Msg: fmt.Sprintf("the configuration must be a mapping (service, provider, functions, ...), not %s", describe(root))}}
	}
	// The builder reads --stage and --region as the resolver hands them on.
	r := newResolver(file, filepath.Dir(abs), root, opts, "")
	b := &builder{file: file, opts: r.opts}
	svc := b.build(root)
	errs, warns, deploy := b.outcome(forPrint)
	if len(errs) > 0 {
		return nil, Errors(errs)
	}
	// plugins: is the one key asyncfn warns about that the Framework, which
	// loaded them (this plugin among them), has acted on.
	kept := warns[:0]
	for _, w := range warns {
		if w.Path != "plugins" && !strings.HasPrefix(w.Path, "plugins.") {
			kept = append(kept, w)
		}
	}
	warns = kept
	svc.Dir = filepath.Dir(abs)
	svc.File = abs
	return &Loaded{Service: svc, Warnings: warns, DeployErrors: deploy, doc: root}, nil
}

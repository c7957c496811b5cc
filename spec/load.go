package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Options are the command-line inputs variables can refer to.
type Options struct {
	Stage, Region string // --stage / --region ("" = not given)
	// Opts is every CLI option, for ${opt:x} (stage and region included
	// when given; Stage and Region are added if missing).
	Opts   map[string]string
	Params map[string]string           // --param k=v, for ${param:k}
	Env    func(string) (string, bool) // nil = os.LookupEnv
}

// Loaded is a loaded, resolved and validated configuration.
type Loaded struct {
	Service *Service
	// Warnings are configuration problems asyncfn does not act on (keys it
	// ignores, under configValidationMode: warn).
	Warnings []*Error
	// DeployErrors (LoadForPrint only) are the problems Load refuses, since
	// asyncfn cannot deploy the file as written, but that the Framework's
	// print accepts. The Service model is incomplete where they are.
	DeployErrors []*Error
	doc          *value // the resolved document, in file key order
}

// configNames are the file names Find looks for, in the Framework's order.
var configNames = []string{"serverless.yml", "serverless.yaml", "serverless.json"}

// Find returns the configuration file in dir.
func Find(dir string) (string, error) {
	for _, name := range configNames {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err == nil && !st.IsDir() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("spec: %w", err)
		}
	}
	return "", fmt.Errorf("spec: no %s in %s: %w", strings.Join(configNames, ", "), dir, fs.ErrNotExist)
}

// Load reads the configuration at path, resolves its variables with opts,
// and validates it for a deploy. Configuration problems come back as Errors
// (every one found); a file that cannot be read comes back as a wrapped I/O
// error.
func Load(path string, opts Options) (*Loaded, error) {
	return loadFile(path, opts, false)
}

// LoadForPrint is Load as `serverless print` reads a file: only what the
// Framework refuses too is an error (YAML it cannot read, a variable it
// cannot resolve, a missing service or provider, functions that are not
// mappings, and under configValidationMode: error what its AWS schema
// refuses). What asyncfn cannot deploy, but the Framework prints, comes back
// in Loaded.DeployErrors; Load refuses it.
func LoadForPrint(path string, opts Options) (*Loaded, error) {
	return loadFile(path, opts, true)
}

func loadFile(path string, opts Options, forPrint bool) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("spec: read configuration: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return load(path, abs, data, opts, forPrint)
}

// load does Load's work on a file's content; path names the file in errors
// and abs locates the service directory.
func load(path, abs string, data []byte, opts Options, forPrint bool) (*Loaded, error) {
	root, errs := parseConfig(path, data)
	if len(errs) > 0 {
		return nil, Errors(errs)
	}
	if root.kind != kindMap {
		return nil, Errors{{File: path, Line: root.line, Col: root.col,
			Msg: fmt.Sprintf("the configuration must be a mapping (service, provider, functions, ...), not %s", describe(root))}}
	}

	// The Framework's ${sls:instanceId} is the load time in milliseconds.
	r := newResolver(path, filepath.Dir(abs), root, opts, strconv.FormatInt(time.Now().UnixMilli(), 10))
	r.resolveTree(root, "")
	if len(r.errs) > 0 {
		return nil, Errors(sortErrors(r.errs))
	}

	b := &builder{file: path, opts: r.opts}
	svc := b.build(root)
	errs, warns, deploy := b.outcome(forPrint)
	if len(errs) > 0 {
		return nil, Errors(errs)
	}
	svc.Dir = filepath.Dir(abs)
	svc.File = abs
	return &Loaded{Service: svc, Warnings: warns, DeployErrors: deploy, doc: root}, nil
}

func parseConfig(path string, data []byte) (*value, []*Error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		v, err := parseJSON(data)
		if err != nil {
			return nil, []*Error{{File: path, Line: 1, Col: 1, Msg: "JSON syntax error: " + err.Error(), Err: err}}
		}
		return v, nil
	}
	return parseYAML(path, data)
}

// JSON returns the resolved configuration as `serverless print --format
// json` shows it: indented, key order kept, numbers and booleans typed.
func (l *Loaded) JSON() ([]byte, error) {
	var buf bytes.Buffer
	l.doc.appendJSON(&buf, "")
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// YAML returns the resolved configuration as YAML.
func (l *Loaded) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(l.doc.yamlNode()); err != nil {
		return nil, fmt.Errorf("spec: encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("spec: encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

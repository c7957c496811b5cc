package runtime

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/cloud"
)

// The Node.js and Python bootstraps are embedded so that the emulator binary is
// self-contained; they are written to the instance's WorkDir before start.
//
//go:embed bootstrap/node/index.js bootstrap/python/bootstrap.py
var bootstraps embed.FS

// basePath is appended to the interpreter's directory in the child's PATH: the
// child never sees the emulator's own PATH.
const basePath = "/usr/local/bin:/usr/bin:/bin"

// launch is what to exec for an instance.
type launch struct {
	argv       []string
	runtimeDir string // LAMBDA_RUNTIME_DIR
	path       string // PATH for the child
}

// prepare resolves the program to run for cfg's runtime family, writing the
// embedded bootstrap if the family needs one.
func prepare(cfg *Config, family string) (*launch, error) {
	switch family {
	case FamilyNode:
		node, err := interpreter("ASYNCFN_NODE", []string{"node", "nodejs"}, "-p", "process.execPath")
		if err != nil {
			return nil, err
		}
		dir, err := writeBootstrap(cfg.WorkDir, "node", "bootstrap/node/index.js", "index.js")
		if err != nil {
			return nil, err
		}
		argv := []string{node}
		if cfg.MemoryMB >= 128 {
			// Like Lambda's Node.js bootstrap (/var/runtime/bootstrap: new
			// space a tenth of the memory, in two semi-spaces; old space the
			// rest): the V8 heap stays below the function's memory, so a
			// runaway handler fails with a JavaScript OOM rather than a kill,
			// and the young generation is sized to the function (V8's default
			// semi-space, 16 MB, would let a 128 MB function's nursery alone
			// take 48 MB).
			newSpace := cfg.MemoryMB / 10
			argv = append(argv, "--max-semi-space-size="+strconv.Itoa(newSpace/2), "--max-old-space-size="+strconv.Itoa(cfg.MemoryMB-newSpace))
		}
		argv = append(argv, filepath.Join(dir, "index.js"))
		return &launch{argv: argv, runtimeDir: dir, path: filepath.Dir(node) + ":" + basePath}, nil
	case FamilyPython:
		py, err := interpreter("ASYNCFN_PYTHON", []string{"python3", "python"}, "-c", "import sys; print(sys.executable)")
		if err != nil {
			return nil, err
		}
		dir, err := writeBootstrap(cfg.WorkDir, "python", "bootstrap/python/bootstrap.py", "bootstrap.py")
		if err != nil {
			return nil, err
		}
		return &launch{argv: []string{py, "-u", filepath.Join(dir, "bootstrap.py")}, runtimeDir: dir, path: filepath.Dir(py) + ":" + basePath}, nil
	case FamilyProvided:
		argv, err := executable(cfg.CodeDir, "bootstrap")
		if err != nil {
			return nil, err
		}
		return &launch{argv: argv, runtimeDir: cfg.CodeDir, path: basePath}, nil
	case FamilyGo:
		if cfg.Handler == "" {
			return nil, errors.New("runtime Go1 needs a handler naming the executable in the code directory")
		}
		argv, err := executable(cfg.CodeDir, cfg.Handler)
		if err != nil {
			return nil, err
		}
		return &launch{argv: argv, runtimeDir: cfg.CodeDir, path: basePath}, nil
	case FamilyCustom:
		argv, err := executable(cfg.CodeDir, "scf_bootstrap")
		if err != nil {
			return nil, err
		}
		return &launch{argv: argv, runtimeDir: cfg.CodeDir, path: basePath}, nil
	}
	return nil, fmt.Errorf("unknown runtime family %q", family)
}

// interpreter finds node or python: the override variable from the emulator's
// environment first, then PATH. Version-manager shims (pyenv, asdf, nvm
// wrappers) are scripts that need the user's environment, which the child does
// not get, so a script is asked for the real executable once.
func interpreter(override string, names []string, probe ...string) (string, error) {
	var path string
	if v := os.Getenv(override); v != "" {
		p, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", override, v, err)
		}
		path = p
	} else {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return "", fmt.Errorf("%s not found on PATH (set %s to the interpreter's path)", names[0], override)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("interpreter %s: %w", path, err)
	}
	if !isScript(abs) {
		return abs, nil
	}
	out, err := exec.Command(abs, probe...).Output()
	if err != nil {
		return "", fmt.Errorf("resolving interpreter %s: %w", abs, err)
	}
	real := strings.TrimSpace(string(out))
	if real == "" || !filepath.IsAbs(real) {
		return "", fmt.Errorf("resolving interpreter %s: got %q", abs, real)
	}
	return real, nil
}

func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [2]byte
	n, _ := io.ReadFull(f, b[:])
	return n == 2 && b[0] == '#' && b[1] == '!'
}

// executable returns the argv for the program rel inside codeDir. A zip may
// lose the executable bit: a script without it is run with bash (as SCF
// documents for scf_bootstrap), a binary without it is made executable.
func executable(codeDir, rel string) ([]string, error) {
	p := filepath.Join(codeDir, filepath.FromSlash(rel))
	if r, err := filepath.Rel(codeDir, p); err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return nil, fmt.Errorf("executable %q is outside the code directory", rel)
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("runtime entry point: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("runtime entry point %s is a directory", p)
	}
	if st.Mode().Perm()&0o111 != 0 {
		return []string{p}, nil
	}
	if isScript(p) || !isELF(p) {
		bash, err := exec.LookPath("bash")
		if err != nil {
			bash = "/bin/bash"
		}
		return []string{bash, p}, nil
	}
	if err := os.Chmod(p, st.Mode().Perm()|0o111); err != nil {
		return nil, fmt.Errorf("runtime entry point %s is not executable: %w", p, err)
	}
	return []string{p}, nil
}

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n == 4 && string(b[:]) == "\x7fELF"
}

// writeBootstrap writes an embedded bootstrap into a content-addressed
// directory under workDir. Instances of one function share workDir, so the
// file is written to a temporary name and renamed into place.
func writeBootstrap(workDir, family, src, name string) (string, error) {
	data, err := fs.ReadFile(bootstraps, src)
	if err != nil {
		return "", fmt.Errorf("embedded bootstrap %s: %w", src, err)
	}
	sum := sha256.Sum256(data)
	dir := filepath.Join(workDir, ".asyncfn-runtime", family+"-"+hex.EncodeToString(sum[:6]))
	dst := filepath.Join(dir, name)
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("bootstrap directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return "", fmt.Errorf("writing bootstrap: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing bootstrap: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing bootstrap: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing bootstrap: %w", err)
	}
	return dir, nil
}

// versionString is how the function version appears to the function:
// "$LATEST" for an unnumbered version, else the number.
func versionString(v int) string {
	if v <= 0 {
		return "$LATEST"
	}
	return strconv.Itoa(v)
}

// environment builds the child's whole environment: the function's declared
// variables plus the runtime's own, never the emulator's. Variables that Lambda
// lets users override (PATH, LANG, TZ, HOME, TMPDIR, PYTHONPATH, ...) are
// defaults under cfg.Env; the reserved ones are set over it.
func environment(cfg *Config, family string, l *launch, port int, tmpDir string) []string {
	version := versionString(cfg.Version)
	region := cfg.Region
	env := map[string]string{
		"PATH":   l.path,
		"LANG":   "en_US.UTF-8",
		"TZ":     ":UTC",
		"HOME":   cfg.WorkDir,
		"TMPDIR": tmpDir,
	}
	if family == FamilyPython {
		env["PYTHONPATH"] = cfg.CodeDir
		env["PYTHONDONTWRITEBYTECODE"] = "x" // keep the deployed code directory clean
	}
	layerEnv(env, cfg, family)
	for k, v := range cfg.Env {
		env[k] = v
	}
	var stream [16]byte
	_, _ = rand.Read(stream[:])
	reserved := map[string]string{
		// Lambda
		"AWS_LAMBDA_RUNTIME_API":          "127.0.0.1:" + strconv.Itoa(port),
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.Function,
		"AWS_LAMBDA_FUNCTION_VERSION":     version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.Function,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[" + version + "]" + hex.EncodeToString(stream[:]),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"LAMBDA_TASK_ROOT":                cfg.CodeDir,
		"LAMBDA_RUNTIME_DIR":              l.runtimeDir,
		"_HANDLER":                        cfg.Handler,
		// SCF (names from Tencent's "environment variables" reference)
		"SCF_RUNTIME":          cfg.Runtime,
		"SCF_FUNCTIONNAME":     cfg.Function,
		"SCF_FUNCTIONVERSION":  version,
		"SCF_NAMESPACE":        "default",
		"TENCENTCLOUD_REGION":  region,
		"TENCENTCLOUD_RUNENV":  "SCF",
		"TENCENTCLOUD_TZ":      "UTC",
		"USER_CODE_ROOT":       cfg.CodeDir,
		"SCF_RUNTIME_API":      "127.0.0.1",
		"SCF_RUNTIME_API_PORT": strconv.Itoa(port),
	}
	if region == "" {
		delete(reserved, "AWS_REGION")
		delete(reserved, "AWS_DEFAULT_REGION")
		delete(reserved, "TENCENTCLOUD_REGION")
	}
	if family == FamilyPython {
		reserved["PYTHONUNBUFFERED"] = "1" // a print shows up at once, not at exit
	}
	if cfg.OptDir != "" {
		reserved["ASYNCFN_OPT_DIR"] = cfg.OptDir
	}
	if family == FamilyNode || family == FamilyPython {
		reserved["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + strings.ToLower(cfg.Runtime)
	}
	for k, v := range reserved {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// layerEnv points the search paths into the function's layers (OptDir) as
// the clouds point them into /opt. A variable the function declares itself
// still wins (cfg.Env is applied after), as on Lambda.
//
// Lambda (developer guide, "Packaging your layer content": Layer paths for
// each Lambda runtime; "Defined runtime environment variables"): bin on
// PATH and lib on LD_LIBRARY_PATH for every runtime; Node.js
// nodejs/nodeNN/node_modules (NN the runtime's major version) and
// nodejs/node_modules on NODE_PATH; Python python/lib/python3.x/site-packages
// and python on sys.path (here PYTHONPATH, after the code directory).
//
// SCF (SCF docs, "Layer management" 583/40159): layers are unpacked to /opt
// and a dependency folder zipped at the layer's root is imported or
// required directly, so /opt itself is searched as well as the Lambda-style
// folders (nodejs/node_modules, python), which SCF's own layer examples use.
func layerEnv(env map[string]string, cfg *Config, family string) {
	opt := cfg.OptDir
	if opt == "" {
		return
	}
	join := func(parts ...string) string { return strings.Join(parts, ":") }
	env["PATH"] = join(env["PATH"], filepath.Join(opt, "bin"))
	env["LD_LIBRARY_PATH"] = join(cfg.CodeDir, filepath.Join(cfg.CodeDir, "lib"), filepath.Join(opt, "lib"))
	tencent := cfg.Cloud == cloud.Tencent
	switch family {
	case FamilyNode:
		var paths []string
		if major := runtimeVersion(cfg.Runtime, "nodejs"); major != "" {
			major, _, _ = strings.Cut(major, ".")
			paths = append(paths, filepath.Join(opt, "nodejs", "node"+major, "node_modules"))
		}
		paths = append(paths, filepath.Join(opt, "nodejs", "node_modules"))
		if tencent {
			paths = append(paths, filepath.Join(opt, "node_modules"), opt)
		}
		env["NODE_PATH"] = join(paths...)
	case FamilyPython:
		paths := []string{cfg.CodeDir}
		if v := runtimeVersion(cfg.Runtime, "python"); v != "" {
			paths = append(paths, filepath.Join(opt, "python", "lib", "python"+v, "site-packages"))
		}
		paths = append(paths, filepath.Join(opt, "python"))
		if tencent {
			paths = append(paths, opt)
		}
		env["PYTHONPATH"] = join(paths...)
	}
}

// runtimeVersion is the version in a runtime name after its language:
// "22.x" for nodejs22.x ("22" after trimming ".x"), "3.12" for python3.12,
// "3.9" for Python3.9; "" when there is none.
func runtimeVersion(runtime, lang string) string {
	r := strings.ToLower(strings.TrimSpace(runtime))
	if !strings.HasPrefix(r, lang) {
		return ""
	}
	v := strings.TrimSuffix(strings.TrimPrefix(r, lang), ".x")
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' {
			return ""
		}
	}
	return v
}

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// b64Zip writes a base64 zip of files (a name ending in "*" is executable)
// to a file and returns its path.
func b64Zip(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		h := &zip.FileHeader{Name: strings.TrimSuffix(name, "*"), Method: zip.Deflate}
		h.SetMode(0o644)
		if strings.HasSuffix(name, "*") {
			h.SetMode(0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "zip.b64")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(buf.Bytes())), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSCFNodeSDKLayers: Tencent's own Node.js SDK publishes two layers,
// binds them to a function whose handler needs a binary from one and a
// module from the other, and invokes it, against an emulator that verifies
// signatures.
func TestSCFNodeSDKLayers(t *testing.T) {
	modules := scfNodeModules(t)
	const id, key = "AKIDnodelayers", "node-layers-key"
	url := startEmulator(t, conformance.WithCredentials(id, key))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "scf-node", "layers.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "SCF_ENDPOINT="+strings.TrimPrefix(url, "http://"),
		"SCF_SECRET_ID="+id, "SCF_SECRET_KEY="+key, "SCF_FUNCTION=node-layered",
		"LAYER_BIN_ZIP="+b64Zip(t, map[string]string{"bin/hello*": "#!/bin/sh\necho hi from a layer binary\n"}),
		"LAYER_MOD_ZIP="+b64Zip(t, map[string]string{"nodejs/node_modules/twice/index.js": "module.exports = s => s + s;\n"}),
		"CODE_ZIP="+b64Zip(t, map[string]string{"index.js": `const { execFileSync } = require('child_process');
const twice = require('twice');
exports.main_handler = async () => execFileSync('hello').toString().trim() + ' / ' + twice('ab');
`}))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node script: %v\nstderr: %s", err, stderr.Bytes())
	}
	var got struct {
		Versions         []int    `json:"versions"`
		Layers           []string `json:"layers"`
		RetMsg           string   `json:"retMsg"`
		CodeSha256       string   `json:"codeSha256"`
		UnknownLayerCode string   `json:"unknownLayerCode"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("node output %q: %v", stdout.Bytes(), err)
	}
	if len(got.Versions) != 2 || got.Versions[0] != 1 || got.Versions[1] != 1 {
		t.Errorf("published versions %v, want [1 1]", got.Versions)
	}
	if strings.Join(got.Layers, ",") != "node-tools:1,node-mods:1" {
		t.Errorf("GetFunction Layers %v", got.Layers)
	}
	if got.RetMsg != `"hi from a layer binary / abab"` {
		t.Errorf("RetMsg %s", got.RetMsg)
	}
	if len(got.CodeSha256) != 64 {
		t.Errorf("CodeSha256 %q", got.CodeSha256)
	}
	if got.UnknownLayerCode != "ResourceNotFound.LayerVersion" {
		t.Errorf("unknown layer version: %s", got.UnknownLayerCode)
	}
}

package tencent

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/asyncfn/asyncfn/spec"
)

// Environment variables of the credentials, as Tencent Cloud's SDKs and CLI name them.
const (
	envSecretID     = "TENCENTCLOUD_SECRET_ID"
	envSecretKey    = "TENCENTCLOUD_SECRET_KEY"
	envSessionToken = "TENCENTCLOUD_SESSION_TOKEN"
)

// placeholderID/Key sign requests to an emulator that has no credentials
// configured (it accepts any well-formed request), so that no cloud account
// is needed locally.
const (
	placeholderID  = "asyncfn-local"
	placeholderKey = "asyncfn-local"
)

// loadCredential finds the credentials: the environment first, then the file
// that provider.credentials names; against a loopback emulator with neither,
// placeholders.
func loadCredential(svc *spec.Service, getenv func(string) (string, bool), loopback bool) (*common.Credential, error) {
	id, _ := getenv(envSecretID)
	key, _ := getenv(envSecretKey)
	token, _ := getenv(envSessionToken)
	if id != "" && key != "" {
		return common.NewTokenCredential(id, key, token), nil
	}
	if id != "" || key != "" {
		return nil, fmt.Errorf("tencent: %s and %s must both be set (only one is)", envSecretID, envSecretKey)
	}
	if svc != nil && svc.Provider.Credentials != "" {
		path := expandPath(svc.Provider.Credentials, svc.Dir, getenv)
		c, err := readCredentialsFile(path)
		if err != nil {
			return nil, fmt.Errorf("tencent: provider.credentials: %w", err)
		}
		return c, nil
	}
	if loopback {
		return common.NewCredential(placeholderID, placeholderKey), nil
	}
	return nil, fmt.Errorf("tencent: no credentials: set %s and %s (and %s for temporary keys), "+
		"or name a credentials file in serverless.yml's provider.credentials ([default] with tencent_secret_id and tencent_secret_key)",
		envSecretID, envSecretKey, envSessionToken)
}

// expandPath expands a leading ~ and resolves a relative path against dir.
func expandPath(p, dir string, getenv func(string) (string, bool)) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, ok := getenv("HOME")
		if !ok || home == "" {
			home, _ = os.UserHomeDir()
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	return p
}

// readCredentialsFile reads the Serverless Framework's Tencent credentials
// file, an INI file:
//
//	[default]
//	tencent_appid = 1250000000
//	tencent_secret_id = AKID...
//	tencent_secret_key = ...
//	tencent_token = ...        (optional, temporary keys)
//
// The [default] section is used; a file without sections is read as one.
func readCredentialsFile(path string) (*common.Credential, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials file: %w", err)
	}
	sections := map[string]map[string]string{}
	section := "default"
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: %q is not key = value", path, n, line)
		}
		if sections[section] == nil {
			sections[section] = map[string]string{}
		}
		sections[section][strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read credentials file %s: %w", path, err)
	}
	d := sections["default"]
	id, key := d["tencent_secret_id"], d["tencent_secret_key"]
	if id == "" || key == "" {
		return nil, fmt.Errorf("%s: section [default] needs tencent_secret_id and tencent_secret_key", path)
	}
	return common.NewTokenCredential(id, key, d["tencent_token"]), nil
}

// isLoopback reports whether host (without port) is this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package tencent

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/spec"
)

// Layers. A function's layers: are SCF's {name, version} — a published
// layer version, attached as is — or {name: <key>} naming a top-level
// layers: entry of serverless.yml, which deploy packages from its path (as
// a function's package is built) and publishes with PublishLayerVersion,
// unless the newest published version already has the same content
// (GetLayerVersion's CodeSha256), in which case that version is attached.
// A layer bigger than the inline limit goes through COS like a package.

// layerUse is a layer version a function is bound to.
type layerUse struct {
	name    string
	version int64
}

// functionLayers resolves a function's layers to SCF's Layers parameter.
func (p *Provider) functionLayers(ctx context.Context, fn spec.Function) ([]*scf.LayerVersionSimple, error) {
	out := []*scf.LayerVersionSimple{}
	for i, u := range fn.Layers {
		var lu layerUse
		switch {
		case u.ARN != "":
			return nil, fmt.Errorf("tencent: function %s: layers[%d] %q is an AWS layer ARN; SCF binds layers as {name: NAME, version: N}", fn.Name, i, u.ARN)
		case u.Key != "":
			v, err := p.publishLayer(ctx, u.Key, fn.Runtime)
			if err != nil {
				return nil, fmt.Errorf("tencent: function %s: layers[%d] (%s): %w", fn.Name, i, u.Key, err)
			}
			lu = v
		default:
			lu = layerUse{name: u.Name, version: int64(u.Version)}
		}
		out = append(out, &scf.LayerVersionSimple{LayerName: ptr(lu.name), LayerVersion: ptr(lu.version)})
	}
	return out, nil
}

// serviceLayer finds a top-level layer by key.
func (p *Provider) serviceLayer(key string) (spec.Layer, error) {
	if p.svc != nil {
		for _, l := range p.svc.Layers {
			if l.Key == key {
				return l, nil
			}
		}
	}
	return spec.Layer{}, fmt.Errorf("no top-level layers: entry %q in serverless.yml", key)
}

// publishLayer publishes a service layer once per provider (functions
// sharing it get the same version) and returns the version to bind.
func (p *Provider) publishLayer(ctx context.Context, key, runtime string) (layerUse, error) {
	p.layerMu.Lock()
	defer p.layerMu.Unlock()
	if v, ok := p.layers[key]; ok {
		return v, nil
	}
	l, err := p.serviceLayer(key)
	if err != nil {
		return layerUse{}, err
	}
	dir := l.Path
	if !filepath.IsAbs(dir) && p.svc != nil {
		dir = filepath.Join(p.svc.Dir, dir)
	}
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		return layerUse{}, fmt.Errorf("package layer %s from %s: %w", l.Key, l.Path, err)
	}
	if info.Files == 0 {
		return layerUse{}, fmt.Errorf("layer %s: %s holds no files", l.Key, l.Path)
	}
	name := l.Name
	if name == "" {
		name = l.Key
	}
	if v, ok, err := p.sameLayer(ctx, name, info.SHA256); err != nil {
		return layerUse{}, err
	} else if ok {
		fmt.Fprintf(p.progress, "tencent: layer %s: unchanged, using version %d\n", name, v)
		return p.keepLayer(key, layerUse{name: name, version: v}), nil
	}
	runtimes := l.CompatibleRuntimes
	if len(runtimes) == 0 {
		runtimes = []string{runtime} // SCF requires CompatibleRuntimes
	}
	content, err := p.code(ctx, "layer-"+name, zip, info.SHA256)
	if err != nil {
		return layerUse{}, err
	}
	fmt.Fprintf(p.progress, "tencent: layer %s: publishing a new version (%s)\n", name, sizeMB(info.Size))
	req := scf.NewPublishLayerVersionRequest()
	req.LayerName, req.Content = ptr(name), content
	for _, r := range runtimes {
		req.CompatibleRuntimes = append(req.CompatibleRuntimes, ptr(r))
	}
	if l.Description != "" {
		req.Description = ptr(l.Description)
	}
	var resp *scf.PublishLayerVersionResponse
	if err := p.call(ctx, "PublishLayerVersion", func(c *scf.Client) (err error) {
		resp, err = c.PublishLayerVersion(req)
		return err
	}); err != nil {
		return layerUse{}, err
	}
	if resp.Response == nil || resp.Response.LayerVersion == nil {
		return layerUse{}, errors.New("PublishLayerVersion answered no LayerVersion")
	}
	v := layerUse{name: name, version: *resp.Response.LayerVersion}
	if err := p.waitLayer(ctx, v); err != nil {
		return layerUse{}, err
	}
	fmt.Fprintf(p.progress, "tencent: layer %s: version %d published\n", name, v.version)
	return p.keepLayer(key, v), nil
}

func (p *Provider) keepLayer(key string, v layerUse) layerUse {
	if p.layers == nil {
		p.layers = map[string]layerUse{}
	}
	p.layers[key] = v
	return v
}

// sameLayer reports the newest version of a layer if its code is sha.
func (p *Provider) sameLayer(ctx context.Context, name, sha string) (int64, bool, error) {
	lreq := scf.NewListLayerVersionsRequest()
	lreq.LayerName = ptr(name)
	var list *scf.ListLayerVersionsResponse
	err := p.call(ctx, "ListLayerVersions", func(c *scf.Client) (err error) {
		list, err = c.ListLayerVersions(lreq)
		return err
	})
	if errors.Is(err, adapters.ErrNotFound) {
		return 0, false, nil // no version yet
	}
	if err != nil {
		return 0, false, err
	}
	var newest int64
	if list.Response != nil {
		for _, v := range list.Response.LayerVersions {
			if v != nil && v.LayerVersion != nil && *v.LayerVersion > newest {
				newest = *v.LayerVersion
			}
		}
	}
	if newest == 0 {
		return 0, false, nil
	}
	greq := scf.NewGetLayerVersionRequest()
	greq.LayerName, greq.LayerVersion = ptr(name), ptr(newest)
	var got *scf.GetLayerVersionResponse
	if err := p.call(ctx, "GetLayerVersion", func(c *scf.Client) (err error) {
		got, err = c.GetLayerVersion(greq)
		return err
	}); err != nil {
		return 0, false, err
	}
	if got.Response == nil || got.Response.CodeSha256 == nil {
		return 0, false, nil
	}
	return newest, sameSHA256(*got.Response.CodeSha256, sha), nil
}

// sameSHA256 compares a digest SCF gives (hex, or base64 of the raw sum)
// with a hex one.
func sameSHA256(given, hexSum string) bool {
	if strings.EqualFold(given, hexSum) {
		return true
	}
	raw, err := hex.DecodeString(hexSum)
	return err == nil && given == base64.StdEncoding.EncodeToString(raw)
}

// waitLayer waits until a published version is Active: SCF publishes in the
// background (GetLayerVersion Status: Active, Publishing, PublishFailed).
func (p *Provider) waitLayer(ctx context.Context, v layerUse) error {
	ctx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		req := scf.NewGetLayerVersionRequest()
		req.LayerName, req.LayerVersion = ptr(v.name), ptr(v.version)
		var got *scf.GetLayerVersionResponse
		if err := p.call(ctx, "GetLayerVersion", func(c *scf.Client) (err error) {
			got, err = c.GetLayerVersion(req)
			return err
		}); err != nil {
			return err
		}
		st := ""
		if got.Response != nil {
			st = s(got.Response.Status)
		}
		switch st {
		case "Active", "":
			return nil
		case "PublishFailed":
			return fmt.Errorf("layer %s version %d: PublishFailed", v.name, v.version)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("layer %s version %d stayed %s: %w", v.name, v.version, st, ctx.Err())
		case <-time.After(delay):
		}
		if delay < p.poll {
			delay *= 2
		}
	}
}

package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/nativeapi"
	"github.com/asyncfn/asyncfn/spec"
)

// Layers on the emulator's native API, as the cloud adapters publish and
// bind them: a function's layers of this service (top-level layers:) are
// zipped from their path and published — unless the newest version has the
// same digest — and every layer is bound by name and version (a Lambda
// layer ARN's name and version name an emulator layer).

// awsLayerARN takes a layer version ARN apart.
var awsLayerARN = regexp.MustCompile(`:layer:([a-zA-Z0-9-_]+):([0-9]+)$`)

func (p *Provider) layerRefs(ctx context.Context, fn spec.Function) ([]nativeapi.LayerRef, error) {
	out := make([]nativeapi.LayerRef, 0, len(fn.Layers))
	for _, u := range fn.Layers {
		switch {
		case u.ARN != "":
			m := awsLayerARN.FindStringSubmatch(u.ARN)
			if m == nil {
				return nil, fmt.Errorf("local: functions.%s.layers: %q is not a layer version ARN", fn.Name, u.ARN)
			}
			v, _ := strconv.Atoi(m[2])
			out = append(out, nativeapi.LayerRef{Name: m[1], Version: v})
		case u.Key != "":
			ref, err := p.publishLayer(ctx, u.Key)
			if err != nil {
				return nil, err
			}
			out = append(out, ref)
		default:
			out = append(out, nativeapi.LayerRef{Name: u.Name, Version: u.Version})
		}
	}
	return out, nil
}

func (p *Provider) publishLayer(ctx context.Context, key string) (nativeapi.LayerRef, error) {
	var l *spec.Layer
	for i := range p.service.Layers {
		if p.service.Layers[i].Key == key {
			l = &p.service.Layers[i]
		}
	}
	if l == nil {
		return nativeapi.LayerRef{}, fmt.Errorf("local: no layer %q under layers:", key)
	}
	zip, _, err := artifact.Build(filepath.Join(p.service.Dir, l.Path), nil)
	if err != nil {
		return nativeapi.LayerRef{}, fmt.Errorf("local: layers.%s.path %s: %w", key, l.Path, err)
	}
	sum := sha256.Sum256(zip)
	path := "/v1/layers/" + url.PathEscape(l.Name) + "/versions"
	var list struct {
		LayerVersions []nativeapi.LayerInfo `json:"layerVersions"`
	}
	if _, err := p.do(ctx, http.MethodGet, path, nil, nil, &list); err == nil && len(list.LayerVersions) > 0 &&
		list.LayerVersions[0].CodeSHA256 == hex.EncodeToString(sum[:]) && list.LayerVersions[0].Description == l.Description {
		return nativeapi.LayerRef{Name: l.Name, Version: list.LayerVersions[0].Version}, nil
	}
	body, err := json.Marshal(nativeapi.LayerRequest{Provider: cloud.Provider(p.service.Provider.Name), Description: l.Description,
		CompatibleRuntimes: l.CompatibleRuntimes, Zip: zip})
	if err != nil {
		return nativeapi.LayerRef{}, err
	}
	var info nativeapi.LayerInfo
	if _, err := p.do(ctx, http.MethodPost, path, nil, body, &info); err != nil {
		return nativeapi.LayerRef{}, err
	}
	return nativeapi.LayerRef{Name: info.Name, Version: info.Version}, nil
}

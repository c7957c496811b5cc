package native

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Layers through the native API: what the local adapter publishes a
// service's layers with, so that --local deploys bind them as the clouds do.

func layerInfo(lv localemu.LayerVersion) nativeapi.LayerInfo {
	return nativeapi.LayerInfo{Name: lv.Name, Version: lv.Version, Description: lv.Description, CompatibleRuntimes: lv.CompatibleRuntimes,
		CodeSHA256: lv.CodeSHA256, CodeSize: lv.CodeSize, UnzippedSize: lv.UnzippedSize, CreatedAt: lv.CreatedAt}
}

// publishLayer answers 201 with the new version.
func (s *Front) publishLayer(ctx context.Context, r *http.Request) (answer, error) {
	var req nativeapi.LayerRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return answer{}, badRequest("InvalidRequest", "decode layer request: %v", err)
	}
	code := localemu.Code{Zip: req.Zip}
	if req.CodeObject != nil {
		if req.Zip != nil {
			return answer{}, badRequest("InvalidParameter", "give zip or codeObject, not both")
		}
		code = localemu.Code{Object: req.CodeObject}
	}
	lv, err := s.engine.PublishLayerVersion(ctx, localemu.LayerSpec{Name: r.PathValue("name"), Description: req.Description,
		CompatibleRuntimes: req.CompatibleRuntimes, Code: code, Provider: req.Provider})
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusCreated, body: layerInfo(lv)}, nil
}

// listLayerVersions answers {"layerVersions": [...]}, newest first.
func (s *Front) listLayerVersions(ctx context.Context, r *http.Request) (answer, error) {
	vs, err := s.engine.ListLayerVersions(ctx, r.PathValue("name"))
	if err != nil {
		return answer{}, err
	}
	out := make([]nativeapi.LayerInfo, len(vs))
	for i, lv := range vs {
		out[i] = layerInfo(lv)
	}
	return ok(map[string]any{"layerVersions": out}), nil
}

func (s *Front) getLayerVersion(ctx context.Context, r *http.Request) (answer, error) {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return answer{}, badRequest("InvalidParameter", "version %q is not a layer version number", r.PathValue("version"))
	}
	lv, err := s.engine.LayerVersion(ctx, r.PathValue("name"), v)
	if err != nil {
		return answer{}, err
	}
	return ok(layerInfo(lv)), nil
}

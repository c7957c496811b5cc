package scf

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front/cos"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Code by COS reference, the inline limit, and layers.
//
// A function's code (CreateFunction Code, UpdateFunctionCode) and a layer's
// (PublishLayerVersion Content) are one of: ZipFile, a base64 zip sent in
// the request; or CosBucketName + CosObjectName (+ CosBucketRegion), an
// object the emulator's COS front holds (package cos), which SCF fetches
// from the bucket "<CosBucketName>-<appid>" (SCF API, models.go Code:
// "对象存储桶名称（填写存储桶名称自定义部分，不包含-appid）").
//
// The inline limit: "ZipFile: 包含函数代码文件及其依赖项的 zip 格式文件，使用
// 该接口时要求将 zip 文件的内容转成 base64 编码，最大支持20M" (SCF API,
// UpdateFunctionCode); the emulator holds the base64 text of ZipFile (and of
// Content.ZipFile) to 20 MiB and answers a larger one as Tencent Cloud's
// API gateway answers an oversize request, RequestSizeLimitExceeded (API 3.0
// common error codes, "请求包超过限制大小"; seen from the cloud as
// {"Code":"RequestSizeLimitExceeded","Message":"Your current request size
// exceed max ..."} in github.com/sysucats/zhongdamaopu issue 5). Larger code
// goes through COS, up to 500 MB unzipped with its layers (SCF docs, "Quota
// limits": 单个函数（版本）代码压缩前的大小上限（包含绑定的层） 500MB), which the
// engine checks (localemu.CodeLimitsFor).

const (
	// maxInlineZipB64 bounds the base64 text of an inline ZipFile.
	maxInlineZipB64 = 20 << 20
	// codeBody bounds a request that may carry an inline zip: the zip's
	// base64 and the rest of the JSON.
	codeBody = maxInlineZipB64 + 1<<20
)

// codeSource reads the one code source of a request: ZipFile or COS. field
// names the parameter in errors ("Code", "Content").
func (s *Front) codeSource(field string, in *codeInput, zipFile *string) (localemu.Code, error) {
	if zipFile == nil && in != nil {
		zipFile = in.ZipFile
	}
	fromCOS := in != nil && (in.CosBucketName != nil || in.CosObjectName != nil)
	switch {
	case zipFile != nil && fromCOS:
		return localemu.Code{}, apiErr("InvalidParameterValue.Code", "%s: give ZipFile or CosBucketName/CosObjectName, not both", field)
	case zipFile != nil:
		if n := len(*zipFile); n > maxInlineZipB64 {
			return localemu.Code{}, apiErr("RequestSizeLimitExceeded",
				"%s.ZipFile is %d bytes of base64, over SCF's %d-byte limit for code sent inline: upload the zip to COS and give %s.CosBucketName and %s.CosObjectName",
				field, n, maxInlineZipB64, field, field)
		}
		zip, err := decodeZip(field+".ZipFile", *zipFile)
		if err != nil {
			return localemu.Code{}, err
		}
		return localemu.Code{Zip: zip}, nil
	case fromCOS:
		return s.cosCode(field, in)
	case in != nil && (in.DemoId != nil || in.GitUrl != nil):
		return localemu.Code{}, apiErr("UnsupportedOperation", "%s from a demo or Git is not emulated: give ZipFile or CosBucketName/CosObjectName", field)
	}
	return localemu.Code{}, nil
}

// cosCode names the object of a COS code source.
func (s *Front) cosCode(field string, in *codeInput) (localemu.Code, error) {
	name, key := str(in.CosBucketName), strings.TrimPrefix(str(in.CosObjectName), "/")
	if name == "" {
		return localemu.Code{}, apiErr("InvalidParameterValue.CosBucketName", "%s.CosBucketName is required with %s.CosObjectName", field, field)
	}
	// A name given with its appid, as COS spells the bucket, is accepted too.
	name = strings.TrimSuffix(name, "-"+cos.DefaultAppID)
	if !cos.ValidName(name) {
		return localemu.Code{}, apiErr("InvalidParameterValue.CosBucketName", "%s.CosBucketName %q is not a COS bucket name (lowercase letters, digits and -, without the -appid suffix)", field, name)
	}
	if key == "" {
		return localemu.Code{}, apiErr("InvalidParameterValue.CosObjectName", "%s.CosObjectName is required with %s.CosBucketName", field, field)
	}
	if r := str(in.CosBucketRegion); r != "" && !cos.ValidRegion(r) {
		return localemu.Code{}, apiErr("InvalidParameterValue.CosBucketRegion", "%s.CosBucketRegion %q is not a region such as ap-guangzhou", field, r)
	}
	return localemu.Code{Object: &localemu.ObjectRef{Bucket: name + "-" + cos.DefaultAppID, Key: key}}, nil
}

// codeError maps the engine's code and layer errors onto SCF's codes, and
// anything else through engineError.
func codeError(err error) error {
	var tooLarge *localemu.CodeTooLargeError
	switch {
	case errors.As(err, &tooLarge) && tooLarge.Unzipped:
		// No SCF code names the unzipped limit; InvalidParameterValue.Code
		// ("Code传入错误") is CreateFunction's and UpdateFunctionCode's code
		// for code they refuse.
		return apiErr("InvalidParameterValue.Code", "the code unzipped with its layers is over SCF's limit of %d bytes (500 MB): %v", tooLarge.Limit, err)
	case errors.As(err, &tooLarge):
		return apiErr("RequestSizeLimitExceeded", "%v", err)
	case errors.Is(err, localemu.ErrNoSuchBucket), errors.Is(err, localemu.ErrNoSuchKey):
		// FailedOperation.Cos: "操作COS资源失败" — SCF could not fetch the code.
		return apiErr("FailedOperation.Cos", "fetch the code from COS: %v", err)
	case errors.Is(err, localemu.ErrLayerNotFound):
		return apiErr("ResourceNotFound.LayerVersion", "%v", err)
	}
	return err
}

// layerInput is one of a function's Layers (SCF API, LayerVersionSimple).
type layerInput struct {
	LayerName    *string `json:"LayerName"`
	LayerVersion *int    `json:"LayerVersion"`
}

// layerRefs checks a function's Layers: at most nativeapi.MaxLayers ("单个
// 函数（版本）绑定的层版本数量 5", SCF docs, "Quota limits"; over it
// LimitExceeded.Layers, "layer数量超出最大限制"), each naming a version.
func layerRefs(in []layerInput) ([]localemu.LayerRef, error) {
	if len(in) > nativeapi.MaxLayers {
		return nil, apiErr("LimitExceeded.Layers", "Layers names %d layer versions; a function binds at most %d", len(in), nativeapi.MaxLayers)
	}
	out := make([]localemu.LayerRef, 0, len(in))
	seen := map[string]bool{}
	for i, l := range in {
		name := str(l.LayerName)
		if name == "" || l.LayerVersion == nil || *l.LayerVersion < 1 {
			return nil, apiErr("InvalidParameterValue.Layers", "Layers[%d] needs a LayerName and a LayerVersion of 1 or more", i)
		}
		if seen[name] {
			return nil, apiErr("InvalidParameterValue.Layers", "Layers[%d]: layer %s is bound twice", i, name)
		}
		seen[name] = true
		out = append(out, localemu.LayerRef{Name: name, Version: *l.LayerVersion})
	}
	return out, nil
}

// layerNameRE: "层名称，支持26个英文字母大小写、数字、连接符和下划线，第一个字符只能以
// 字母开头，最后一个字符不能为连接符或者下划线，名称长度1-64" (SCF API,
// PublishLayerVersion: LayerName).
var layerNameRE = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$`)

// maxLayerRuntimes: CompatibleRuntimes "可多选" (several) and is required;
// SCF documents no bound, the emulator takes Lambda's (PublishLayerVersion
// CompatibleRuntimes: at most 15 items).
const maxLayerRuntimes = 15

type publishLayerRequest struct {
	LayerName          *string    `json:"LayerName"`
	CompatibleRuntimes []string   `json:"CompatibleRuntimes"`
	Content            *codeInput `json:"Content"`
	Description        *string    `json:"Description"`
	LicenseInfo        *string    `json:"LicenseInfo"`
}

func (s *Front) publishLayerVersion(ctx context.Context, body []byte) (any, error) {
	var req publishLayerRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	name := str(req.LayerName)
	if !layerNameRE.MatchString(name) {
		return nil, apiErr("InvalidParameterValue.LayerName", "LayerName %q: 1-64 letters, digits, - and _, starting with a letter and not ending with - or _", name)
	}
	if len(req.CompatibleRuntimes) == 0 || len(req.CompatibleRuntimes) > maxLayerRuntimes {
		return nil, apiErr("InvalidParameterValue.CompatibleRuntimes", "CompatibleRuntimes names %d runtimes: give 1 to %d", len(req.CompatibleRuntimes), maxLayerRuntimes)
	}
	if req.Content == nil {
		return nil, apiErr("MissingParameter", "Content is required: ZipFile or CosBucketName/CosObjectName")
	}
	code, err := s.codeSource("Content", req.Content, nil)
	if err != nil {
		return nil, err
	}
	if code.Zip == nil && code.Object == nil {
		return nil, apiErr("InvalidParameterValue.Content", "Content needs ZipFile or CosBucketName/CosObjectName")
	}
	lv, err := s.engine.PublishLayerVersion(ctx, localemu.LayerSpec{Name: name, Description: str(req.Description),
		CompatibleRuntimes: req.CompatibleRuntimes, Code: code, Provider: cloud.Tencent})
	if err != nil {
		if errors.Is(err, localemu.ErrNoSuchBucket) || errors.Is(err, localemu.ErrNoSuchKey) {
			return nil, codeError(err)
		}
		var tooLarge *localemu.CodeTooLargeError
		if errors.As(err, &tooLarge) {
			return nil, apiErr("InvalidParameterValue.Content", "%v", err)
		}
		return nil, err
	}
	return map[string]any{"LayerVersion": lv.Version}, nil
}

// layerVersionInfo is SCF's LayerVersionInfo, and with the code fields
// GetLayerVersion's answer.
type layerVersionInfo struct {
	CompatibleRuntimes []string `json:"CompatibleRuntimes"`
	AddTime            string   `json:"AddTime"`
	Description        string   `json:"Description"`
	LicenseInfo        string   `json:"LicenseInfo"`
	LayerVersion       int      `json:"LayerVersion"`
	LayerName          string   `json:"LayerName"`
	Status             string   `json:"Status"`
	CodeSha256         string   `json:"CodeSha256,omitempty"`
	Location           string   `json:"Location,omitempty"`
}

func layerView(lv localemu.LayerVersion) layerVersionInfo {
	rt := lv.CompatibleRuntimes
	if rt == nil {
		rt = []string{}
	}
	return layerVersionInfo{CompatibleRuntimes: rt, AddTime: secondTime(lv.CreatedAt), Description: lv.Description,
		LayerVersion: lv.Version, LayerName: lv.Name, Status: "Active"}
}

type layerRef struct {
	LayerName    *string `json:"LayerName"`
	LayerVersion *int    `json:"LayerVersion"`
}

func (s *Front) getLayerVersion(ctx context.Context, body []byte) (any, error) {
	var req layerRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if str(req.LayerName) == "" || req.LayerVersion == nil {
		return nil, apiErr("MissingParameter", "LayerName and LayerVersion are required")
	}
	lv, err := s.engine.LayerVersion(ctx, *req.LayerName, *req.LayerVersion)
	if err != nil {
		return nil, s.layerNotFound(ctx, err, *req.LayerName)
	}
	v := layerView(lv)
	v.CodeSha256 = lv.CodeSHA256
	return v, nil
}

// layerNotFound answers ResourceNotFound.Layer when no version of the name
// exists, ResourceNotFound.LayerVersion when the name does but not the
// version.
func (s *Front) layerNotFound(ctx context.Context, err error, name string) error {
	if !errors.Is(err, localemu.ErrLayerNotFound) {
		return err
	}
	if vs, lerr := s.engine.ListLayerVersions(ctx, name); lerr == nil && len(vs) == 0 {
		return apiErr("ResourceNotFound.Layer", "layer %s does not exist", name)
	}
	return apiErr("ResourceNotFound.LayerVersion", "%v", err)
}

type listLayerVersionsRequest struct {
	LayerName         *string  `json:"LayerName"`
	CompatibleRuntime []string `json:"CompatibleRuntime"`
}

func (s *Front) listLayerVersions(ctx context.Context, body []byte) (any, error) {
	var req listLayerVersionsRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	name := str(req.LayerName)
	if name == "" {
		return nil, apiErr("MissingParameter", "LayerName is required")
	}
	vs, err := s.engine.ListLayerVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, apiErr("ResourceNotFound.Layer", "layer %s does not exist", name)
	}
	out := []layerVersionInfo{}
	for _, v := range vs {
		if matchesRuntime(v, req.CompatibleRuntime...) {
			out = append(out, layerView(v))
		}
	}
	return map[string]any{"LayerVersions": out}, nil
}

func matchesRuntime(v localemu.LayerVersion, want ...string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, r := range v.CompatibleRuntimes {
			if strings.EqualFold(r, w) {
				return true
			}
		}
	}
	return false
}

type listLayersRequest struct {
	CompatibleRuntime *string `json:"CompatibleRuntime"`
	Offset            *int    `json:"Offset"`
	Limit             *int    `json:"Limit"`
	SearchKey         *string `json:"SearchKey"`
}

// listLayers answers each layer by its newest version (matching the runtime
// filter), by name (SCF API, ListLayers).
func (s *Front) listLayers(ctx context.Context, body []byte) (any, error) {
	var req listLayersRequest
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	offset, limit, err := paginate(req.Offset, req.Limit, 20, maxPageLimit, listFunctionsPaging)
	if err != nil {
		return nil, err
	}
	vs, err := s.engine.ListLayerVersions(ctx, "")
	if err != nil {
		return nil, err
	}
	newest := map[string]localemu.LayerVersion{}
	for _, v := range vs {
		if k := str(req.SearchKey); k != "" && !strings.Contains(v.Name, k) {
			continue
		}
		if req.CompatibleRuntime != nil && !matchesRuntime(v, *req.CompatibleRuntime) {
			continue
		}
		if cur, ok := newest[v.Name]; !ok || v.Version > cur.Version {
			newest[v.Name] = v
		}
	}
	out := make([]layerVersionInfo, 0, len(newest))
	for _, v := range newest {
		out = append(out, layerView(v))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LayerName < out[j].LayerName })
	total := len(out)
	out = pageSlice(out, offset, limit)
	if out == nil {
		out = []layerVersionInfo{}
	}
	return map[string]any{"Layers": out, "TotalCount": total}, nil
}

func (s *Front) deleteLayerVersion(ctx context.Context, body []byte) (any, error) {
	var req layerRef
	if err := decodeSCF(body, &req); err != nil {
		return nil, err
	}
	if str(req.LayerName) == "" || req.LayerVersion == nil {
		return nil, apiErr("MissingParameter", "LayerName and LayerVersion are required")
	}
	if _, err := s.engine.LayerVersion(ctx, *req.LayerName, *req.LayerVersion); err != nil {
		return nil, s.layerNotFound(ctx, err, *req.LayerName)
	}
	if err := s.engine.DeleteLayerVersion(ctx, *req.LayerName, *req.LayerVersion); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// functionLayers is GetFunction's Layers: the bound versions' descriptions.
func (s *Front) functionLayers(ctx context.Context, refs []localemu.LayerRef) []layerVersionInfo {
	out := []layerVersionInfo{}
	for _, r := range refs {
		lv, err := s.engine.LayerVersion(ctx, r.Name, r.Version)
		if err != nil {
			lv = localemu.LayerVersion{Name: r.Name, Version: r.Version} // deleted since: still bound
		}
		out = append(out, layerView(lv))
	}
	return out
}

// The CAM action a deploy asks for the account's appid (COS bucket names end
// in it): GetUserAppId, CAM API 2019-01-16, answering Uin, OwnerUin and
// AppId. The emulator is one account; its appid is cos.DefaultAppID.
const (
	camVersion = "2019-01-16"
	// emulatorUin is the emulator account's UIN.
	emulatorUin = "100000000001"
)

func (s *Front) getUserAppID() (any, error) {
	appID, err := strconv.ParseUint(cos.DefaultAppID, 10, 64)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Uin": emulatorUin, "OwnerUin": emulatorUin, "AppId": appID}, nil
}

package aws

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Code by S3 reference, the inline limit, and layers (Lambda API 2018-10-31).

// maxInlineRequest is the largest CreateFunction, UpdateFunctionCode or
// PublishLayerVersion request Lambda takes: a 50 MiB zip in base64
// (50 MiB × 4/3). Above it Lambda answers 413 RequestEntityTooLargeException
// "Request must be smaller than 69905067 bytes for the CreateFunction
// operation" before looking at the body (Lambda quotas: 50 MB zipped for
// direct upload; the message as the Lambda API returns it).
const maxInlineRequest = 69905067

// inlineTooLarge is Lambda's answer to a code request over maxInlineRequest.
func inlineTooLarge(r *http.Request) error {
	op := "CreateFunction"
	switch r.Pattern {
	case "PUT /2015-03-31/functions/{name}/code":
		op = "UpdateFunctionCode"
	case "POST /2018-10-31/layers/{layer}/versions":
		op = "PublishLayerVersion"
	}
	return apiError(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "Request must be smaller than %d bytes for the %s operation", maxInlineRequest, op)
}

// codeInput is the Code of CreateFunction and the body of UpdateFunctionCode
// and PublishLayerVersion's Content: a zip inline or an S3 object.
type codeInput struct {
	ZipFile         []byte `json:"ZipFile"`
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
	ImageUri        string `json:"ImageUri"`
}

// code turns the input into the engine's Code. what names the field in
// errors ("Code", "Content").
func (in *codeInput) code(what string) (localemu.Code, error) {
	switch {
	case in == nil:
		return localemu.Code{}, invalidValue("%s is required", what)
	case in.ImageUri != "":
		return localemu.Code{}, invalidValue("%s.ImageUri: container images are not emulated; deploy a .zip", what)
	case len(in.ZipFile) > 0 && in.S3Bucket != "":
		return localemu.Code{}, invalidValue("Please do not provide other FunctionCode parameters when providing a ZipFile.")
	case len(in.ZipFile) > 0:
		if err := localemu.CheckInlineZip(cloud.AWS, int64(len(in.ZipFile))); err != nil {
			return localemu.Code{}, err
		}
		return localemu.Code{Zip: in.ZipFile}, nil
	case in.S3Bucket != "" && in.S3Key != "":
		return localemu.Code{Object: &nativeapi.ObjectRef{Bucket: in.S3Bucket, Key: in.S3Key}}, nil
	case in.S3Bucket != "" || in.S3Key != "":
		return localemu.Code{}, invalidValue("Please provide a source for function code: both S3Bucket and S3Key.")
	}
	return localemu.Code{}, invalidValue("Please provide a source for function code: %s.ZipFile or %s.S3Bucket and %s.S3Key.", what, what, what)
}

// codeError says what Lambda says when the code cannot be had from S3:
// InvalidParameterValueException "Error occurred while GetObject. S3 Error
// Code: NoSuchKey. S3 Error Message: The specified key does not exist."
func codeError(err error) error {
	switch {
	case errors.Is(err, localemu.ErrNoSuchKey):
		return invalidValue("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.")
	case errors.Is(err, localemu.ErrNoSuchBucket):
		return invalidValue("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist")
	case errors.Is(err, localemu.ErrLayerNotFound):
		var le *localemu.LayerError
		if errors.As(err, &le) {
			return invalidValue("Layer version %s does not exist.", layerVersionARN("", le.Name, le.Version))
		}
	}
	var tooLarge *localemu.CodeTooLargeError
	if errors.As(err, &tooLarge) && !tooLarge.Unzipped {
		return apiError(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "%s", tooLarge.Error())
	}
	return err
}

// layerARN matches a layer version ARN (Lambda API reference,
// CreateFunction: Layers, pattern arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+).
var layerARN = regexp.MustCompile(`^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9-_]+):([0-9]+)$`)

func layerARNBase(region, name string) string {
	if region == "" {
		region = awsDefaultRegion
	}
	return "arn:aws:lambda:" + region + ":" + awsAccountID + ":layer:" + name
}

func layerVersionARN(region, name string, version int) string {
	return layerARNBase(region, name) + ":" + strconv.Itoa(version)
}

// layerRefs reads a function's Layers: at most five ARNs ("Cannot reference
// more than 5 layers." — what Lambda answers a sixth).
func layerRefs(arns []string) ([]localemu.LayerRef, error) {
	if len(arns) > nativeapi.MaxLayers {
		return nil, invalidValue("Cannot reference more than %d layers.", nativeapi.MaxLayers)
	}
	refs := make([]localemu.LayerRef, 0, len(arns))
	for _, a := range arns {
		m := layerARN.FindStringSubmatch(a)
		if m == nil {
			return nil, apiError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '%s' at 'layers' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+", a)
		}
		v, _ := strconv.Atoi(m[2])
		refs = append(refs, localemu.LayerRef{Name: m[1], Version: v})
	}
	return refs, nil
}

// layerOfFunction is an entry of FunctionConfiguration.Layers.
type layerOfFunction struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

func (s *Front) functionLayers(ctx context.Context, cfg *localemu.FunctionConfig) []layerOfFunction {
	if len(cfg.Layers) == 0 {
		return nil
	}
	out := make([]layerOfFunction, 0, len(cfg.Layers))
	for _, l := range cfg.Layers {
		var size int64
		if lv, err := s.engine.LayerVersion(ctx, l.Name, l.Version); err == nil {
			size = lv.CodeSize
		}
		out = append(out, layerOfFunction{Arn: layerVersionARN(cfg.Region, l.Name, l.Version), CodeSize: size})
	}
	return out
}

// layerVersionOut is PublishLayerVersion's and GetLayerVersion's answer
// (aws-sdk-go-v2 service/lambda: PublishLayerVersionOutput,
// GetLayerVersionOutput, types.LayerVersionContentOutput).
type layerVersionOut struct {
	Content struct {
		Location   string `json:"Location"`
		CodeSha256 string `json:"CodeSha256"`
		CodeSize   int64  `json:"CodeSize"`
	} `json:"Content"`
	LayerArn           string   `json:"LayerArn"`
	LayerVersionArn    string   `json:"LayerVersionArn"`
	Description        string   `json:"Description"`
	CreatedDate        string   `json:"CreatedDate"`
	Version            int64    `json:"Version"`
	CompatibleRuntimes []string `json:"CompatibleRuntimes,omitempty"`
}

// layerVersionItem is an entry of ListLayerVersions (types.LayerVersionsListItem).
type layerVersionItem struct {
	LayerVersionArn    string   `json:"LayerVersionArn"`
	Version            int64    `json:"Version"`
	Description        string   `json:"Description"`
	CreatedDate        string   `json:"CreatedDate"`
	CompatibleRuntimes []string `json:"CompatibleRuntimes,omitempty"`
}

func b64SHA(hexSum string) string {
	if raw, err := hex.DecodeString(hexSum); err == nil {
		return base64.StdEncoding.EncodeToString(raw)
	}
	return hexSum
}

func (s *Front) layerOut(c *awsCall, lv localemu.LayerVersion) layerVersionOut {
	var out layerVersionOut
	out.Content.Location = fmt.Sprintf("http://%s/2018-10-31/layers/%s/versions/%d", c.r.Host, lv.Name, lv.Version)
	out.Content.CodeSha256 = b64SHA(lv.CodeSHA256)
	out.Content.CodeSize = lv.CodeSize
	out.LayerArn = layerARNBase(c.region, lv.Name)
	out.LayerVersionArn = layerVersionARN(c.region, lv.Name, lv.Version)
	out.Description = lv.Description
	out.CreatedDate = lv.CreatedAt.UTC().Format("2006-01-02T15:04:05.000+0000")
	out.Version = int64(lv.Version)
	out.CompatibleRuntimes = lv.CompatibleRuntimes
	return out
}

// layerName reads the {layer} label: a name or a layer ARN (Lambda accepts both).
func layerName(label string) string {
	if m := regexp.MustCompile(`:layer:([a-zA-Z0-9-_]+)$`).FindStringSubmatch(label); m != nil {
		return m[1]
	}
	return label
}

// Lambda API reference, PublishLayerVersion: LayerName 1-140 of
// [a-zA-Z0-9-_] (or its ARN); Description up to 256 characters;
// CompatibleRuntimes up to 15.
func (s *Front) publishLayerVersion(ctx context.Context, c *awsCall) (answer, error) {
	name := layerName(c.r.PathValue("layer"))
	var in struct {
		Content            *codeInput `json:"Content"`
		Description        string     `json:"Description"`
		CompatibleRuntimes []string   `json:"CompatibleRuntimes"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	if len(in.Description) > 256 {
		return answer{}, apiError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	if len(in.CompatibleRuntimes) > 15 {
		return answer{}, apiError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15")
	}
	code, err := in.Content.code("Content")
	if err != nil {
		return answer{}, codeError(err)
	}
	lv, err := s.engine.PublishLayerVersion(ctx, localemu.LayerSpec{Name: name, Description: in.Description,
		CompatibleRuntimes: in.CompatibleRuntimes, Code: code, Provider: cloud.AWS})
	if err != nil {
		return answer{}, codeError(err)
	}
	return answer{status: http.StatusCreated, body: s.layerOut(c, lv)}, nil
}

func (s *Front) layerVersionNumber(c *awsCall) (string, int, error) {
	name := layerName(c.r.PathValue("layer"))
	v, err := strconv.Atoi(c.r.PathValue("version"))
	if err != nil || v < 1 {
		return "", 0, invalidValue("VersionNumber %q is not a layer version number", c.r.PathValue("version"))
	}
	return name, v, nil
}

func (s *Front) getLayerVersion(ctx context.Context, c *awsCall) (answer, error) {
	name, v, err := s.layerVersionNumber(c)
	if err != nil {
		return answer{}, err
	}
	lv, err := s.engine.LayerVersion(ctx, name, v)
	if err != nil {
		if errors.Is(err, localemu.ErrLayerNotFound) {
			return answer{}, apiError(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		}
		return answer{}, err
	}
	return ok(s.layerOut(c, lv)), nil
}

func (s *Front) deleteLayerVersion(ctx context.Context, c *awsCall) (answer, error) {
	name, v, err := s.layerVersionNumber(c)
	if err != nil {
		return answer{}, err
	}
	if err := s.engine.DeleteLayerVersion(ctx, name, v); err != nil {
		return answer{}, err
	}
	return noContent(), nil
}

// listLayerVersions answers ListLayerVersions newest first, as Lambda
// lists them, in pages of MaxItems (1-50, default 50).
func (s *Front) listLayerVersions(ctx context.Context, c *awsCall) (answer, error) {
	name := layerName(c.r.PathValue("layer"))
	vs, err := s.engine.ListLayerVersions(ctx, name)
	if err != nil {
		return answer{}, err
	}
	start, max, err := page(c, 50)
	if err != nil {
		return answer{}, err
	}
	out := struct {
		LayerVersions []layerVersionItem `json:"LayerVersions"`
		NextMarker    string             `json:"NextMarker,omitempty"`
	}{LayerVersions: []layerVersionItem{}}
	for i := start; i < len(vs) && len(out.LayerVersions) < max; i++ {
		lv := vs[i]
		out.LayerVersions = append(out.LayerVersions, layerVersionItem{LayerVersionArn: layerVersionARN(c.region, lv.Name, lv.Version),
			Version: int64(lv.Version), Description: lv.Description, CreatedDate: lv.CreatedAt.UTC().Format("2006-01-02T15:04:05.000+0000"),
			CompatibleRuntimes: lv.CompatibleRuntimes})
		if len(out.LayerVersions) == max && i+1 < len(vs) {
			out.NextMarker = strconv.Itoa(i + 1)
		}
	}
	return ok(out), nil
}

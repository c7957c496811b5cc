package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestLayersAndDeploymentBucketAWS(t *testing.T) {
	const yml = `service: heavy
provider:
  name: aws
  runtime: nodejs22.x
  deploymentBucket:
    name: my-deploys
layers:
  ffmpeg-static:
    path: layers/ffmpeg
    description: static ffmpeg
    compatibleRuntimes: [nodejs22.x]
  models:
    path: layers/models
    name: ml_models
functions:
  transcode:
    handler: index.main
    layers:
      - !Ref FfmpegDashstaticLambdaLayer
      - {Ref: ModelsLambdaLayer}
      - arn:aws:lambda:us-east-1:123456789012:layer:shared:3
  plain:
    handler: index.main
`
	l, err := Load(writeService(t, yml, nil), Options{Env: mapEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Service
	if s.Provider.DeploymentBucket != "my-deploys" {
		t.Errorf("deploymentBucket = %q", s.Provider.DeploymentBucket)
	}
	want := []Layer{
		{Key: "ffmpeg-static", Name: "ffmpeg-static", Path: "layers/ffmpeg", Description: "static ffmpeg", CompatibleRuntimes: []string{"nodejs22.x"}, LogicalID: "FfmpegDashstaticLambdaLayer"},
		{Key: "models", Name: "ml_models", Path: "layers/models", LogicalID: "ModelsLambdaLayer"},
	}
	if !reflect.DeepEqual(s.Layers, want) {
		t.Errorf("layers = %+v", s.Layers)
	}
	fn, _ := s.Function("transcode")
	wantUse := []LayerUse{{Key: "ffmpeg-static"}, {Key: "models"}, {ARN: "arn:aws:lambda:us-east-1:123456789012:layer:shared:3"}}
	if !reflect.DeepEqual(fn.Layers, wantUse) {
		t.Errorf("function layers = %+v", fn.Layers)
	}
	if plain, _ := s.Function("plain"); len(plain.Layers) != 0 {
		t.Errorf("plain has layers %+v", plain.Layers)
	}
	if len(l.Warnings) != 0 {
		t.Errorf("warnings: %v", l.Warnings)
	}
}

func TestDeploymentBucketForms(t *testing.T) {
	for _, tc := range []struct{ provider, key, want string }{
		{"aws", "deploymentBucket: plain-name", "plain-name"},
		{"tencent", "deploymentBucket: cos-bucket-1250000000", "cos-bucket-1250000000"},
		{"tencent", "cosBucket: cos-bucket-1250000000", "cos-bucket-1250000000"},
		{"tencent", "cosBucket: DEFAULT", ""},
	} {
		yml := "service: sv\nprovider:\n  name: " + tc.provider + "\n  " + tc.key + "\nfunctions:\n  f:\n    handler: index.main\n"
		l, err := Load(writeService(t, yml, nil), Options{Env: mapEnv(nil)})
		if err != nil {
			t.Fatalf("%s %s: %v", tc.provider, tc.key, err)
		}
		if l.Service.Provider.DeploymentBucket != tc.want {
			t.Errorf("%s %s: bucket = %q", tc.provider, tc.key, l.Service.Provider.DeploymentBucket)
		}
	}
}

func TestLayersSCFForm(t *testing.T) {
	const yml = `service: heavy
provider:
  name: tencent
  deploymentBucket: code-1250000000
layers:
  ffmpeg:
    path: layers/ffmpeg
functions:
  transcode:
    handler: index.main
    layers:
      - name: shared
        version: 3
      - name: ffmpeg
`
	l, err := Load(writeService(t, yml, nil), Options{Env: mapEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := l.Service.Function("transcode")
	want := []LayerUse{{Name: "shared", Version: 3}, {Key: "ffmpeg"}}
	if !reflect.DeepEqual(fn.Layers, want) {
		t.Errorf("layers = %+v", fn.Layers)
	}
}

func TestProviderLayersApplyToEveryFunction(t *testing.T) {
	const yml = `service: sv
provider:
  name: aws
  layers:
    - arn:aws:lambda:us-east-1:123456789012:layer:shared:1
functions:
  a:
    handler: index.main
  b:
    handler: index.main
    layers:
      - arn:aws:lambda:us-east-1:123456789012:layer:own:2
`
	l, err := Load(writeService(t, yml, nil), Options{Env: mapEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := l.Service.Function("a")
	b, _ := l.Service.Function("b")
	if len(a.Layers) != 1 || !strings.HasSuffix(a.Layers[0].ARN, ":shared:1") || len(b.Layers) != 1 || !strings.HasSuffix(b.Layers[0].ARN, ":own:2") {
		t.Fatalf("a = %+v, b = %+v", a.Layers, b.Layers)
	}
}

// Every mistake names the file, the line and the field.
func TestLayerErrors(t *testing.T) {
	const head = "service: sv\nprovider:\n  name: aws\n"
	const scfHead = "service: sv\nprovider:\n  name: tencent\n"
	cases := []struct {
		name, yml, path, msg string
		line                 int
	}{
		{"no path", head + "layers:\n  lib:\n    name: lib\nfunctions:\n  f:\n    handler: i.m\n", "layers.lib.path", "path is required", 6},
		{"bad arn", head + "functions:\n  f:\n    handler: i.m\n    layers:\n      - arn:aws:lambda:us-east-1:12:layer:x\n", "functions.f.layers.0", "not a layer version ARN", 8},
		{"unknown ref", head + "functions:\n  f:\n    handler: i.m\n    layers:\n      - Ref: NopeLambdaLayer\n", "functions.f.layers.0.Ref", "names no layer", 8},
		{"six layers", head + "functions:\n  f:\n    handler: i.m\n    layers:" + strings.Repeat("\n      - arn:aws:lambda:us-east-1:123456789012:layer:x:1", 6) + "\n", "functions.f.layers", "at most 5", 8},
		{"bucket name", head + "  deploymentBucket: Bad_Bucket\nfunctions:\n  f:\n    handler: i.m\n", "provider.deploymentBucket", "not 3-63 lowercase", 4},
		{"bucket map without name", head + "  deploymentBucket:\n    versioning: true\nfunctions:\n  f:\n    handler: i.m\n", "provider.deploymentBucket.name", "is required", 5},
		{"scf arn", scfHead + "functions:\n  f:\n    handler: i.m\n    layers:\n      - arn:aws:lambda:us-east-1:123456789012:layer:x:1\n", "functions.f.layers.0", "{name: LAYER, version: N}", 8},
		{"scf no version", scfHead + "functions:\n  f:\n    handler: i.m\n    layers:\n      - name: elsewhere\n", "functions.f.layers.0.version", "version is required", 8},
		{"scf version 0", scfHead + "functions:\n  f:\n    handler: i.m\n    layers:\n      - name: x\n        version: 0\n", "functions.f.layers.0.version", "start at 1", 9},
		{"scf layer name", scfHead + "layers:\n  9lib:\n    path: lib\nfunctions:\n  f:\n    handler: i.m\n", "layers.9lib.name", "starting with a letter", 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeService(t, tc.yml, nil)
			_, err := Load(p, Options{Env: mapEnv(nil)})
			if err == nil {
				t.Fatal("Load accepts it")
			}
			var found *Error
			for _, e := range configErrors(t, err) {
				if e.Path == tc.path {
					found = e
				}
			}
			if found == nil {
				t.Fatalf("no error at %s in: %v", tc.path, err)
			}
			if !strings.Contains(found.Msg, tc.msg) || found.Line != tc.line || found.File != p {
				t.Fatalf("error = %v (line %d), want line %d and %q", found, found.Line, tc.line, tc.msg)
			}
		})
	}
}

// The resolved configuration the Framework hands over reads the same.
func TestLayersFromResolvedConfig(t *testing.T) {
	const js = `{"service":"heavy","provider":{"name":"aws","deploymentBucket":{"name":"my-deploys"}},
"layers":{"tools":{"path":"layers/tools"}},
"functions":{"f":{"handler":"index.main","layers":[{"Ref":"ToolsLambdaLayer"},"arn:aws:lambda:us-east-1:123456789012:layer:x:2"]}}}`
	l, err := LoadResolved(writeService(t, "", nil), []byte(js), Options{Env: mapEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := l.Service.Function("f")
	if l.Service.Provider.DeploymentBucket != "my-deploys" || len(l.Service.Layers) != 1 || len(fn.Layers) != 2 || fn.Layers[0].Key != "tools" {
		t.Fatalf("resolved = %+v %+v", l.Service, fn.Layers)
	}
	if LayerLogicalID("my_lib-x") != "MyUnderscorelibDashxLambdaLayer" {
		t.Fatal(LayerLogicalID("my_lib-x"))
	}
}

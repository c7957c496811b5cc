package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Large packages and layers: the keys that say where a package too big to
// send inline goes, the layers a service publishes, and the layers each
// function runs with.
//
//	provider:
//	  deploymentBucket: my-bucket        # or {name: my-bucket}; tencent: also cosBucket (DEFAULT = asyncfn's)
//	layers:                              # top level: published by deploy
//	  ffmpeg:
//	    path: layers/ffmpeg              # directory zipped as the layer's content
//	    name: ffmpeg-static              # optional: the published name (default: the key)
//	    description: static ffmpeg
//	    compatibleRuntimes: [nodejs22.x]
//	functions:
//	  transcode:
//	    layers:
//	      - {Ref: FfmpegLambdaLayer}     # aws: a layer of this file, as the Framework names it
//	      - arn:aws:lambda:us-east-1:123456789012:layer:shared:3   # aws: a published version
//	  # tencent:
//	  #   layers:
//	  #     - {name: shared, version: 3} # SCF's form: a published layer version
//	  #     - {name: ffmpeg}             # a layer of this file: the version deploy publishes

// Layer is one top-level layers: entry, which deploy publishes.
type Layer struct {
	Key                string // key under layers:
	Name               string // name: if given, else Key
	Path               string // directory zipped as the layer's content, relative to Service.Dir (may be outside it)
	Description        string
	CompatibleRuntimes []string
	// LogicalID is the Framework's CloudFormation name of the layer,
	// <TitleCase key>LambdaLayer, which functions reference with {Ref: ...}.
	LogicalID string
}

// LayerUse is one entry of a function's layers:, exactly one of ARN, Key or
// Name+Version set.
type LayerUse struct {
	// ARN is a published layer version as an ARN (aws), as written.
	ARN string
	// Key is a top-level layer of this service, used at the version deploy
	// publishes: aws {Ref: <LogicalID>}, tencent {name: <key>} without version.
	Key string
	// Name and Version name a published layer version (tencent {name, version}).
	Name    string
	Version int
}

// MaxLayers is the layers a function may have on both clouds (Lambda
// quotas: five layers; SCF layer management: five layer versions).
const MaxLayers = 5

var (
	// Lambda's Layers item pattern (Lambda API reference, CreateFunction: Layers).
	layerARNRE = regexp.MustCompile(`^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$`)
	// Lambda's LayerName (PublishLayerVersion): letters, digits, - and _, 1-140.
	awsLayerNameRE = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,140}$`)
	// SCF's LayerName (PublishLayerVersion): 1-64 letters, digits, - and _,
	// starting with a letter and ending with a letter or digit.
	scfLayerNameRE = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$`)
	layerKeyRE     = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	bucketNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	layerKeys      = rules("path name description compatibleRuntimes", "retain licenseInfo compatibleArchitectures allowedAccounts", "package")
)

// LayerLogicalID is the Framework's name for a layers: key in its
// CloudFormation template (lib/plugins/aws/lib/naming.js,
// getLambdaLayerLogicalId): the key with "-" spelled "Dash" and "_"
// spelled "Underscore", its first letter upper-cased, then "LambdaLayer".
func LayerLogicalID(key string) string {
	n := strings.ReplaceAll(strings.ReplaceAll(key, "-", "Dash"), "_", "Underscore")
	if n != "" {
		n = strings.ToUpper(n[:1]) + n[1:]
	}
	return n + "LambdaLayer"
}

// deploymentBucket reads provider.deploymentBucket: a name, or a mapping
// whose name: is one (the Framework's two forms); tencent also takes
// provider.cosBucket (a name, or DEFAULT as the serverless-tencent-scf
// plugin writes it for its default bucket).
func (b *builder) deploymentBucket(pv *value, provider string) string {
	var name string
	var at *value
	path := "provider.deploymentBucket"
	switch v := pv.get("deploymentBucket"); {
	case v.isNull():
	case v.kind == kindMap:
		b.checkKeys(v, path, rules("name", "serverSideEncryption sseKMSKeyId sseCustomerAlgorithm sseCustomerKey sseCustomerKeyMD5 blockPublicAccess skipPolicySetup versioning maxPreviousDeploymentArtifacts tags", ""))
		path = joinPath(path, "name")
		at = v.get("name")
		name, _ = b.str(at, path)
		if at.isNull() {
			b.deployf(v, path, "deploymentBucket.name is required when deploymentBucket is a mapping")
		}
	default:
		at = v
		name, _ = b.str(v, path)
	}
	if provider == "tencent" {
		if v := pv.get("cosBucket"); !v.isNull() {
			if name != "" {
				b.deployf(v, "provider.cosBucket", "give provider.deploymentBucket or provider.cosBucket, not both")
			} else {
				at, path = v, "provider.cosBucket"
				name, _ = b.str(v, path)
				if strings.EqualFold(name, "DEFAULT") {
					// The serverless-tencent-scf plugin's default: its own
					// bucket, sls-cloudfunction-{region}.
					name = ""
				}
			}
		}
	}
	if name != "" && !bucketNameRE.MatchString(name) {
		b.deployf(at, path, "bucket name %q is not 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit", name)
	}
	return name
}

// layers reads the top-level layers: mapping.
func (b *builder) layers(v *value, provider string) []Layer {
	if v.isNull() {
		return nil
	}
	if v.kind != kindMap {
		b.schemaf(v, "layers", "must be a mapping of layer names to layers (path, name, ...), not %s", describe(v))
		return nil
	}
	var out []Layer
	for i, key := range v.keys {
		lv, path := v.items[i], joinPath("layers", key)
		if !layerKeyRE.MatchString(key) {
			b.schemaf(lv, path, "layer key %q may only hold letters, digits, - and _", key)
		}
		if lv.kind != kindMap {
			b.schemaf(lv, path, "must be a mapping (path, name, description, compatibleRuntimes), not %s", describe(lv))
			continue
		}
		b.checkKeys(lv, path, layerKeys)
		l := Layer{Key: key, Name: key, LogicalID: LayerLogicalID(key)}
		if n, ok := b.str(lv.get("name"), joinPath(path, "name")); ok && n != "" {
			l.Name = n
		}
		nameRE, rule := awsLayerNameRE, "1-140 letters, digits, - and _"
		if provider == "tencent" {
			nameRE, rule = scfLayerNameRE, "1-64 letters, digits, - and _, starting with a letter and ending with a letter or digit"
		}
		if !nameRE.MatchString(l.Name) {
			at := lv.get("name")
			if at == nil {
				at = lv
			}
			b.deployf(at, joinPath(path, "name"), "layer name %q is not %s", l.Name, rule)
		}
		// Relative to the service directory; like the Framework, a layer
		// may live beside it (../layers/x), shared by several services.
		l.Path, _ = b.str(lv.get("path"), joinPath(path, "path"))
		if lv.get("path").isNull() {
			b.fatalf(lv, joinPath(path, "path"), "path is required: the directory whose content is the layer")
		}
		l.Description, _ = b.str(lv.get("description"), joinPath(path, "description"))
		l.CompatibleRuntimes = b.strList(lv.get("compatibleRuntimes"), joinPath(path, "compatibleRuntimes"))
		out = append(out, l)
	}
	return out
}

// functionLayers reads a function's layers: (or provider.layers for aws,
// which a function's own list replaces, as in the Framework).
func (b *builder) functionLayers(svc *Service, v *value, path string) []LayerUse {
	if v.isNull() {
		return nil
	}
	if v.kind != kindList {
		b.schemaf(v, path, "must be a list of layers, not %s", describe(v))
		return nil
	}
	if len(v.items) > MaxLayers {
		b.deployf(v, path, "%d layers: a function may use at most %d", len(v.items), MaxLayers)
	}
	out := make([]LayerUse, 0, len(v.items))
	for i, it := range v.items {
		p := joinPath(path, strconv.Itoa(i))
		var u LayerUse
		var ok bool
		if svc.Provider.Name == "tencent" {
			u, ok = b.scfLayerUse(svc, it, p)
		} else {
			u, ok = b.awsLayerUse(svc, it, p)
		}
		if ok {
			out = append(out, u)
		}
	}
	return out
}

// quietLayers reads provider.layers for one function; its problems are
// reported once (by the first function that inherits it).
func (b *builder) quietLayers(svc *Service, v *value) []LayerUse {
	saved := len(b.found)
	out := b.functionLayers(svc, v, "provider.layers")
	if len(svc.Functions) > 0 {
		b.found = b.found[:saved]
	}
	return out
}

func (b *builder) awsLayerUse(svc *Service, it *value, path string) (LayerUse, bool) {
	switch {
	case it.kind == kindString:
		if !layerARNRE.MatchString(it.str) {
			b.deployf(it, path, "%q is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)", it.str)
			return LayerUse{}, false
		}
		return LayerUse{ARN: it.str}, true
	case it.kind == kindMap && len(it.keys) == 1 && it.keys[0] == "Ref":
		ref, _ := b.str(it.get("Ref"), joinPath(path, "Ref"))
		for _, l := range svc.Layers {
			if l.LogicalID == ref {
				return LayerUse{Key: l.Key}, true
			}
		}
		b.deployf(it.get("Ref"), joinPath(path, "Ref"), "%q names no layer of this file (a layers: key K is referenced as {Ref: %s})", ref, LayerLogicalID("K"))
		return LayerUse{}, false
	}
	b.deployf(it, path, "must be a layer version ARN or {Ref: <Key>LambdaLayer}, not %s", describe(it))
	return LayerUse{}, false
}

func (b *builder) scfLayerUse(svc *Service, it *value, path string) (LayerUse, bool) {
	if it.kind != kindMap {
		b.deployf(it, path, "must be {name: LAYER, version: N} (SCF's form), not %s", describe(it))
		return LayerUse{}, false
	}
	b.checkKeys(it, path, rules("name version", "", ""))
	name, _ := b.str(it.get("name"), joinPath(path, "name"))
	if name == "" {
		b.deployf(it, joinPath(path, "name"), "name is required: the layer's name")
		return LayerUse{}, false
	}
	if it.get("version").isNull() {
		for _, l := range svc.Layers {
			if l.Key == name || l.Name == name {
				return LayerUse{Key: l.Key}, true
			}
		}
		b.deployf(it, joinPath(path, "version"), "version is required for layer %q, which this file does not publish (layers:)", name)
		return LayerUse{}, false
	}
	n, ok := b.integer(it.get("version"), joinPath(path, "version"))
	if !ok {
		return LayerUse{}, false
	}
	if n < 1 {
		b.deployf(it.get("version"), joinPath(path, "version"), "version %d: layer versions start at 1", n)
		return LayerUse{}, false
	}
	return LayerUse{Name: name, Version: n}, true
}

// String shows a layer use as written, for messages and plans.
func (u LayerUse) String() string {
	switch {
	case u.ARN != "":
		return u.ARN
	case u.Key != "":
		return "layers." + u.Key
	}
	return fmt.Sprintf("%s:%d", u.Name, u.Version)
}

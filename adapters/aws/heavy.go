package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/spec"
)

// Packages above Lambda's inline limit, and layers.
//
// Lambda takes a request of at most 69905067 bytes — a 50 MiB zip in
// base64 (Lambda quotas: 50 MB zipped for direct upload) — so a package
// whose base64 with the request around it would be larger is uploaded to S3
// and the function is created or updated from there (Code.S3Bucket/S3Key;
// 250 MB unzipped, layers included, either way). The bucket is
// provider.deploymentBucket, else one asyncfn creates per account and
// region, named deterministically (deploymentBucketName) and printed. Keys
// are content-addressed, so an unchanged package is not uploaded again.
//
// Top-level layers: are zipped from their path as packages are and
// published with PublishLayerVersion — unless the latest version already
// has the same code digest — once per deploy; functions get their layers'
// version ARNs in order.

const (
	// maxInlineRequest is Lambda's limit on a CreateFunction or
	// UpdateFunctionCode request: RequestEntityTooLargeException above it.
	maxInlineRequest = 69905067
	// requestOverhead is what a request carries besides the base64 zip.
	requestOverhead = 64 << 10
	// partSize is the multipart part size of a package upload.
	partSize = 16 << 20
)

// inline reports whether a zip of n bytes fits Lambda's inline request.
func inline(n int) bool { return base64.StdEncoding.EncodedLen(n)+requestOverhead <= maxInlineRequest }

// deploymentBucketName is the bucket asyncfn creates when the service names
// none: one per account and region, like the Serverless Framework's own
// (v4: serverless-framework-deployments-<region>-<id>), under asyncfn's name
// so that the two never share a bucket. S3 bucket names are global, so the
// account id is in it.
func deploymentBucketName(account, region string) string {
	return "asyncfn-deployments-" + region + "-" + account
}

// account is the AWS account id (STS GetCallerIdentity); against the
// emulator, which does not serve STS, the account its ARNs name.
func (p *Provider) account(ctx context.Context) (string, error) {
	if p.endpoint != "" {
		return "000000000000", nil
	}
	out, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", apiError("GetCallerIdentity", err)
	}
	return aws.ToString(out.Account), nil
}

// bucket returns the deployment bucket, creating asyncfn's own when the
// service names none and it does not exist yet.
func (p *Provider) bucket(ctx context.Context) (string, error) {
	p.mu.Lock()
	b := p.deployBucket
	p.mu.Unlock()
	if b != "" {
		return b, nil
	}
	if name := p.svc.Provider.DeploymentBucket; name != "" {
		if _, err := p.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
			return "", fmt.Errorf("aws: deployment bucket %s (provider.deploymentBucket in %s): %w", name, p.file(), apiError("HeadBucket", err))
		}
		b = name
	} else {
		account, err := p.account(ctx)
		if err != nil {
			return "", err
		}
		b = deploymentBucketName(account, p.region)
		_, err = p.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
		var nf *s3types.NotFound
		switch {
		case errors.As(err, &nf):
			in := &s3.CreateBucketInput{Bucket: aws.String(b)}
			if p.region != "us-east-1" { // us-east-1 takes no LocationConstraint (S3 API Reference, CreateBucket)
				in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.region)}
			}
			if _, err := p.s3.CreateBucket(ctx, in); err != nil {
				var owned *s3types.BucketAlreadyOwnedByYou
				if !errors.As(err, &owned) {
					return "", apiError("CreateBucket "+b, err)
				}
			}
			fmt.Fprintf(p.progress, "aws: created deployment bucket %s\n", b)
		case err != nil:
			return "", apiError("HeadBucket "+b, err)
		}
	}
	p.mu.Lock()
	p.deployBucket = b
	p.mu.Unlock()
	return b, nil
}

// upload puts a zip at bucket/key unless an object of its size is there
// already (keys are content-addressed), in parts with progress on stderr.
func (p *Provider) upload(ctx context.Context, bucket, key string, zip []byte) error {
	if h, err := p.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err == nil && aws.ToInt64(h.ContentLength) == int64(len(zip)) {
		fmt.Fprintf(p.progress, "aws: s3://%s/%s is already uploaded\n", bucket, key)
		return nil
	}
	mb := func(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	if len(zip) <= partSize {
		fmt.Fprintf(p.progress, "aws: uploading %s to s3://%s/%s\n", mb(len(zip)), bucket, key)
		_, err := p.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(zip), ContentType: aws.String("application/zip")})
		return apiError("PutObject s3://"+bucket+"/"+key, err)
	}
	up, err := p.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String("application/zip")})
	if err != nil {
		return apiError("CreateMultipartUpload s3://"+bucket+"/"+key, err)
	}
	abort := func(err error) error {
		_, _ = p.s3.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId})
		return err
	}
	var parts []s3types.CompletedPart
	for off, n := 0, int32(1); off < len(zip); n++ {
		end := min(off+partSize, len(zip))
		out, err := p.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(zip[off:end])})
		if err != nil {
			return abort(apiError("UploadPart s3://"+bucket+"/"+key, err))
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		off = end
		fmt.Fprintf(p.progress, "aws: uploading s3://%s/%s: %s of %s\n", bucket, key, mb(off), mb(len(zip)))
	}
	if _, err := p.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return abort(apiError("CompleteMultipartUpload s3://"+bucket+"/"+key, err))
	}
	return nil
}

// objectKey is where a zip goes in the deployment bucket: under the
// service and stage, named by its digest.
func (p *Provider) objectKey(kind, name string, zip []byte) string {
	sum := sha256.Sum256(zip)
	return strings.Join([]string{"asyncfn", p.svc.Name, p.svc.Stage, kind, name, hex.EncodeToString(sum[:]) + ".zip"}, "/")
}

// code is how a zip reaches Lambda: inline, or uploaded to S3 first.
type code struct {
	zip            []byte
	bucket, key    string // set when the zip went through S3
	objectLocation string // s3://bucket/key, for the output
}

func (p *Provider) stage(ctx context.Context, kind, name string, zip []byte) (code, error) {
	if inline(len(zip)) {
		return code{zip: zip}, nil
	}
	b, err := p.bucket(ctx)
	if err != nil {
		return code{}, err
	}
	key := p.objectKey(kind, name, zip)
	fmt.Fprintf(p.progress, "aws: the %s %s is %.1f MB, over Lambda's inline limit: deploying it through s3://%s/%s\n", kind, name, float64(len(zip))/1e6, b, key)
	if err := p.upload(ctx, b, key, zip); err != nil {
		return code{}, err
	}
	return code{bucket: b, key: key, objectLocation: "s3://" + b + "/" + key}, nil
}

func (c code) functionCode() *types.FunctionCode {
	if c.bucket != "" {
		return &types.FunctionCode{S3Bucket: aws.String(c.bucket), S3Key: aws.String(c.key)}
	}
	return &types.FunctionCode{ZipFile: c.zip}
}

func (c code) updateInput(name string) *lambda.UpdateFunctionCodeInput {
	in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name)}
	if c.bucket != "" {
		in.S3Bucket, in.S3Key = aws.String(c.bucket), aws.String(c.key)
	} else {
		in.ZipFile = c.zip
	}
	return in
}

// layerARNs resolves a function's layers: ARNs as written, this service's
// layers as the version deploy publishes (publishing them once).
func (p *Provider) layerARNs(ctx context.Context, fn spec.Function) ([]string, error) {
	if len(fn.Layers) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(fn.Layers))
	for _, u := range fn.Layers {
		switch {
		case u.ARN != "":
			out = append(out, u.ARN)
		case u.Key != "":
			arn, err := p.publishLayer(ctx, u.Key)
			if err != nil {
				return nil, err
			}
			out = append(out, arn)
		default:
			return nil, fmt.Errorf("aws: %s: functions.%s.layers: %s is SCF's form; on aws give a layer version ARN or {Ref: <Key>LambdaLayer}", p.file(), fn.Name, u)
		}
	}
	return out, nil
}

// publishLayer publishes the service's layer key (once per provider) and
// returns its version ARN; the latest version is reused when its code is
// the same.
func (p *Provider) publishLayer(ctx context.Context, key string) (string, error) {
	p.mu.Lock()
	arn, done := p.layers[key]
	p.mu.Unlock()
	if done {
		return arn, nil
	}
	var l *spec.Layer
	for i := range p.svc.Layers {
		if p.svc.Layers[i].Key == key {
			l = &p.svc.Layers[i]
		}
	}
	if l == nil {
		return "", fmt.Errorf("aws: %s: no layer %q under layers:", p.file(), key)
	}
	dir := filepath.Join(p.svc.Dir, l.Path)
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		return "", fmt.Errorf("aws: %s: layers.%s.path %s: %w", p.file(), key, l.Path, err)
	}
	sum := sha256.Sum256(zip)
	digest := base64.StdEncoding.EncodeToString(sum[:])
	if latest, err := p.lambda.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String(l.Name), MaxItems: aws.Int32(1)}); err == nil && len(latest.LayerVersions) > 0 {
		v := latest.LayerVersions[0]
		got, err := p.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String(l.Name), VersionNumber: aws.Int64(v.Version)})
		if err == nil && got.Content != nil && aws.ToString(got.Content.CodeSha256) == digest && aws.ToString(got.Description) == l.Description {
			fmt.Fprintf(p.progress, "aws: layer %s is unchanged (version %d)\n", l.Name, v.Version)
			p.mu.Lock()
			p.layers[key] = aws.ToString(v.LayerVersionArn)
			p.mu.Unlock()
			return aws.ToString(v.LayerVersionArn), nil
		}
	}
	c, err := p.stage(ctx, "layer", l.Name, zip)
	if err != nil {
		return "", err
	}
	content := &types.LayerVersionContentInput{ZipFile: c.zip}
	if c.bucket != "" {
		content = &types.LayerVersionContentInput{S3Bucket: aws.String(c.bucket), S3Key: aws.String(c.key)}
	}
	runtimes := make([]types.Runtime, len(l.CompatibleRuntimes))
	for i, r := range l.CompatibleRuntimes {
		runtimes[i] = types.Runtime(r)
	}
	fmt.Fprintf(p.progress, "aws: publishing layer %s (%.1f MB)\n", l.Name, float64(len(zip))/1e6)
	out, err := p.lambda.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(l.Name), Content: content,
		Description: aws.String(l.Description), CompatibleRuntimes: runtimes})
	if err != nil {
		return "", apiError("PublishLayerVersion "+l.Name, err)
	}
	arn = aws.ToString(out.LayerVersionArn)
	fmt.Fprintf(p.progress, "aws: published %s\n", arn)
	p.mu.Lock()
	p.layers[key] = arn
	p.mu.Unlock()
	return arn, nil
}

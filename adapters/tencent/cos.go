package tencent

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"
	cosv5 "github.com/tencentyun/cos-go-sdk-v5"
)

// Large packages go through COS. SCF takes code inline as base64 of at most
// 20 MB ("ZipFile ... 要求将 zip 文件的内容转成 base64 编码，最大支持20M", SCF
// API, UpdateFunctionCode), i.e. a zip of at most 15 MiB; anything larger is
// uploaded to a COS bucket of the function's region and the function is
// created or updated from there (Code.CosBucketName / CosObjectName /
// CosBucketRegion), up to SCF's 500 MB unzipped with its layers.
//
// The bucket is the one serverless.yml names (provider.deploymentBucket or
// provider.cosBucket, with or without its -appid suffix), else
// asyncfn-deploy-<region>-<appid>, which the adapter creates on first use,
// one per account and region. Objects are keyed by content,
// asyncfn/<service>/<function>/<sha256>.zip, so an unchanged package is not
// uploaded again.
//
// Against an emulator endpoint (Options.Endpoint) COS is the emulator too:
// the SDK's BucketURL is the endpoint and Client.Host the bucket's COS host,
// which the emulator's COS front reads the bucket from (localemu/front/cos).

// maxInlineB64 is the longest base64 ZipFile SCF takes.
const maxInlineB64 = 20 << 20

// uploadPartMiB is the part size of the multipart upload of big packages.
const uploadPartMiB = 16

// inline reports whether a zip of n bytes is sent inline.
func inline(n int) bool { return base64.StdEncoding.EncodedLen(n) <= maxInlineB64 }

// cosObject is where a package was uploaded.
type cosObject struct {
	Bucket string // the bucket's own part, as SCF's CosBucketName takes it
	AppID  string
	Key    string
}

func (o cosObject) full() string { return o.Bucket + "-" + o.AppID }

// code returns the scf.Code of a package: inline, or uploaded to COS first.
func (p *Provider) code(ctx context.Context, fnName string, zip []byte, sha string) (*scf.Code, error) {
	if inline(len(zip)) {
		return &scf.Code{ZipFile: ptr(base64.StdEncoding.EncodeToString(zip))}, nil
	}
	obj, err := p.upload(ctx, fnName, zip, sha)
	if err != nil {
		return nil, err
	}
	return &scf.Code{CosBucketName: ptr(obj.Bucket), CosObjectName: ptr("/" + obj.Key), CosBucketRegion: ptr(p.region)}, nil
}

// bucketNameRE: a COS bucket's own part (COS docs, "Bucket Overview").
var bucketNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

// deploymentBucket is the bucket packages go to: its own part and appid.
func (p *Provider) deploymentBucket(ctx context.Context) (name, appID string, err error) {
	configured := ""
	if p.svc != nil {
		configured = p.svc.Provider.DeploymentBucket
	}
	if m := regexp.MustCompile(`^(.+)-([0-9]+)$`).FindStringSubmatch(configured); m != nil && len(m[2]) >= 7 {
		return m[1], m[2], nil // given with its appid, as COS spells it
	}
	appID, err = p.appID(ctx)
	if err != nil {
		return "", "", err
	}
	name = configured
	if name == "" {
		name = "asyncfn-deploy-" + p.region
	}
	if !bucketNameRE.MatchString(name) {
		return "", "", fmt.Errorf("tencent: provider.deploymentBucket %q is not a COS bucket name: lowercase letters, digits and -, 1-50 characters, not starting or ending with -", name)
	}
	return name, appID, nil
}

// getUserAppIDRequest is CAM's GetUserAppId (CAM API 2019-01-16), which SDK
// v1.0.162 lacks: the account's appid, the suffix of its COS bucket names.
type getUserAppIDRequest struct{ *tchttp.BaseRequest }

type getUserAppIDResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		AppId     *uint64 `json:"AppId,omitempty"`
		RequestId *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

// appID asks CAM for the account's appid once per provider.
func (p *Provider) appID(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.appid != "" {
		return p.appid, nil
	}
	req := &getUserAppIDRequest{BaseRequest: &tchttp.BaseRequest{}}
	req.Init().WithApiInfo("cam", "2019-01-16", "GetUserAppId")
	resp := &getUserAppIDResponse{}
	if err := p.send(ctx, req, resp); err != nil {
		return "", fmt.Errorf("tencent: read the account's appid for the COS deployment bucket (or name it with its appid in provider.deploymentBucket): %w", err)
	}
	if resp.Response == nil || resp.Response.AppId == nil {
		return "", errors.New("tencent: GetUserAppId answered no AppId")
	}
	p.appid = strconv.FormatUint(*resp.Response.AppId, 10)
	return p.appid, nil
}

// cosClient is a COS client for one bucket in the provider's region.
func (p *Provider) cosClient(bucket string) (*cosv5.Client, error) {
	host := bucket + ".cos." + p.region + ".myqcloud.com"
	auth := &cosv5.AuthorizationTransport{SecretID: p.cred.SecretId, SecretKey: p.cred.SecretKey, SessionToken: p.cred.Token}
	if ep := p.profile.HttpProfile.Endpoint; ep != "" {
		// The emulator (or any endpoint override): COS at the same address,
		// the bucket named by the Host header.
		u, err := url.Parse(strings.ToLower(p.profile.HttpProfile.Scheme) + "://" + ep)
		if err != nil {
			return nil, fmt.Errorf("tencent: COS endpoint: %w", err)
		}
		c := cosv5.NewClient(&cosv5.BaseURL{BucketURL: u}, &http.Client{Transport: auth})
		c.Host = host
		return c, nil
	}
	u, err := url.Parse("https://" + host)
	if err != nil {
		return nil, err
	}
	return cosv5.NewClient(&cosv5.BaseURL{BucketURL: u}, &http.Client{Transport: auth}), nil
}

// upload puts a package into the deployment bucket (creating the default
// bucket if needed) unless the same content is there already.
func (p *Provider) upload(ctx context.Context, fnName string, zip []byte, sha string) (cosObject, error) {
	name, appID, err := p.deploymentBucket(ctx)
	if err != nil {
		return cosObject{}, err
	}
	service := "service"
	if p.svc != nil && p.svc.Name != "" {
		service = p.svc.Name
	}
	obj := cosObject{Bucket: name, AppID: appID, Key: "asyncfn/" + service + "/" + fnName + "/" + sha + ".zip"}
	c, err := p.cosClient(obj.full())
	if err != nil {
		return cosObject{}, err
	}
	if err := p.ensureBucket(ctx, c, obj.full()); err != nil {
		return cosObject{}, err
	}
	if _, err := c.Object.Head(ctx, obj.Key, nil); err == nil {
		fmt.Fprintf(p.progress, "tencent: %s: package unchanged in cos://%s/%s\n", fnName, obj.full(), obj.Key)
		return obj, nil
	} else if !cosv5.IsNotFoundError(err) {
		return cosObject{}, cosError("HEAD Object", obj.full(), obj.Key, err)
	}
	dir, err := os.MkdirTemp("", "asyncfn-upload-")
	if err != nil {
		return cosObject{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, fnName+".zip")
	if err := os.WriteFile(path, zip, 0o600); err != nil {
		return cosObject{}, err
	}
	fmt.Fprintf(p.progress, "tencent: %s: uploading %s package to cos://%s/%s (over SCF's %d MB inline limit)\n",
		fnName, sizeMB(int64(len(zip))), obj.full(), obj.Key, maxInlineB64>>20)
	listener := &uploadProgress{w: p.progress, name: fnName}
	_, _, err = c.Object.Upload(ctx, obj.Key, path, &cosv5.MultiUploadOptions{
		PartSize: uploadPartMiB, ThreadPoolSize: 2,
		OptIni: &cosv5.InitiateMultipartUploadOptions{ObjectPutHeaderOptions: &cosv5.ObjectPutHeaderOptions{
			ContentType: "application/zip", Listener: listener}},
	})
	if err != nil {
		return cosObject{}, cosError("upload", obj.full(), obj.Key, err)
	}
	return obj, nil
}

// ensureBucket creates the bucket when it does not exist.
func (p *Provider) ensureBucket(ctx context.Context, c *cosv5.Client, bucket string) error {
	_, err := c.Bucket.Head(ctx)
	if err == nil {
		return nil
	}
	if !cosv5.IsNotFoundError(err) {
		return cosError("HEAD Bucket", bucket, "", err)
	}
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		if e, ok := cosv5.IsCOSError(err); ok && e.Code == "BucketAlreadyOwnedByYou" {
			return nil
		}
		return cosError("PUT Bucket", bucket, "", err)
	}
	fmt.Fprintf(p.progress, "tencent: created the COS deployment bucket %s in %s\n", bucket, p.region)
	return nil
}

// cosError names the operation, bucket and key of a COS failure, keeping
// COS's code.
func cosError(op, bucket, key string, err error) error {
	where := "cos://" + bucket
	if key != "" {
		where += "/" + key
	}
	if e, ok := cosv5.IsCOSError(err); ok {
		return fmt.Errorf("tencent: COS %s %s: %s (%d): %s (RequestId %s)", op, where, e.Code, e.Response.StatusCode, e.Message, e.RequestID)
	}
	return fmt.Errorf("tencent: COS %s %s: %w", op, where, err)
}

// uploadProgress prints an upload's progress on the provider's progress
// writer, every 10%.
type uploadProgress struct {
	w    io.Writer
	name string
	next int64 // the next percentage to print
}

func (u *uploadProgress) ProgressChangedCallback(e *cosv5.ProgressEvent) {
	if e.TotalBytes <= 0 || e.EventType != cosv5.ProgressDataEvent {
		return
	}
	pct := e.ConsumedBytes * 100 / e.TotalBytes
	if pct < u.next && pct < 100 {
		return
	}
	u.next = pct/10*10 + 10
	fmt.Fprintf(u.w, "tencent: %s: uploaded %s of %s (%d%%)\n", u.name, sizeMB(e.ConsumedBytes), sizeMB(e.TotalBytes), pct)
}

func sizeMB(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
